/**
 * The ledger's own failures (issue #5), as classes so that callers can tell them apart: the
 * daemon retries a locked directory, the corrupt-DB recovery moves a corrupt one aside, and an
 * append after stop() is a programming error in the composition, not a disk fault.
 */

/** A stored record or metadata value that does not parse: the database holds something we did not write. */
export class LedgerCorruptError extends Error {
  override readonly name = "LedgerCorruptError";

  constructor(
    /** The seq of the bad entry, or undefined for a metadata key. */
    readonly seq: number | undefined,
    readonly reason: string,
    readonly dir: string,
  ) {
    super(
      seq === undefined
        ? `ledger ${dir} is corrupt: ${reason}`
        : `ledger ${dir} is corrupt at seq ${seq}: ${reason}`,
    );
  }
}

/** LevelDB's LOCK is held: another process (or another Ledger in this one) has the directory open. */
export class LedgerLockedError extends Error {
  override readonly name = "LedgerLockedError";

  constructor(
    readonly dir: string,
    options?: ErrorOptions,
  ) {
    super(
      `ledger directory ${dir} is locked by another process or instance (LEVEL_LOCKED); is another edgewarden or a ledger command using it?`,
      options,
    );
  }
}

/** The directory holds no ledger (readLedgerStats and the CLI never create one by accident). */
export class LedgerMissingError extends Error {
  override readonly name = "LedgerMissingError";

  constructor(
    readonly dir: string,
    options?: ErrorOptions,
  ) {
    super(`no ledger in ${dir}`, options);
  }
}

/** append() after stop() began, or before start() finished and then stop() came instead. */
export class LedgerClosedError extends Error {
  override readonly name = "LedgerClosedError";
}
