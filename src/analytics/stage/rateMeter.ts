/**
 * A rate over the last minute, for the gateway's own workload (issue #6 item 2: the gateway
 * profile flags "sustained CPU with no matching workload"): samples or bytes per second. Twelve
 * 5-second buckets in a ring: constant memory, O(1) per add.
 */
const BUCKET_MS = 5_000;
const BUCKETS = 12;

export class RateMeter {
  readonly #counts = new Float64Array(BUCKETS);
  #bucket = Number.NaN;

  add(monotonicMs: number, amount = 1): void {
    this.#advance(monotonicMs);
    const index = this.#bucket % BUCKETS;
    this.#counts[index] = (this.#counts[index] as number) + amount;
  }

  perSecond(monotonicMs: number): number {
    this.#advance(monotonicMs);
    let total = 0;
    for (const count of this.#counts) {
      total += count;
    }
    return total / ((BUCKETS * BUCKET_MS) / 1_000);
  }

  #advance(monotonicMs: number): void {
    const bucket = Math.floor(monotonicMs / BUCKET_MS);
    if (Number.isNaN(this.#bucket)) {
      this.#bucket = bucket;
      return;
    }
    if (bucket <= this.#bucket) {
      return;
    }
    const steps = Math.min(bucket - this.#bucket, BUCKETS);
    for (let i = 1; i <= steps; i++) {
      this.#counts[(this.#bucket + i) % BUCKETS] = 0;
    }
    this.#bucket = bucket;
  }
}
