/**
 * Opening the ledger's database at start and at each reopen of the degraded mode (issue #5 item
 * 3). Three outcomes:
 *   - it opens, and its stored state (head, cursor) reads: done;
 *   - it is corrupt or not a ledger (ledgerDirCheck.ts before open; LEVEL_CORRUPTION at open; an
 *     unreadable stored state; at start, a read of the unacked part that LevelDB refuses): it is
 *     moved aside and a new segment is built (recoverDatabase.ts), which is then opened;
 *   - anything else (a read-only or full disk, a permission): the error is thrown, and the
 *     ledger degrades and tries again later. A held LOCK stays LedgerLockedError, as before.
 */
import type { Clock } from "../clock.js";
import type { Logger } from "../observability/logger.js";
import { type LedgerDatabase, openLedgerDb, readStoredState, type StoredState } from "./ledgerDb.js";
import { checkLedgerDirectory } from "./ledgerDirCheck.js";
import { LedgerCorruptError, LedgerLockedError } from "./ledgerErrors.js";
import { type RecoveryReport, recoverCorruptLedger } from "./recoverDatabase.js";
import { verifyLedgerDb } from "./verifyChain.js";

export interface OpenedLedger {
  readonly db: LedgerDatabase;
  readonly state: StoredState;
  /** Set when a corrupt database was moved aside and replaced on this open. */
  readonly recovery: RecoveryReport | undefined;
}

export interface OpenStorageOptions {
  readonly lockWaitMs: number;
  readonly signal: AbortSignal;
  /**
   * Read the entries still to be published before use (at start): LevelDB opens a database with
   * a damaged table and fails only when that table is read, which would otherwise be the
   * forwarder, forever. See startCheckFrom() for why the acked part is not read.
   */
  readonly startCheck: boolean;
}

interface Corruption {
  readonly reason: string;
  readonly leveldb: boolean;
}

/** The innermost cause (openLedgerDb wraps classic-level's error, which wraps LevelDB's status). */
function causeOf(error: unknown): { code: string | undefined; message: string } {
  let inner = error;
  while (inner instanceof Error && inner.cause instanceof Error) {
    inner = inner.cause;
  }
  const code = (inner as { code?: unknown } | undefined)?.code;
  return {
    code: typeof code === "string" ? code : undefined,
    message: inner instanceof Error ? inner.message : String(inner),
  };
}

/** A short reason for logs, health and events: LevelDB's own message where there is one. */
export function storageFailureReason(error: unknown): string {
  const { code, message } = causeOf(error);
  return code === undefined ? message : `${code}: ${message}`;
}

async function openChecked(dir: string, options: OpenStorageOptions, logger: Logger) {
  const found = await checkLedgerDirectory(dir);
  if (found.kind === "corrupt" || found.kind === "foreign") {
    return { corruption: { reason: found.reason, leveldb: found.kind === "corrupt" } };
  }
  let db: LedgerDatabase;
  try {
    db = await openLedgerDb(dir, {
      createIfMissing: true,
      lockWaitMs: options.lockWaitMs,
      signal: options.signal,
    });
  } catch (error) {
    if (!(error instanceof LedgerLockedError) && causeOf(error).code === "LEVEL_CORRUPTION") {
      return { corruption: { reason: `LevelDB cannot open it: ${causeOf(error).message}`, leveldb: true } };
    }
    throw error;
  }
  const corruption = await findCorruption(db, options, logger);
  if (corruption !== undefined) {
    await db.close();
    return { corruption };
  }
  return { db, state: await readStoredState(db) };
}

/**
 * Where the start check begins (issue #5): at the last acked entry, so that the walk covers what
 * the forwarder will read (ackedSeq + 1 to the head) and the link into it; the whole ledger when
 * nothing is acked. The acked part is not read, for three reasons:
 *   - nothing at the gateway reads it but retention (whose failures are logged and retried) and
 *     `ledger verify`; those records are upstream already;
 *   - a recovery keeps only the valid prefix up to the first damage (validPrefix.ts), so damage
 *     found in the acked part would move aside every readable unacked record after it, and lose
 *     them (a gap entry), to get rid of records that need nothing more;
 *   - the start then reads the backlog, not the whole history: on a 1 GiB ledger, seconds.
 * The first entry and the head are read in any case (readStoredState).
 */
function startCheckFrom(state: StoredState): number {
  return Math.max(state.firstSeq, state.ackedSeq);
}

async function findCorruption(
  db: LedgerDatabase,
  options: OpenStorageOptions,
  logger: Logger,
): Promise<Corruption | undefined> {
  try {
    const state = await readStoredState(db);
    if (!options.startCheck) {
      return undefined;
    }
    const fromSeq = startCheckFrom(state);
    const summary = await verifyLedgerDb(db, { fromSeq });
    // LevelDB's message comes with "unreadable", or with the hole it left ("missing").
    if (summary.firstBad?.reason === "unreadable" || summary.firstBad?.detail !== undefined) {
      return {
        reason: `LevelDB cannot read it at seq ${summary.firstBad.seq}: ${summary.firstBad.detail ?? ""}`,
        leveldb: true,
      };
    }
    if (!summary.ok) {
      // Altered, missing or reordered records are evidence, not storage damage: kept as they are
      // for `ledger verify` and upstream to see; the chain goes on after the stored head.
      logger.error(
        { dir: db.location, fromSeq, firstBad: summary.firstBad },
        "ledger: the unacked part of the stored chain does not verify; `edgewarden ledger verify` shows where",
      );
    }
    return undefined;
  } catch (error) {
    const { code } = causeOf(error);
    if (error instanceof LedgerCorruptError || code === "LEVEL_CORRUPTION" || code === "LEVEL_IO_ERROR") {
      return { reason: `its stored state cannot be read: ${storageFailureReason(error)}`, leveldb: true };
    }
    throw error;
  }
}

/** Opens the ledger in `dir`, replacing a corrupt one by a recovered segment (see the header). */
export async function openLedgerStorage(
  dir: string,
  options: OpenStorageOptions,
  deps: { readonly clock: Clock; readonly logger: Logger },
): Promise<OpenedLedger> {
  const first = await openChecked(dir, options, deps.logger);
  if (first.db !== undefined) {
    return { db: first.db, state: first.state, recovery: undefined };
  }
  options.signal.throwIfAborted();
  const recovery = await recoverCorruptLedger(dir, first.corruption.reason, first.corruption.leveldb, deps);
  const again = await openChecked(dir, { ...options, startCheck: false }, deps.logger);
  if (again.db === undefined) {
    throw new Error(`the ledger rebuilt in ${dir} is unreadable too: ${again.corruption.reason}`);
  }
  return { db: again.db, state: again.state, recovery };
}
