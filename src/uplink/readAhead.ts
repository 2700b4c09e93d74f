/**
 * The forwarder's read-ahead (issue #5): durable entries read from the ledger in one window and
 * not sent yet, and the next seq to read. A read that starts past that seq means retention removed
 * the records in between before they were published (the ledger's gap record says so upstream);
 * a hole inside a read cuts it there, so the next read meets the hole at its start.
 */
import type { LedgerEntry } from "../ledger/ledgerEntry.js";

export class ReadAhead {
  /** The next seq to read from the ledger (every seq before it was taken for a message). */
  nextSeq: number;
  #entries: readonly LedgerEntry[] = [];
  #index = 0;

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
    while (end < read.length && read[end]?.seq === this.nextSeq + end) {
      end++;
    }
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
