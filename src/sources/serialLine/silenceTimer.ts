/**
 * "No line for staleAfter ms" as one timer (serial-line `staleAfter`; FAULTS 8.4 "unplugged with
 * no event until a write": a port that stays open but goes silent is only noticed by an
 * inactivity timeout). Elapsed time is read from the injectable monotonic clock (FAULTS 8.5), never
 * wall time, and a busy line costs no timer churn: touch() only records the time, and the one
 * pending timer re-arms itself for the remainder when it fires early.
 */
import type { MonotonicClock } from "../deadband.js";

export class SilenceTimer {
  readonly #limitMs: number;
  readonly #clock: MonotonicClock;
  readonly #onSilent: (silentMs: number) => void;
  #lastAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #armed = false;

  /** onSilent runs once per silence: after it, nothing fires again until the next touch(). */
  constructor(limitMs: number, clock: MonotonicClock, onSilent: (silentMs: number) => void) {
    this.#limitMs = limitMs;
    this.#clock = clock;
    this.#onSilent = onSilent;
  }

  /** Something arrived (or watching begins): the silence is measured from now. */
  touch(): void {
    this.#lastAt = this.#clock.monotonicNow();
    this.#armed = true;
    if (this.#timer === undefined) {
      this.#schedule(this.#limitMs);
    }
  }

  /** Stop watching (port lost, source stopped); touch() starts again. */
  disarm(): void {
    this.#armed = false;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => this.#check(), Math.max(1, delayMs));
    // A stopped daemon must not be held open by a staleness check; stop() clears it anyway.
    this.#timer.unref();
  }

  #check(): void {
    this.#timer = undefined;
    if (!this.#armed) {
      return;
    }
    const silentMs = this.#clock.monotonicNow() - this.#lastAt;
    if (silentMs < this.#limitMs) {
      this.#schedule(this.#limitMs - silentMs);
      return;
    }
    this.#armed = false;
    this.#onSilent(silentMs);
  }
}
