/**
 * Appends keyed checkpoints to the ledger (issue #5 item 4; storage.checkpoints in the config):
 * every `everyRecords` durable entries, or every `intervalMs` when anything was appended since
 * the last checkpoint, a checkpoint entry over the latest durable entry (checkpoint.ts), signed
 * with the key ring's active key id. Published on the checkpoints stream like any entry, so a
 * rewrite of the local chain is caught against what upstream received.
 *
 * Never a checkpoint over nothing new: the checkpointer's own entries do not count as new, so an
 * idle gateway writes no checkpoint after its last one. At most one append is in flight; a
 * trigger while it is pending is re-evaluated when it settles. A failed append (disk full, shed
 * by the degraded buffer, the ledger stopping) is counted and logged, never thrown: the next
 * trigger tries again over the newer head.
 */
import type { Clock } from "../clock.js";
import type { Component } from "../daemon/component.js";
import type { Logger } from "../observability/logger.js";
import { type CheckpointKeys, checkpointFields } from "./checkpoint.js";
import type { LedgerAppender, LedgerReader } from "./ledgerPorts.js";

export interface CheckpointerOptions {
  /** Checkpoint after this many new entries (storage.checkpoints.everyRecords). */
  readonly everyRecords: number;
  /** ...or this long after the last checkpoint if anything is new (storage.checkpoints.interval). */
  readonly intervalMs: number;
}

export interface CheckpointerDeps {
  readonly ledger: LedgerAppender & LedgerReader;
  readonly keys: CheckpointKeys;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface CheckpointerCounters {
  /** Checkpoints appended (durable) since start. */
  readonly written: number;
  /** Checkpoint appends that failed since start. */
  readonly failed: number;
  /** Interval timer firings since start (whether or not they wrote). */
  readonly ticks: number;
}

export class Checkpointer implements Component {
  readonly name = "checkpointer";
  readonly #options: CheckpointerOptions;
  readonly #deps: CheckpointerDeps;
  #running = false;
  #unsubscribe: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  /** The seq the last checkpoint vouched for (at start: the durable head then). */
  #lastOfSeq = 0;
  /** The seq of the last checkpoint entry itself, which is not "new" for the next one. */
  #lastOwnSeq = 0;
  #lastAtMs = 0;
  #written = 0;
  #failed = 0;
  #ticks = 0;

  constructor(options: CheckpointerOptions, deps: CheckpointerDeps) {
    if (!Number.isSafeInteger(options.everyRecords) || options.everyRecords < 1) {
      throw new RangeError(
        `checkpoints.everyRecords must be a positive integer, got ${options.everyRecords}`,
      );
    }
    if (!(options.intervalMs > 0)) {
      throw new RangeError(`checkpoints.interval must be positive, got ${options.intervalMs} ms`);
    }
    this.#options = options;
    this.#deps = deps;
  }

  get counters(): CheckpointerCounters {
    return { written: this.#written, failed: this.#failed, ticks: this.#ticks };
  }

  start(signal: AbortSignal): Promise<void> {
    try {
      signal.throwIfAborted();
      // Fails the start clearly for a key ring that cannot sign (an exported device key file).
      this.#deps.keys.checkpointKey(this.#deps.keys.activeKeyId()).fill(0);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#running = true;
    // What was stored before this start is covered by the first checkpoint over a newer entry.
    this.#lastOfSeq = this.#deps.ledger.durableSeq();
    this.#lastAtMs = this.#deps.clock.monotonicNow();
    this.#unsubscribe = this.#deps.ledger.onDurable(() => this.#maybeCheckpoint(false));
    this.#arm();
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
  }

  /** Durable entries since the last checkpoint, not counting that checkpoint itself. */
  #newEntries(): number {
    const durable = this.#deps.ledger.durableSeq();
    const own = this.#lastOwnSeq > this.#lastOfSeq && this.#lastOwnSeq <= durable ? 1 : 0;
    return Math.max(0, durable - this.#lastOfSeq - own);
  }

  #maybeCheckpoint(timerFired: boolean): void {
    if (!this.#running || this.#inFlight !== undefined) {
      return;
    }
    const fresh = this.#newEntries();
    if (fresh >= this.#options.everyRecords || (timerFired && fresh > 0)) {
      this.#inFlight = this.#checkpoint().then((written) => {
        this.#inFlight = undefined;
        this.#arm();
        // Entries that became durable while it was in flight may already be due; after a
        // failure only the timer retries, so a failing disk cannot turn this into a busy loop.
        if (written) {
          this.#maybeCheckpoint(false);
        }
      });
    } else if (timerFired) {
      this.#lastAtMs = this.#deps.clock.monotonicNow();
      this.#arm();
    }
  }

  /** Appends one checkpoint over the durable head; false (counted, logged) if that failed. */
  async #checkpoint(): Promise<boolean> {
    const { ledger, keys, clock, logger } = this.#deps;
    const ofSeq = ledger.durableSeq();
    try {
      const [entry] = await ledger.read(ofSeq, 1);
      if (entry?.seq !== ofSeq) {
        throw new Error(`entry ${ofSeq} could not be read back (found ${entry?.seq ?? "none"})`);
      }
      const appended = await ledger.append(
        checkpointFields(keys, ofSeq, entry.hash, clock.wallNow(), clock.wallSynced()),
      );
      this.#lastOfSeq = ofSeq;
      this.#lastOwnSeq = appended.seq;
      this.#written++;
      return true;
    } catch (error) {
      this.#failed++;
      if (this.#running) {
        logger.warn(
          { err: error, ofSeq },
          "ledger: a checkpoint could not be appended; retrying at the next interval",
        );
      }
      return false;
    } finally {
      this.#lastAtMs = clock.monotonicNow();
    }
  }

  /** The interval timer, due intervalMs after the last checkpoint (or start); unref'd. */
  #arm(): void {
    clearTimeout(this.#timer);
    if (!this.#running) {
      return;
    }
    const due = this.#lastAtMs + this.#options.intervalMs - this.#deps.clock.monotonicNow();
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#ticks++;
        this.#maybeCheckpoint(true);
      },
      Math.max(0, due),
    );
    this.#timer.unref();
  }
}
