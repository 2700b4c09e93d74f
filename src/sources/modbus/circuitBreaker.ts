/**
 * Per-unit circuit breaker (issue #4 item 3, FAULTS 8.3 "Timeout: per-unit timeout; other units
 * keep their schedule; circuit-breaker for a dead unit"). On an RS-485 bus every timeout holds
 * the one wire for the whole timeout, so a dead slave polled at full rate would starve the live
 * ones. After `failureThreshold` consecutive cycles with no reply at all the breaker opens: the
 * unit's cycles are skipped until a retry time, which backs off exponentially with jitter up to
 * maxDelayMs. At the retry time one cycle runs as a probe (half-open): any reply closes the
 * breaker, silence reopens it with the next delay.
 *
 * "No reply" means timeouts and 0A/0B gateway exceptions only: an exception is a reply (the unit
 * is alive), and a lost connection is the link's to back off, not the unit's.
 */

export type BreakerState = "closed" | "open" | "half-open";

export interface BreakerOptions {
  readonly failureThreshold: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** [0, 1); injectable for tests. */
  readonly random?: () => number;
}

export class CircuitBreaker {
  readonly #options: BreakerOptions;
  #state: BreakerState = "closed";
  #failures = 0;
  #delayMs: number;
  #retryAt = 0;
  #opens = 0;

  constructor(options: BreakerOptions) {
    this.#options = options;
    this.#delayMs = options.initialDelayMs;
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** Monotonic ms when an open breaker lets the next probe through. */
  get retryAt(): number {
    return this.#retryAt;
  }

  /** Times the breaker opened (a metric). */
  get opens(): number {
    return this.#opens;
  }

  /** Whether a cycle may run at `now`; an open breaker whose delay is over lets one probe through. */
  allows(now: number): boolean {
    if (this.#state === "open" && now >= this.#retryAt) {
      this.#state = "half-open";
    }
    return this.#state !== "open";
  }

  /** The unit replied (data or an exception). */
  onReply(): void {
    this.#state = "closed";
    this.#failures = 0;
    this.#delayMs = this.#options.initialDelayMs;
  }

  /** A cycle ended with no reply at all. Returns true when this opened the breaker. */
  onSilence(now: number): boolean {
    this.#failures++;
    if (this.#state === "half-open") {
      this.#delayMs = Math.min(this.#delayMs * 2, this.#options.maxDelayMs);
      this.#open(now);
      return false;
    }
    if (this.#state === "closed" && this.#failures >= this.#options.failureThreshold) {
      this.#open(now);
      this.#opens++;
      return true;
    }
    return false;
  }

  #open(now: number): void {
    const random = this.#options.random ?? Math.random;
    // Jitter in [delay/2, delay]: units that died together do not probe in lockstep.
    this.#retryAt = now + this.#delayMs * (0.5 + 0.5 * random());
    this.#state = "open";
  }
}
