/**
 * When the group commit writes its next batch (issue #5 item 1; storage.commitInterval:
 * "appends are synced to disk at most this often").
 *
 * Synced batches start at most once per commit interval, measured from the start of the last
 * synced batch, not from the first record waiting. A record that arrives after a quiet interval
 * is therefore synced at once (on the next timer tick, so records appended in the same turn of
 * the event loop share its batch) instead of waiting a whole interval for nothing: at the rates
 * of a plant (tens of records per second) a record is durable in about one sync time, and the
 * number of fsyncs — what wears an SD card — is the same as with a fixed wait, since it stays at
 * most one per interval. Under a steady load above one record per interval the batches are
 * spaced by the interval, as before, and a record waits up to one interval for its sync; that
 * wait is the price of the wear bound (docs/architecture.md, "Durability and failures").
 *
 * A batch that carries only the acked cursor is written without sync and may wait the whole
 * interval: the cursor rides along with the next records if any come meanwhile.
 */
import type { Clock } from "../clock.js";

export class CommitTimer {
  readonly #intervalMs: number;
  readonly #clock: Clock;
  readonly #onDue: () => void;
  #timer: NodeJS.Timeout | undefined;
  /** Monotonic time the armed timer fires at. */
  #firesAt = Number.POSITIVE_INFINITY;
  #lastSyncStart = Number.NEGATIVE_INFINITY;
  /** The timer fired: what waits is committed as soon as the writer is free. */
  due = false;

  constructor(intervalMs: number, clock: Clock, onDue: () => void) {
    this.#intervalMs = intervalMs;
    this.#clock = clock;
    this.#onDue = onDue;
  }

  /** A synced batch starts being written now: the next one may start an interval later. */
  syncStarted(): void {
    this.#lastSyncStart = this.#clock.monotonicNow();
  }

  /**
   * Work waits: make sure the timer fires in time for it. Entries (records, gaps) may go as soon
   * as an interval has passed since the last synced batch began; a cursor alone waits an interval.
   */
  arm(entriesWait: boolean): void {
    if (this.due) {
      return;
    }
    const now = this.#clock.monotonicNow();
    const delay = entriesWait ? Math.max(0, this.#lastSyncStart + this.#intervalMs - now) : this.#intervalMs;
    if (this.#timer !== undefined && this.#firesAt <= now + delay) {
      return;
    }
    this.clear();
    this.#firesAt = now + delay;
    this.#timer = setTimeout(() => this.#fire(), delay);
  }

  clear(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#firesAt = Number.POSITIVE_INFINITY;
    }
  }

  #fire(): void {
    this.#timer = undefined;
    this.#firesAt = Number.POSITIVE_INFINITY;
    this.due = true;
    this.#onDue();
  }
}
