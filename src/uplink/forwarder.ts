/**
 * The forwarder (issue #5, item 6): from the ledger's acked cursor to the broker, in seq order.
 *
 * - Reads durable entries from ackedSeq() + 1 in windows (LedgerReader.read) and hands them to
 *   the connection's ForwardingRun (forwarderRun.ts), which seals and publishes QoS 1 with at most
 *   `window` messages beyond the acked cursor and, on each PUBACK, moves the cursor over the
 *   contiguous PUBACKed prefix only (setAcked).
 * - Idle, it waits for onDurable (the ledger's group commit) or a PUBACK: no polling.
 * - Nothing is published without an open Connection; on a disconnect the run is dropped whole
 *   and the next connection resumes from the cursor, so one reconnect re-sends at most one window
 *   (counted as duplicatesRisked). After a restart it resumes from the persisted cursor.
 * - A record that can never go out becomes a dead letter (deadLetters.ts) and counts as done only
 *   once that entry is durable; a PUBACK failure code is retried or dead-lettered (pubackPolicy.ts).
 * - Memory: per connection, the in-flight window and one read-ahead, bounded in entries and in
 *   bytes (readAhead.ts).
 * - A stop while connected first drains (issue #7, stopDrain.ts): publishing goes on until what
 *   the ledger has appended so far is acknowledged, within uplink.drainOnStop and half of this
 *   step's share of gateway.stopTimeout; one log line says what was drained and what is left.
 */
import type { Clock } from "../clock.js";
import type { KeyRing } from "../crypto/keys/index.js";
import type { Component } from "../daemon/component.js";
import type { LedgerAppender, LedgerReader } from "../ledger/ledgerPorts.js";
import type { Logger } from "../observability/logger.js";
import { AckedCursor } from "./ackedCursor.js";
import { DeadLetters } from "./deadLetters.js";
import { ForwardingRun, type RunContext, type RunSettings } from "./forwarderRun.js";
import { ForwarderCounters, type ForwarderStats } from "./forwarderStats.js";
import type { Connection, ConnectionListener, MqttSession } from "./mqttSession.js";
import { createSealer, type Encryption } from "./sealRecord.js";
import { StopDrain } from "./stopDrain.js";

/** After a failed read (a closing or failing ledger), try again after this long. */
export const READ_RETRY_MS = 1_000;

/**
 * The part of its stop budget the forwarder may spend draining (issue #7): the rest is for ending
 * the run and storing the acked cursor, which waits for the ledger's next commit.
 */
export const DRAIN_SHARE_OF_STOP = 0.5;

export interface ForwarderSettings extends RunSettings {
  readonly gateway: string;
  readonly encryption: Encryption;
  /** The gateway key ring; required for ascon-aead128. Sealed under its activeKeyId(). */
  readonly keyRing?: KeyRing | undefined;
  /** uplink.drainOnStop: the longest drain at a stop while connected (issue #7). Absent or 0: none. */
  readonly drainOnStopMs?: number | undefined;
}

export interface ForwarderDependencies {
  readonly reader: LedgerReader;
  readonly appender: LedgerAppender;
  readonly session: Pick<MqttSession, "onConnection" | "current">;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class Forwarder implements Component {
  readonly name = "uplink-forwarder";
  readonly #settings: ForwarderSettings;
  readonly #reader: LedgerReader;
  readonly #session: ForwarderDependencies["session"];
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #deadLetters: DeadLetters;
  readonly #counters: ForwarderCounters;
  readonly #cursor: AckedCursor;
  readonly #drain: StopDrain;
  #context: RunContext | undefined;
  #unsubscribe: (() => void)[] = [];
  #run: ForwardingRun | undefined;
  #stopped = true;
  #draining: Promise<void> | undefined;
  #pumping: Promise<void> | undefined;
  #again = false;
  #refill: NodeJS.Immediate | undefined;
  #readRetry: NodeJS.Timeout | undefined;
  #connections = 0;

  constructor(settings: ForwarderSettings, deps: ForwarderDependencies) {
    this.#settings = settings;
    this.#reader = deps.reader;
    this.#session = deps.session;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#deadLetters = new DeadLetters(deps.appender, deps.clock, this.#logger);
    this.#counters = new ForwarderCounters(deps.clock);
    this.#cursor = new AckedCursor(deps.reader, this.#logger);
    this.#drain = new StopDrain({
      reader: deps.reader,
      ackedSeq: () => this.#cursor.value,
      onAcked: (listener) => this.#cursor.onAdvance(() => listener()),
      connected: () => this.#run?.connection.open === true,
    });
  }

  start(_signal: AbortSignal): Promise<void> {
    // Sealing setup throws for a device key file where a gateway key file is needed: fail the start.
    const sealer = createSealer({
      encryption: this.#settings.encryption,
      gateway: this.#settings.gateway,
      keys: this.#settings.keyRing,
    });
    if (this.#settings.encryption === "none") {
      // DESIGN.md: publishing in clear is allowed only when configured, and warns at every start.
      this.#logger.warn("uplink: crypto.encryption is none: records are published in clear");
    }
    this.#context = {
      settings: this.#settings,
      sealer,
      counters: this.#counters,
      cursor: this.#cursor,
      deadLetters: this.#deadLetters,
      clock: this.#clock,
      logger: this.#logger,
      kick: () => this.#kick(),
      kickSoon: () => this.#refillSoon(),
    };
    this.#stopped = false;
    this.#cursor.load();
    const listener: ConnectionListener = {
      connected: (connection) => this.#onConnected(connection),
      disconnected: (connection) => this.#onDisconnected(connection),
    };
    this.#unsubscribe = [this.#reader.onDurable(() => this.#kick()), this.#session.onConnection(listener)];
    const current = this.#session.current();
    if (current !== undefined) {
      this.#onConnected(current);
    }
    return Promise.resolve();
  }

  /** `budgetMs`: this step's share of the daemon's stop budget, which bounds the drain. */
  async stop(budgetMs?: number): Promise<void> {
    if (!this.#stopped) {
      // A second stop() during the drain waits for the same drain.
      this.#draining ??= this.#drainOnStop(budgetMs);
      await this.#draining;
    }
    this.#stopped = true;
    this.#draining = undefined;
    for (const unsubscribe of this.#unsubscribe.splice(0)) {
      unsubscribe();
    }
    clearTimeout(this.#readRetry);
    clearImmediate(this.#refill);
    this.#endRun();
    await this.#pumping;
    await this.#cursor.close();
  }

  async #drainOnStop(budgetMs: number | undefined): Promise<void> {
    const configured = this.#settings.drainOnStopMs ?? 0;
    const drainMs =
      budgetMs === undefined ? configured : Math.min(configured, budgetMs * DRAIN_SHARE_OF_STOP);
    if (!(drainMs > 0)) {
      return; // uplink.drainOnStop 0s: stop at once, as before issue #7
    }
    const { end, drained, left } = await this.#drain.run(drainMs);
    this.#logger.info(
      { drained, left, end, drainMs: Math.round(drainMs) },
      `uplink: drained ${drained} records on stop; ${left} left for the next start`,
    );
  }

  /** Called with the new acked cursor each time it moves (metrics, the bench). */
  onAcked(listener: (ackedSeq: number) => void): () => void {
    return this.#cursor.onAdvance(listener);
  }

  stats(): ForwarderStats {
    const run = this.#run;
    const durableSeq = this.#reader.durableSeq();
    const ackedSeq = Math.max(this.#cursor.value, this.#reader.ackedSeq());
    return this.#counters.snapshot({
      durableSeq,
      ackedSeq,
      inflight: run?.window.awaiting ?? 0,
      window: run?.window.limit ?? this.#settings.inflight,
      deadLettered: this.#deadLetters.appended,
      reconnects: Math.max(0, this.#connections - 1),
      connected: run?.connection.open === true,
    });
  }

  #onConnected(connection: Connection): void {
    this.#endRun();
    const context = this.#context;
    if (this.#stopped || context === undefined) {
      return;
    }
    this.#connections++;
    const acked = this.#cursor.load();
    const run = new ForwardingRun(connection, acked + 1, context);
    this.#run = run;
    this.#logger.info(
      { fromSeq: acked + 1, window: run.window.limit },
      "uplink: forwarding from the acked cursor",
    );
    this.#kick();
  }

  #onDisconnected(connection: Connection): void {
    if (this.#run?.connection === connection) {
      this.#endRun();
      this.#drain.connectionChanged();
    }
  }

  #endRun(): void {
    this.#run?.end();
    this.#run = undefined;
  }

  /** Runs the pump, or makes the running one go round once more. */
  #kick(): void {
    if (this.#pumping !== undefined) {
      this.#again = true;
      return;
    }
    this.#again = false;
    this.#pumping = this.#pump()
      .catch((error: unknown) => this.#onPumpError(error))
      .finally(() => {
        this.#pumping = undefined;
        if (this.#again && !this.#stopped) {
          this.#kick();
        }
      });
  }

  /**
   * After a PUBACK: refill the window once the PUBACKs that arrived together are all handled, so
   * the publishes that replace them leave in one write instead of one syscall each (a third of
   * the CPU per record in the uplink bench).
   */
  #refillSoon(): void {
    this.#refill ??= setImmediate(() => {
      this.#refill = undefined;
      this.#kick();
    });
  }

  async #pump(): Promise<void> {
    for (;;) {
      this.#again = false;
      const run = this.#run;
      if (run === undefined || this.#stopped || !run.canSend) {
        return;
      }
      run.resendRefused();
      if (run.window.full) {
        return; // a PUBACK kicks
      }
      if (run.ahead.exhausted) {
        if (run.ahead.nextSeq > this.#reader.durableSeq()) {
          return; // onDurable kicks
        }
        const entries = await this.#reader.read(run.ahead.nextSeq, run.readSize);
        if (run.ended || this.#stopped || !run.accept(entries)) {
          return;
        }
        continue;
      }
      run.sendNext();
    }
  }

  #onPumpError(error: unknown): void {
    if (this.#stopped) {
      return;
    }
    this.#logger.error({ err: error }, "uplink: reading the ledger failed; trying again");
    clearTimeout(this.#readRetry);
    this.#readRetry = setTimeout(() => this.#kick(), READ_RETRY_MS);
  }
}
