/**
 * The forwarder (issue #5, item 6): from the ledger's acked cursor to the broker, in seq order.
 *
 * - Reads durable entries from ackedSeq() + 1 in windows (LedgerReader.read), seals each message
 *   (sealRecord.ts), publishes QoS 1 with at most `window` messages beyond the acked cursor, and
 *   on each PUBACK moves the cursor over the contiguous PUBACKed prefix only (setAcked).
 * - Idle, it waits for onDurable (the ledger's group commit) or a PUBACK: no polling.
 * - Nothing is published without an open Connection; on a disconnect all in-flight state is
 *   forgotten and the next connection resumes from the cursor, so one reconnect re-sends at most
 *   one window (counted as duplicatesRisked). After a restart it resumes from the persisted cursor.
 * - A record that can never go out becomes a dead letter (deadLetters.ts) and counts as done only
 *   once that entry is durable; a PUBACK failure code is retried or dead-lettered (pubackPolicy.ts).
 * - Memory: the in-flight window and one read-ahead of at most window × batch.maxRecords
 *   entries (capped at MAX_READ_AHEAD), per connection.
 */
import type { Clock } from "../clock.js";
import { MAX_PLAINTEXT_BYTES } from "../crypto/envelope/index.js";
import type { KeyRing } from "../crypto/keys/index.js";
import type { Component } from "../daemon/component.js";
import type { LedgerEntry } from "../ledger/ledgerEntry.js";
import type { LedgerAppender, LedgerReader } from "../ledger/ledgerPorts.js";
import type { Logger } from "../observability/logger.js";
import { AckedCursor } from "./ackedCursor.js";
import { type DeadLetterReason, DeadLetters } from "./deadLetters.js";
import { ForwarderCounters, type ForwarderStats } from "./forwarderStats.js";
import { InflightWindow, newMessage, type OutMessage, removedRange } from "./inflightWindow.js";
import { planMessage } from "./messagePlanner.js";
import type { Connection, ConnectionListener, MqttSession, PublishOutcome } from "./mqttSession.js";
import { packetLimit } from "./packetSize.js";
import { describeReasonCode, refusalAction } from "./pubackPolicy.js";
import { ReadAhead } from "./readAhead.js";
import { ReconnectBackoff } from "./reconnectBackoff.js";
import { createSealer, type Encryption, type MessageSealer, plaintextOf } from "./sealRecord.js";
import type { TopicRenderer } from "./topics.js";

/** Upper bound of one read, whatever window × batch.maxRecords comes to. */
export const MAX_READ_AHEAD = 8192;
/** After a failed read (a closing or failing ledger), try again after this long. */
export const READ_RETRY_MS = 1_000;

export interface ForwarderSettings {
  readonly gateway: string;
  readonly topics: TopicRenderer;
  readonly encryption: Encryption;
  /** The gateway key ring; required for ascon-aead128. Sealed under its activeKeyId(). */
  readonly keyRing?: KeyRing | undefined;
  /** uplink.inflight: messages beyond the acked cursor at once. */
  readonly inflight: number;
  readonly batch: { readonly maxRecords: number; readonly maxBytes: number };
  /** uplink.maxPacketSize: the limit when the broker announces none. */
  readonly maxPacketSize?: number | undefined;
  /** Backoff for publishes the broker refused with a retryable code (uplink.reconnect). */
  readonly retry: { readonly initialDelayMs: number; readonly maxDelayMs: number };
}

export interface ForwarderDependencies {
  readonly reader: LedgerReader;
  readonly appender: LedgerAppender;
  readonly session: Pick<MqttSession, "onConnection" | "current">;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** The state of forwarding over one connection; dropped whole when the connection goes. */
interface Run {
  readonly connection: Connection;
  readonly packetLimit: number;
  readonly window: InflightWindow;
  readonly refusals: ReconnectBackoff;
  readonly ahead: ReadAhead;
  paused: boolean;
  retryTimer: NodeJS.Timeout | undefined;
  ended: boolean;
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
  #sealer: MessageSealer | undefined;
  #unsubscribe: (() => void)[] = [];
  #run: Run | undefined;
  #stopped = true;
  #pumping: Promise<void> | undefined;
  #again = false;
  #refill: NodeJS.Immediate | undefined;
  #readRetry: NodeJS.Timeout | undefined;
  #highestSent = 0;
  #connections = 0;

  constructor(settings: ForwarderSettings, deps: ForwarderDependencies) {
    this.#settings = settings;
    this.#reader = deps.reader;
    this.#session = deps.session;
    this.#clock = deps.clock;
    this.#logger = deps.logger.child({ component: "uplink" });
    this.#deadLetters = new DeadLetters(deps.appender, deps.clock, this.#logger);
    this.#counters = new ForwarderCounters(deps.clock);
    this.#cursor = new AckedCursor(deps.reader, this.#logger);
  }

  start(_signal: AbortSignal): Promise<void> {
    // Sealing setup throws for a device key file where a gateway key file is needed: fail the start.
    this.#sealer = createSealer({
      encryption: this.#settings.encryption,
      gateway: this.#settings.gateway,
      keys: this.#settings.keyRing,
    });
    if (this.#settings.encryption === "none") {
      // DESIGN.md: publishing in clear is allowed only when configured, and warns at every start.
      this.#logger.warn("uplink: crypto.encryption is none: records are published in clear");
    }
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

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const unsubscribe of this.#unsubscribe.splice(0)) {
      unsubscribe();
    }
    clearTimeout(this.#readRetry);
    clearImmediate(this.#refill);
    this.#endRun();
    await this.#pumping;
    await this.#cursor.close();
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
    if (this.#stopped) {
      return;
    }
    this.#connections++;
    const acked = this.#cursor.load();
    const window = Math.max(1, Math.min(this.#settings.inflight, connection.receiveMaximum ?? Infinity));
    this.#run = {
      connection,
      window: new InflightWindow(window),
      packetLimit: packetLimit(connection.maximumPacketSize, this.#settings.maxPacketSize),
      refusals: new ReconnectBackoff(this.#settings.retry),
      ahead: new ReadAhead(acked + 1),
      paused: false,
      retryTimer: undefined,
      ended: false,
    };
    this.#logger.info({ fromSeq: acked + 1, window }, "uplink: forwarding from the acked cursor");
    this.#kick();
  }

  #onDisconnected(connection: Connection): void {
    if (this.#run?.connection === connection) {
      this.#endRun();
    }
  }

  #endRun(): void {
    const run = this.#run;
    if (run !== undefined) {
      run.ended = true;
      clearTimeout(run.retryTimer);
      this.#run = undefined;
    }
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
      if (run === undefined || run.ended || this.#stopped || run.paused || !run.connection.open) {
        return;
      }
      this.#resendRefused(run);
      if (run.window.full) {
        return; // a PUBACK kicks
      }
      if (run.ahead.exhausted) {
        if (run.ahead.nextSeq > this.#reader.durableSeq()) {
          return; // onDurable kicks
        }
        const size = Math.min(MAX_READ_AHEAD, run.window.limit * this.#settings.batch.maxRecords);
        const entries = await this.#reader.read(run.ahead.nextSeq, size);
        if (run.ended || this.#stopped || !this.#accept(run, entries)) {
          return;
        }
        continue;
      }
      this.#sendNext(run);
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

  /** Takes a read's entries as the read-ahead; a range retention removed becomes a done message. */
  #accept(run: Run, entries: readonly LedgerEntry[]): boolean {
    if (entries.length === 0) {
      return false;
    }
    const removed = run.ahead.fill(entries);
    if (removed !== undefined) {
      this.#logger.warn(removed, "uplink: records were removed by retention before they were published");
      run.window.push(removedRange(removed.fromSeq, removed.toSeq));
      this.#advance(run);
    }
    return true;
  }

  #sendNext(run: Run): void {
    const sealer = this.#sealer;
    if (sealer === undefined) {
      throw new Error("forwarder not started");
    }
    const plan = planMessage(run.ahead.entries, run.ahead.index, {
      topics: this.#settings.topics,
      sealer,
      maxRecords: this.#settings.batch.maxRecords,
      maxBytes: this.#settings.batch.maxBytes,
      packetLimit: run.packetLimit,
      protocolVersion: run.connection.protocolVersion,
    });
    const entries = plan.kind === "publish" ? plan.entries : [plan.entry];
    const first = entries[0]?.seq ?? run.ahead.nextSeq;
    run.ahead.consume(entries.length);
    const message = newMessage(
      entries,
      first,
      plan.topic.name,
      plan.kind === "publish" ? plan.packetBytes : plan.bytes,
    );
    run.window.push(message);
    if (plan.kind === "too-large") {
      this.#settle(run, message, { reason: plan.reason, bytes: plan.bytes, limit: plan.limit });
      return;
    }
    try {
      message.payload = sealer.seal(plan.topic.name, entries);
    } catch (error) {
      const bytes = Buffer.byteLength(plaintextOf(entries), "utf8");
      const detail = error instanceof Error ? error.message : String(error);
      this.#settle(run, message, { reason: "envelope-refused", bytes, limit: MAX_PLAINTEXT_BYTES, detail });
      return;
    }
    if (message.first <= this.#highestSent) {
      this.#counters.duplicatesRisked += Math.min(message.last, this.#highestSent) - message.first + 1;
    }
    this.#highestSent = Math.max(this.#highestSent, message.last);
    this.#publish(run, message);
  }

  #publish(run: Run, message: OutMessage): void {
    const payload = message.payload;
    if (payload === undefined) {
      return;
    }
    message.state = "sent";
    message.sentAt = this.#clock.monotonicNow();
    message.attempts++;
    const handed = run.connection.publish(message.topic, payload, (outcome) =>
      this.#onOutcome(run, message, outcome),
    );
    if (handed) {
      this.#counters.published(message.entries.length, message.sentAt);
    }
  }

  #onOutcome(run: Run, message: OutMessage, outcome: PublishOutcome): void {
    if (run.ended || message.state !== "sent") {
      return;
    }
    switch (outcome.kind) {
      case "acked": {
        const now = this.#clock.monotonicNow();
        this.#counters.acked(message.entries.length, now - message.sentAt, now);
        if (message.attempts > 1) {
          run.refusals.reset();
        }
        message.state = "done";
        message.payload = undefined;
        this.#advance(run);
        this.#refillSoon();
        return;
      }
      case "refused": {
        this.#counters.refusedPublishes++;
        const reason = describeReasonCode(outcome.reasonCode);
        if (refusalAction(outcome.reasonCode) === "deadletter") {
          this.#settle(run, message, {
            reason: `puback-0x${outcome.reasonCode.toString(16).padStart(2, "0")}`,
            bytes: message.packetBytes,
            limit: run.packetLimit,
            detail: reason,
          });
          return;
        }
        message.state = "retry";
        this.#pause(run, { firstSeq: message.first, lastSeq: message.last, reason });
        return;
      }
      case "lost":
        return; // the disconnect ends this run; the next one starts from the cursor
    }
  }

  /** Nothing new goes out until the backoff passes; then the refused messages go again first. */
  #pause(run: Run, fields: Record<string, unknown>): void {
    if (run.paused) {
      return;
    }
    const delayMs = run.refusals.next();
    this.#logger.error(
      { ...fields, retryInMs: delayMs },
      "uplink: the broker refused a publish; retrying later",
    );
    run.paused = true;
    run.retryTimer = setTimeout(() => {
      run.paused = false;
      this.#kick();
    }, delayMs);
  }

  #resendRefused(run: Run): void {
    for (const message of run.window.refused()) {
      this.#publish(run, message);
    }
  }

  /** Dead-letters the message's records; the message is done once those entries are durable. */
  #settle(run: Run, message: OutMessage, why: DeadLetterReason): void {
    message.state = "settling";
    message.payload = undefined;
    void this.#deadLetters.deadLetter(message.entries, why).then(() => {
      if (run.ended) {
        return;
      }
      message.state = "done";
      this.#advance(run);
      this.#kick();
    });
  }

  /** Moves the cursor over the done prefix of the window. */
  #advance(run: Run): void {
    const last = run.window.popDone();
    if (last !== undefined) {
      this.#cursor.advanceTo(last);
    }
  }
}
