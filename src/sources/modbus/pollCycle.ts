/**
 * One poll of one poll group of one device: the reads still to do, what each tag decoded to, and
 * whether the unit replied at all. The bus scheduler runs one read of a cycle at a time and
 * interleaves cycles of different units (fairness); the device poller decides what a result
 * means. A cycle is bounded: it holds at most one pending entry per planned read, and a re-plan
 * replaces the failed read with reads of the same tags, so it never grows past the tag count.
 */

import type { DecodedValue } from "./decodeResult.js";
import type { PlannedRead } from "./requestPlanner.js";

export interface PendingRead {
  readonly read: PlannedRead;
  /** Sends so far, for `retries` (timeouts, invalid replies). */
  attempts: number;
  /** Exception 05/06 replies so far, for `busyRetries`. */
  busyAttempts: number;
  /** Monotonic ms before which it must not be sent (busy retry delay). */
  notBefore: number;
  /**
   * This read is a liveness probe (the first tag of `probeFor` alone) sent because probeFor, a
   * multi-tag read, timed out while the unit had not replied lately: a reply means the unit is
   * alive and probeFor was too large; silence means the unit is down.
   */
  readonly probeFor?: PlannedRead;
}

export class PollCycle {
  readonly device: string;
  readonly group: string;
  readonly startedAt: number;
  readonly #queue: PendingRead[];
  readonly results = new Map<string, DecodedValue>();
  /** The unit answered something this cycle (data or a non-gateway exception). */
  replied = false;
  /** The link was down: the cycle says nothing about the unit (its breaker is left alone). */
  disconnected = false;
  reads = 0;

  constructor(device: string, group: string, reads: readonly PlannedRead[], startedAt: number) {
    this.device = device;
    this.group = group;
    this.startedAt = startedAt;
    this.#queue = reads.map((read) => ({ read, attempts: 0, busyAttempts: 0, notBefore: startedAt }));
  }

  get done(): boolean {
    return this.#queue.length === 0;
  }

  /** The first read that may go out at `now`, taken off the queue. */
  take(now: number): PendingRead | undefined {
    const index = this.#queue.findIndex((pending) => pending.notBefore <= now);
    return index < 0 ? undefined : this.#queue.splice(index, 1)[0];
  }

  /** When the earliest waiting read may go (Infinity when none wait). */
  get nextReadyAt(): number {
    return this.#queue.reduce(
      (soonest, pending) => Math.min(soonest, pending.notBefore),
      Number.POSITIVE_INFINITY,
    );
  }

  /** Puts reads back at the front: a retry, a re-plan or a probe goes before the rest. */
  pushFront(...pending: PendingRead[]): void {
    this.#queue.unshift(...pending);
  }

  /** Marks every tag of `read` with `value`. */
  settle(read: PlannedRead, value: DecodedValue): void {
    for (const tag of read.tags) {
      this.results.set(tag.name, value);
    }
  }

  /** Gives up on every read still queued: their tags get `value` (the unit is silent or the link is down). */
  abandonRest(value: DecodedValue): void {
    for (const pending of this.#queue.splice(0)) {
      this.settle(pending.read, value);
    }
  }
}
