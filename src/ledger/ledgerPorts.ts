/**
 * What the rest of the gateway sees of the ledger (issue #5): appenders (sources, analytics, the
 * daemon's events) append; the uplink's forwarder reads from its acked cursor. Kept as interfaces
 * so the forwarder can be tested against the real Ledger or a recording one, and so ledger/ never
 * imports uplink/ (the forwarder depends on these, not the other way round).
 */
import type { EntryFields, LedgerEntry } from "./ledgerEntry.js";

export interface LedgerAppender {
  /**
   * Appends one record and resolves with its entry once it is durable (synced to disk by the
   * group commit). While the disk is failing the ledger degrades: the promise stays pending until
   * the record is on disk, and if the bounded degraded buffer sheds it, rejects with LedgerShedError.
   */
  append(fields: EntryFields): Promise<LedgerEntry>;
}

export interface LedgerReader {
  /** The highest durable seq (0 when the ledger is empty). Entries up to it can be read. */
  durableSeq(): number;
  /** The lowest seq still stored (retention removes from the front); durableSeq() + 1 when empty. */
  firstSeq(): number;
  /**
   * Records appended but not durable yet (waiting for, or in, a group commit): they take the seqs
   * after durableSeq(). The forwarder's drain at stop waits for them too (issue #7).
   */
  pendingRecords(): number;
  /** Every entry up to this seq was PUBACKed upstream (0: none). */
  ackedSeq(): number;
  /**
   * Up to `maxRecords` durable entries with seq >= fromSeq, in seq order, with no holes. If
   * retention removed fromSeq, the result starts at firstSeq() (the gap record that says so is
   * further on in the chain). Empty when fromSeq > durableSeq().
   */
  read(fromSeq: number, maxRecords: number): Promise<LedgerEntry[]>;
  /** Moves the acked cursor forward (never back) and persists it. */
  setAcked(seq: number): Promise<void>;
  /** Called after each group commit with the new durableSeq(). Returns an unsubscribe function. */
  onDurable(listener: (durableSeq: number) => void): () => void;
}

/** A record the degraded in-memory buffer had to drop; it is counted and reported as a gap. */
export class LedgerShedError extends Error {
  override readonly name = "LedgerShedError";
}
