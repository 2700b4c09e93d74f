/**
 * Forwarding over one broker connection (issue #5, item 6): the in-flight window, the read-ahead,
 * and what happens to each message — planned, sealed, handed to mqtt.js, PUBACKed, refused and
 * retried, or dead-lettered. The Forwarder (forwarder.ts) makes one run per connection, feeds it
 * reads from the ledger, and drops it whole when the connection goes: the next run starts again
 * from the acked cursor.
 *
 * Memory (#5, Outage: "RSS within 20% of its pre-outage value throughout"): a message keeps its
 * entries (needed to re-seal a refused message and to dead-letter it) but not its sealed payload.
 * mqtt.js holds the packet until the PUBACK anyway; a refused message, which is rare, is sealed
 * again (a fresh nonce; the receiver dedups by gateway and seq). So what a run retains is at most
 * `window` messages of entries plus one read-ahead (readAhead.ts bounds it in bytes).
 */
import type { Clock } from "../clock.js";
import { MAX_PLAINTEXT_BYTES } from "../crypto/envelope/index.js";
import type { LedgerEntry } from "../ledger/ledgerEntry.js";
import type { Logger } from "../observability/logger.js";
import type { AckedCursor } from "./ackedCursor.js";
import type { DeadLetterReason, DeadLetters } from "./deadLetters.js";
import type { ForwarderCounters } from "./forwarderStats.js";
import { InflightWindow, newMessage, type OutMessage, removedRange } from "./inflightWindow.js";
import { planMessage } from "./messagePlanner.js";
import type { Connection, PublishOutcome } from "./mqttSession.js";
import { packetLimit } from "./packetSize.js";
import { describeReasonCode, refusalAction } from "./pubackPolicy.js";
import { ReadAhead } from "./readAhead.js";
import { ReconnectBackoff } from "./reconnectBackoff.js";
import { type MessageSealer, plaintextOf } from "./sealRecord.js";
import type { TopicRenderer } from "./topics.js";

export interface RunSettings {
  readonly topics: TopicRenderer;
  /** uplink.inflight: messages beyond the acked cursor at once. */
  readonly inflight: number;
  readonly batch: { readonly maxRecords: number; readonly maxBytes: number };
  /** uplink.maxPacketSize: the limit when the broker announces none. */
  readonly maxPacketSize?: number | undefined;
  /** Backoff for publishes the broker refused with a retryable code (uplink.reconnect). */
  readonly retry: { readonly initialDelayMs: number; readonly maxDelayMs: number };
}

/** What a run shares with the forwarder and with the runs before and after it. */
export interface RunContext {
  readonly settings: RunSettings;
  readonly sealer: MessageSealer;
  readonly counters: ForwarderCounters;
  readonly cursor: AckedCursor;
  readonly deadLetters: DeadLetters;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Makes the forwarder's pump go round again now. */
  readonly kick: () => void;
  /** Makes it go round once the PUBACKs of this turn of the event loop are all handled. */
  readonly kickSoon: () => void;
}

export class ForwardingRun {
  readonly connection: Connection;
  readonly window: InflightWindow;
  readonly ahead: ReadAhead;
  readonly #context: RunContext;
  readonly #packetLimit: number;
  readonly #refusals: ReconnectBackoff;
  #paused = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #ended = false;

  constructor(connection: Connection, fromSeq: number, context: RunContext) {
    const { settings } = context;
    this.connection = connection;
    this.#context = context;
    this.window = new InflightWindow(
      Math.max(1, Math.min(settings.inflight, connection.receiveMaximum ?? Number.POSITIVE_INFINITY)),
    );
    this.ahead = new ReadAhead(fromSeq);
    this.#packetLimit = packetLimit(connection.maximumPacketSize, settings.maxPacketSize);
    this.#refusals = new ReconnectBackoff(settings.retry);
  }

  /** False once ended, while paused after a refusal, and once the connection is gone. */
  get canSend(): boolean {
    return !this.#ended && !this.#paused && this.connection.open;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Entries per read: one window of messages, within the read-ahead's byte bound. */
  get readSize(): number {
    return this.ahead.readSize(this.window.limit * this.#context.settings.batch.maxRecords);
  }

  end(): void {
    this.#ended = true;
    clearTimeout(this.#retryTimer);
  }

  /** Takes a read's entries as the read-ahead; a range retention removed becomes a done message. */
  accept(entries: readonly LedgerEntry[]): boolean {
    if (entries.length === 0) {
      return false;
    }
    const removed = this.ahead.fill(entries);
    if (removed !== undefined) {
      this.#context.logger.warn(
        removed,
        "uplink: records were removed by retention before they were published",
      );
      this.window.push(removedRange(removed.fromSeq, removed.toSeq));
      this.#advance();
    }
    return true;
  }

  /** Refused messages go again first, in seq order, once the backoff has passed. */
  resendRefused(): void {
    for (const message of this.window.refused()) {
      this.#publish(message);
    }
  }

  /** Plans, seals and publishes the next message from the read-ahead (or dead-letters it). */
  sendNext(): void {
    const { settings, sealer } = this.#context;
    const plan = planMessage(this.ahead.entries, this.ahead.index, {
      topics: settings.topics,
      sealer,
      maxRecords: settings.batch.maxRecords,
      maxBytes: settings.batch.maxBytes,
      packetLimit: this.#packetLimit,
      protocolVersion: this.connection.protocolVersion,
    });
    const entries = plan.kind === "publish" ? plan.entries : [plan.entry];
    const first = entries[0]?.seq ?? this.ahead.nextSeq;
    this.ahead.consume(entries.length);
    const message = newMessage(
      entries,
      first,
      plan.topic.name,
      plan.kind === "publish" ? plan.packetBytes : plan.bytes,
    );
    this.window.push(message);
    if (plan.kind === "too-large") {
      this.#settle(message, { reason: plan.reason, bytes: plan.bytes, limit: plan.limit });
      return;
    }
    this.#publish(message);
  }

  #publish(message: OutMessage): void {
    const { sealer, clock, counters } = this.#context;
    let payload: string;
    try {
      payload = sealer.seal(message.topic, message.entries);
    } catch (error) {
      const bytes = Buffer.byteLength(plaintextOf(message.entries), "utf8");
      const detail = error instanceof Error ? error.message : String(error);
      this.#settle(message, { reason: "envelope-refused", bytes, limit: MAX_PLAINTEXT_BYTES, detail });
      return;
    }
    if (message.attempts === 0) {
      counters.sent(message.first, message.last);
    }
    message.state = "sent";
    message.sentAt = clock.monotonicNow();
    message.attempts++;
    const handed = this.connection.publish(message.topic, payload, (outcome) =>
      this.#onOutcome(message, outcome),
    );
    if (handed) {
      counters.published(message.entries.length, message.sentAt);
    }
  }

  #onOutcome(message: OutMessage, outcome: PublishOutcome): void {
    if (this.#ended || message.state !== "sent") {
      return;
    }
    const { clock, counters } = this.#context;
    switch (outcome.kind) {
      case "acked": {
        const now = clock.monotonicNow();
        counters.acked(message.entries.length, now - message.sentAt, now);
        if (message.attempts > 1) {
          this.#refusals.reset();
        }
        message.state = "done";
        this.#advance();
        this.#context.kickSoon();
        return;
      }
      case "refused": {
        counters.refusedPublishes++;
        const reason = describeReasonCode(outcome.reasonCode);
        if (refusalAction(outcome.reasonCode) === "deadletter") {
          this.#settle(message, {
            reason: `puback-0x${outcome.reasonCode.toString(16).padStart(2, "0")}`,
            bytes: message.packetBytes,
            limit: this.#packetLimit,
            detail: reason,
          });
          return;
        }
        message.state = "retry";
        this.#pause({ firstSeq: message.first, lastSeq: message.last, reason });
        return;
      }
      case "lost":
        return; // the disconnect ends this run; the next one starts from the cursor
    }
  }

  /** Nothing new goes out until the backoff passes; then the refused messages go again first. */
  #pause(fields: Record<string, unknown>): void {
    if (this.#paused) {
      return;
    }
    const delayMs = this.#refusals.next();
    this.#context.logger.error(
      { ...fields, retryInMs: delayMs },
      "uplink: the broker refused a publish; retrying later",
    );
    this.#paused = true;
    this.#retryTimer = setTimeout(() => {
      this.#paused = false;
      this.#context.kick();
    }, delayMs);
  }

  /** Dead-letters the message's records; the message is done once those entries are durable. */
  #settle(message: OutMessage, why: DeadLetterReason): void {
    message.state = "settling";
    void this.#context.deadLetters.deadLetter(message.entries, why).then(() => {
      if (this.#ended) {
        return;
      }
      message.state = "done";
      this.#advance();
      this.#context.kick();
    });
  }

  /** Moves the cursor over the done prefix of the window. */
  #advance(): void {
    const last = this.window.popDone();
    if (last !== undefined) {
      this.#context.cursor.advanceTo(last);
    }
  }
}
