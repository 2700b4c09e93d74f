/**
 * The forwarder's view of the acked cursor (issue #5: "advances the acked cursor over the
 * contiguous PUBACKed prefix"). The cursor moves in memory on every PUBACK; the ledger stores it
 * with one setAcked at a time, each carrying the newest value, so a burst of PUBACKs costs one
 * write per write latency rather than one write per PUBACK. A crash between PUBACK and store
 * re-sends what the stored cursor does not cover: at most one window, as after a reconnect.
 */
import type { LedgerReader } from "../ledger/ledgerPorts.js";
import type { Logger } from "../observability/logger.js";

export class AckedCursor {
  readonly #reader: Pick<LedgerReader, "ackedSeq" | "setAcked">;
  readonly #logger: Logger;
  readonly #listeners = new Set<(ackedSeq: number) => void>();
  #acked = 0;
  #persisted = 0;
  #persisting: Promise<void> | undefined;
  #closed = false;

  constructor(reader: Pick<LedgerReader, "ackedSeq" | "setAcked">, logger: Logger) {
    this.#reader = reader;
    this.#logger = logger;
  }

  /** Takes the stored cursor as the starting point (start, and each new connection). */
  load(): number {
    this.#closed = false;
    const stored = this.#reader.ackedSeq();
    this.#persisted = Math.max(this.#persisted, stored);
    this.#acked = Math.max(this.#acked, stored);
    return this.#acked;
  }

  /** Every record up to here was PUBACKed or dead-lettered. */
  get value(): number {
    return this.#acked;
  }

  advanceTo(seq: number): void {
    if (seq <= this.#acked) {
      return;
    }
    this.#acked = seq;
    this.#persist();
    for (const listener of this.#listeners) {
      listener(seq);
    }
  }

  onAdvance(listener: (ackedSeq: number) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Waits for the store under way, then stores the newest value if it is still ahead. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#persisting;
    if (this.#acked > this.#persisted) {
      await this.#store(this.#acked);
    }
  }

  #persist(): void {
    if (this.#persisting !== undefined || this.#acked <= this.#persisted || this.#closed) {
      return;
    }
    this.#persisting = this.#store(this.#acked).then((stored) => {
      this.#persisting = undefined;
      // After a failure the next PUBACK tries again: no retry loop against a failing disk.
      if (stored) {
        this.#persist();
      }
    });
  }

  async #store(target: number): Promise<boolean> {
    try {
      await this.#reader.setAcked(target);
      this.#persisted = Math.max(this.#persisted, target);
      return true;
    } catch (error) {
      this.#logger.error({ err: error, ackedSeq: target }, "uplink: storing the acked cursor failed");
      return false;
    }
  }
}
