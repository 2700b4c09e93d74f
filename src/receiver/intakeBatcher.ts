/**
 * Groups the intake's messages into batches for the store (issue #7 item 2): a batch goes when it
 * holds `maxMessages` or its first message has waited `maxDelayMs`, one batch at a time, in
 * arrival order, so that PUBACKs go out in the order the PUBLISHes came (MQTT 5 §4.6).
 *
 * What waits is bounded. A broker sends at most Receive Maximum unacknowledged messages, but
 * mosquitto 2.0 sends a resumed session's whole queue at once (up to its max_queued_messages), so
 * going past `expected` is counted and said once, not refused: refusing would leave those
 * messages unacknowledged on a live connection, where the broker never sends them again. Past
 * `capacity`, the hard bound, messages are shed (counted, not acked) and `onOverflow` asks for a
 * reconnect, after which the broker sends again everything not acknowledged.
 */
import type { Clock } from "../clock.js";
import type { IntakeMessage } from "./mqttIntake.js";

export interface BatcherSettings {
  readonly maxMessages: number;
  readonly maxDelayMs: number;
  /** Messages a broker that honours Receive Maximum can have us hold: past it, counted (`overExpected`). */
  readonly expected: number;
  /** Messages held at most (waiting and in the batch being stored); past it, shed. */
  readonly capacity: number;
}

export interface BatcherEvents {
  /** A batch failed to store: nothing of it was acked; the receiver must stop. */
  readonly onError: (error: unknown) => void;
  /** First message past `expected` since the last time the batcher was empty. */
  readonly onOverExpected: (held: number) => void;
  /** First message shed since the last time the batcher was empty. */
  readonly onOverflow: () => void;
}

export class IntakeBatcher {
  readonly #settings: BatcherSettings;
  readonly #clock: Clock;
  readonly #process: (batch: readonly IntakeMessage[]) => Promise<void>;
  readonly #events: BatcherEvents;
  #pending: IntakeMessage[] = [];
  #firstAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #inBatch = 0;
  #draining = false;
  #closed = false;
  #failed = false;
  #overExpected = false;
  #overflowing = false;
  /** Messages refused because `capacity` was reached. */
  shed = 0;
  /** Messages taken past `expected` (a broker over Receive Maximum). */
  overExpected = 0;
  batches = 0;

  constructor(
    settings: BatcherSettings,
    clock: Clock,
    process: (batch: readonly IntakeMessage[]) => Promise<void>,
    events: BatcherEvents,
  ) {
    this.#settings = settings;
    this.#clock = clock;
    this.#process = process;
    this.#events = events;
  }

  /** Takes a message; false when it was not taken (closed, or full: shed). */
  add(message: IntakeMessage): boolean {
    if (this.#closed || this.#failed) {
      return false;
    }
    const held = this.#pending.length + this.#inBatch;
    if (held >= this.#settings.capacity) {
      this.shed++;
      if (!this.#overflowing) {
        this.#overflowing = true;
        this.#events.onOverflow();
      }
      return false;
    }
    if (held >= this.#settings.expected) {
      this.overExpected++;
      if (!this.#overExpected) {
        this.#overExpected = true;
        this.#events.onOverExpected(held + 1);
      }
    }
    if (this.#pending.length === 0) {
      this.#firstAt = this.#clock.monotonicNow();
    }
    this.#pending.push(message);
    this.#kick();
    return true;
  }

  get waiting(): number {
    return this.#pending.length + this.#inBatch;
  }

  /** Takes no more messages, stores what it holds, and resolves when that is done. */
  async drain(): Promise<void> {
    this.#closed = true;
    this.#draining = true;
    this.#kick();
    while (this.#running !== undefined) {
      await this.#running;
    }
  }

  /** Takes no more and drops what waits (not acked: the broker keeps it). */
  discard(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = [];
  }

  #kick(): void {
    if (this.#running !== undefined || this.#pending.length === 0 || this.#failed) {
      return;
    }
    const waited = this.#clock.monotonicNow() - this.#firstAt;
    if (
      this.#draining ||
      this.#pending.length >= this.#settings.maxMessages ||
      waited >= this.#settings.maxDelayMs
    ) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#running = this.#runOne().finally(() => {
        this.#running = undefined;
        this.#kick();
      });
      return;
    }
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#kick();
      }, this.#settings.maxDelayMs - waited);
    }
  }

  async #runOne(): Promise<void> {
    const batch = this.#pending.splice(0, this.#settings.maxMessages);
    if (this.#pending.length > 0) {
      this.#firstAt = this.#clock.monotonicNow();
    }
    this.#inBatch = batch.length;
    try {
      await this.#process(batch);
      this.batches++;
    } catch (error) {
      // Nothing of this batch is acked; the service stops (exit 1) and the broker keeps it all.
      this.#failed = true;
      this.#pending = [];
      this.#events.onError(error);
    } finally {
      this.#inBatch = 0;
      if (this.#pending.length === 0) {
        this.#overExpected = false;
        this.#overflowing = false;
      }
    }
  }
}
