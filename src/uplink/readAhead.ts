/**
 * The forwarder's read-ahead (issue #5): durable entries read from the ledger in one window and
 * not sent yet, and the next seq to read. A read that starts past that seq means retention removed
 * the records in between before they were published (the ledger's gap record says so upstream);
 * a hole inside a read cuts it there, so the next read meets the hole at its start.
 *
 * Bounded in entries (MAX_READ_AHEAD) and in bytes (READ_AHEAD_BYTES, #5 Outage: RSS within 20%
 * during a drain): the next read asks for as many entries as fit in the byte bound at the
 * average size of the last read's entries, so a window of large batches does not read megabytes
 * ahead. At least one entry is always read.
 */
import type { LedgerEntry } from "../ledger/ledgerEntry.js";

/** Upper bound of one read in entries, whatever window × batch.maxRecords comes to. */
export const MAX_READ_AHEAD = 8192;
/** Upper bound of one read's entry texts (UTF-16 units; one byte each for ASCII entry texts in V8). */
export const READ_AHEAD_BYTES = 1024 * 1024;

export class ReadAhead {
  /** The next seq to read from the ledger (every seq before it was taken for a message). */
  nextSeq: number;
  #entries: readonly LedgerEntry[] = [];
  #index = 0;
  /** Average entry text length of the last read; 0 before the first. */
  #averageLength = 0;

  constructor(nextSeq: number) {
    this.nextSeq = nextSeq;
  }

  get exhausted(): boolean {
    return this.#index >= this.#entries.length;
  }

  /** The entries left, and where the next message starts in them (for planMessage). */
  get entries(): readonly LedgerEntry[] {
    return this.#entries;
  }

  get index(): number {
    return this.#index;
  }

  /** Entries to ask for next: `wanted`, within MAX_READ_AHEAD and READ_AHEAD_BYTES. */
  readSize(wanted: number): number {
    const byBytes =
      this.#averageLength > 0 ? Math.floor(READ_AHEAD_BYTES / this.#averageLength) : Number.POSITIVE_INFINITY;
    return Math.max(1, Math.min(wanted, MAX_READ_AHEAD, byBytes));
  }

  /**
   * Takes a read's result; returns the range retention removed before it, if any. Empty reads
   * leave everything as it is.
   */
  fill(read: readonly LedgerEntry[]): { readonly fromSeq: number; readonly toSeq: number } | undefined {
    const first = read[0];
    if (first === undefined) {
      return undefined;
    }
    let removed: { fromSeq: number; toSeq: number } | undefined;
    if (first.seq > this.nextSeq) {
      removed = { fromSeq: this.nextSeq, toSeq: first.seq - 1 };
      this.nextSeq = first.seq;
    }
    let end = 0;
    let length = 0;
    for (let entry = read[0]; entry !== undefined && entry.seq === this.nextSeq + end; entry = read[end]) {
      length += entry.text.length;
      end++;
    }
    this.#averageLength = length / end;
    this.#entries = end === read.length ? read : read.slice(0, end);
    this.#index = 0;
    return removed;
  }

  /** Marks `count` entries from index() on as taken for a message. */
  consume(count: number): void {
    this.#index += count;
    this.nextSeq += count;
    if (this.exhausted) {
      this.#entries = []; // let the read's array go while its messages are in flight
      this.#index = 0;
    }
  }
}
