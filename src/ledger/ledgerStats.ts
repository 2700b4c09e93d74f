/**
 * What the ledger holds and has done (issue #5 item 4 `ledger stats`, item 7 metrics): the stored
 * figures, readable from a running Ledger or from a stopped daemon's directory, and the running
 * Ledger's counters since start.
 */
import {
  approximateEntryBytes,
  type LedgerDatabase,
  openLedgerDb,
  readEntries,
  readStoredState,
} from "./ledgerDb.js";

export interface StoredLedgerStats {
  /** Entries stored: lastSeq - firstSeq + 1 (seqs are gapless within the stored range). */
  readonly records: number;
  /** Lowest stored seq; lastSeq + 1 when empty. */
  readonly firstSeq: number;
  /** Highest durable seq (0 for a new ledger). */
  readonly lastSeq: number;
  /** Hash of the head entry, the prev of the next one. */
  readonly headHash: string;
  readonly ackedSeq: number;
  /** Entries not yet acked upstream: lastSeq - ackedSeq. */
  readonly backlogRecords: number;
  /** LevelDB's approximate file-system bytes of the entries (the latest writes may not be counted yet). */
  readonly approxBytes: number;
  /** ts of the first stored entry after the acked cursor, or null when everything is acked. */
  readonly oldestUnackedTs: number | null;
}

export interface LedgerCounters {
  /** Records appended (durable) since start. */
  readonly appended: number;
  /** Synced group-commit batches since start. */
  readonly commits: number;
  /** Records shed from the full append queue since start (each run of them is a gap entry). */
  readonly shed: number;
  /** Batches LevelDB refused since start (their records were retried). */
  readonly commitFailures: number;
  /** Entries deleted by retention since start. */
  readonly retentionDeleted: number;
  /** Of those, entries never acked upstream (each range is a gap entry). */
  readonly retentionLostUnacked: number;
  /** Records waiting for, or in, a group commit. */
  readonly pending: number;
}

export type LedgerStats = StoredLedgerStats & LedgerCounters;

export interface LedgerPosition {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly headHash: string;
  readonly ackedSeq: number;
}

/** The stored figures, given where the chain stands (from memory for a running Ledger). */
export async function storedStats(db: LedgerDatabase, at: LedgerPosition): Promise<StoredLedgerStats> {
  const firstUnacked = Math.max(at.ackedSeq + 1, at.firstSeq);
  const [approxBytes, unacked] = await Promise.all([
    approximateEntryBytes(db),
    readEntries(db, firstUnacked, at.lastSeq, 1),
  ]);
  return {
    records: Math.max(0, at.lastSeq - at.firstSeq + 1),
    firstSeq: at.firstSeq,
    lastSeq: at.lastSeq,
    headHash: at.headHash,
    ackedSeq: at.ackedSeq,
    backlogRecords: Math.max(0, at.lastSeq - at.ackedSeq),
    approxBytes,
    oldestUnackedTs: unacked[0]?.ts ?? null,
  };
}

/**
 * The stored figures of a ledger directory that no daemon has open (the `ledger stats` command).
 * Never creates a ledger; throws LedgerMissingError for a directory without one and
 * LedgerLockedError while a daemon holds it.
 */
export async function readLedgerStats(dir: string): Promise<StoredLedgerStats> {
  const db = await openLedgerDb(dir, { createIfMissing: false });
  try {
    const state = await readStoredState(db);
    return await storedStats(db, {
      firstSeq: state.firstSeq,
      lastSeq: state.headSeq,
      headHash: state.headHash,
      ackedSeq: state.ackedSeq,
    });
  } finally {
    await db.close();
  }
}
