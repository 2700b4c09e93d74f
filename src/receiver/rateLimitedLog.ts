/**
 * Log lines for what the receiver refuses or finds wrong (issue #7 item 2: "gaps and tampering
 * become stored events and log lines"), at most `perMinute` a minute: a flood of forged or
 * replayed messages must not flood the journal. Every outcome is counted anyway (the counters);
 * lines held back are summed up in one line when the minute is over. Records and duplicates are
 * not logged one by one.
 */
import type { Clock } from "../clock.js";
import type { Logger } from "../observability/logger.js";
import type { ReceiverOutcome } from "./outcomes.js";

const WINDOW_MS = 60_000;

export class RateLimitedLog {
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #perMinute: number;
  #windowStart = Number.NEGATIVE_INFINITY;
  #logged = 0;
  #suppressed = 0;

  constructor(logger: Logger, clock: Clock, perMinute: number) {
    this.#logger = logger;
    this.#clock = clock;
    this.#perMinute = perMinute;
  }

  /** `by`: who found it ("core": the verification core, "store": the store, "audit": its chain auditor). */
  outcome(outcome: ReceiverOutcome, by: "core" | "store" | "audit"): void {
    const line = lineFor(outcome);
    if (line === undefined) {
      return;
    }
    const now = this.#clock.monotonicNow();
    if (now - this.#windowStart >= WINDOW_MS) {
      this.flush();
      this.#windowStart = now;
    }
    if (this.#logged >= this.#perMinute) {
      this.#suppressed++;
      return;
    }
    this.#logged++;
    const { type: _type, ...fields } = outcome;
    this.#logger[line.level]({ ...fields, by }, line.message);
  }

  /** Says how many lines were held back, if any, and starts counting again. */
  flush(): void {
    if (this.#suppressed > 0) {
      this.#logger.warn(
        { suppressed: this.#suppressed, perMinute: this.#perMinute },
        "receiver: more rejections, gaps or tampering than log.rejectionsPerMinute: the rest were counted, not logged",
      );
    }
    this.#logged = 0;
    this.#suppressed = 0;
  }
}

function lineFor(
  outcome: ReceiverOutcome,
): { level: "info" | "warn" | "error"; message: string } | undefined {
  switch (outcome.type) {
    case "accepted":
    case "duplicate":
    case "health":
      return undefined;
    case "tamper":
      return { level: "error", message: `receiver: tampering: ${outcome.reason}` };
    case "gap":
      return {
        level: outcome.state === "closed" ? "info" : "warn",
        message: `receiver: gap ${outcome.state}`,
      };
    case "rejected":
      // A broker redelivers what it sent before a reconnect: the nonce window catches it, and
      // it is normal, not an attack, unless it comes in numbers (the counter shows that).
      return {
        level: outcome.reason === "replay-duplicate" ? "info" : "warn",
        message: `receiver: rejected: ${outcome.reason}`,
      };
  }
}
