/**
 * Delays between connection attempts (issue #5; FAULTS 8.1 "backoff grows with jitter"): the
 * first is `initialDelay`, each next one doubles, capped at `maxDelay`, and each is drawn
 * uniformly from [delay / 2, delay] so that a plant's gateways do not all reconnect in step after
 * a broker restart, while no delay collapses to zero. The count restarts only after a connection
 * that lasted `stableAfterMs`: a broker that accepts and then drops us at once (a client id used
 * twice, an ACL that disconnects) must not be hammered at the initial delay forever.
 */
export interface BackoffSettings {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

/** A connection that lived this long was a real one: the next failure starts from initialDelay again. */
export const STABLE_CONNECTION_MS = 10_000;

export class ReconnectBackoff {
  readonly #settings: BackoffSettings;
  readonly #random: () => number;
  #attempt = 0;

  constructor(settings: BackoffSettings, random: () => number = Math.random) {
    this.#settings = settings;
    this.#random = random;
  }

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const { initialDelayMs, maxDelayMs } = this.#settings;
    // 2^30 already exceeds any configured cap; stop growing the exponent so it never overflows.
    const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(ceiling / 2 + (this.#random() * ceiling) / 2);
  }

  /** After a connection that lasted: the next delay is initialDelay again. */
  reset(): void {
    this.#attempt = 0;
  }

  get attempts(): number {
    return this.#attempt;
  }
}
