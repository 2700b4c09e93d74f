/**
 * The receiver's verification core (issue #7 item 2): one MQTT message in, its outcomes out —
 * records to store, duplicates, gap and tamper events, rejections with a reason — and a counter
 * for each. Pure: no I/O, no timers, time comes in with the message; the receive command wires it
 * to MQTT and a store. Order per message: topic and envelope (openMessage), replay (nonce window),
 * entries (messageEntries), then per entry the chain (GatewayChains) and checkpoints.
 *
 * Chain mode "store" (issue #7: receivers in one MQTT 5 shared-subscription group each see only part
 * of a gateway's messages, so an in-memory continuity check would report bogus gaps): the chain
 * lives in the shared store, whose chain auditor checks seq continuity, prev links and checkpoint
 * ofHash after the fact. Here only what one message shows is checked — topic, replay within this
 * receiver's window, entries and the links inside a batch, checkpoint MACs — and every entry that
 * passes is accepted. A checkpoint whose MAC fails is accepted too, with its tamper event: the
 * stored chain must hold every authentic link, or the auditor would later read the hole as loss.
 */
import { MAX_PAYLOAD_CHARS } from "../crypto/envelope/index.js";
import type { LedgerEntry } from "../ledger/ledgerEntry.js";
import { CheckpointVerifier } from "./checkpointVerifier.js";
import { type ChainLimits, DEFAULT_CHAIN_LIMITS, GatewayChains } from "./gatewayChain.js";
import { openHealthMessage } from "./healthMessage.js";
import { messageEntries } from "./messageEntries.js";
import { headerLabels, openMessage } from "./openMessage.js";
import type {
  AcceptedRecord,
  ReceiverOutcome,
  RecordBody,
  RejectedMessage,
  RejectReason,
} from "./outcomes.js";
import { newReceiverCounters, type ReceiverCounters } from "./receiverCounters.js";
import type { ReceiverKeys } from "./receiverKeys.js";
import { MemoryReceiverState, type ReceiverState } from "./receiverState.js";
import { escapeRegex, TopicPattern, type TopicSettings } from "./topicPattern.js";

export interface ReceivedMessage {
  readonly topic: string;
  readonly payload: Uint8Array | string;
  /** Wall-clock ms when it arrived (a label on what is stored). */
  readonly receivedAt: number;
}

export interface ReceiverCoreOptions {
  readonly topics: TopicSettings;
  readonly keys: ReceiverKeys;
  readonly state?: ReceiverState;
  readonly limits?: ChainLimits;
  /** How many envelopes' nonces are remembered to spot replays. Default 65,536 (about 2.5 MiB). */
  readonly replayWindow?: number;
  /** "memory" (default): this core checks continuity itself; "store": the store's auditor does (see above). */
  readonly chain?: ChainMode;
}

export type ChainMode = "memory" | "store";

export const DEFAULT_REPLAY_WINDOW = 65_536;

const UTF8 = new TextDecoder("utf-8", { fatal: true });

export class ReceiverCore {
  readonly counters: ReceiverCounters = newReceiverCounters();
  readonly #keys: ReceiverKeys;
  readonly #topics: TopicSettings;
  readonly #pattern: TopicPattern;
  readonly #statusTopic: RegExp;
  readonly #chains: GatewayChains;
  readonly #checkpoints: CheckpointVerifier;
  readonly #seenNonces = new Set<string>();
  readonly #replayWindow: number;
  readonly #chainMode: ChainMode;

  constructor(options: ReceiverCoreOptions) {
    const state = options.state ?? new MemoryReceiverState();
    this.#keys = options.keys;
    this.#topics = options.topics;
    this.#pattern = new TopicPattern(options.topics);
    this.#statusTopic = new RegExp(`^${escapeRegex(options.topics.prefix)}/[^/]+/[^/]+/status$`);
    this.#chains = new GatewayChains(state, options.limits ?? DEFAULT_CHAIN_LIMITS);
    this.#checkpoints = new CheckpointVerifier(options.keys, state, this.counters);
    this.#replayWindow = options.replayWindow ?? DEFAULT_REPLAY_WINDOW;
    this.#chainMode = options.chain ?? "memory";
  }

  /** Open gaps of a gateway, lowest first. */
  openGaps(gateway: string): readonly { fromSeq: number; toSeq: number; missing: number }[] {
    return this.#chains.openGaps(gateway);
  }

  receive(message: ReceivedMessage): ReceiverOutcome[] {
    this.counters.messages++;
    const outcomes = this.#receive(message);
    for (const outcome of outcomes) {
      this.#count(outcome);
    }
    return outcomes;
  }

  #receive({ topic, payload, receivedAt }: ReceivedMessage): ReceiverOutcome[] {
    const reject = (reason: RejectReason, text: string, extra: Partial<RejectedMessage> = {}) => [
      { type: "rejected" as const, reason, message: text, topic, receivedAt, ...extra },
    ];
    let text: string;
    if (typeof payload === "string") {
      text = payload;
    } else if (payload.byteLength > MAX_PAYLOAD_CHARS) {
      // §3.4: refused before parsing; an envelope is ASCII, so bytes are characters.
      return reject("malformed", `${payload.byteLength} bytes is longer than an envelope can be`);
    } else {
      try {
        text = UTF8.decode(payload);
      } catch {
        return reject("malformed", "the payload is not UTF-8");
      }
    }
    if (this.#statusTopic.test(topic) && this.#pattern.match(topic) === undefined) {
      // Birth and last-will words (§1): not envelopes, nothing to store. A template could make a
      // record topic look like one (a device named "status"), so the record pattern wins.
      this.counters.status++;
      return [];
    }
    const health = openHealthMessage(this.#keys, this.#topics, topic, text);
    if (health !== undefined) {
      // Not in the replay window: a retained snapshot is delivered again on every subscription.
      if (!health.ok) {
        const { ok: _ok, reason, message, ...labels } = health;
        return reject(reason, message, labels);
      }
      const { gateway, site, seq, ts } = health;
      return [{ type: "health", gateway, site, seq, ts, health: health.health, topic, receivedAt }];
    }
    const opened = openMessage(this.#keys, this.#pattern, topic, text);
    if (!opened.ok) {
      const header = opened.header;
      return reject(opened.reason, opened.message, header === undefined ? {} : headerLabels(header));
    }
    const { header } = opened;
    if (this.#seenNonces.has(opened.nonce)) {
      return reject(
        "replay-duplicate",
        `this envelope (gw ${header.gateway}, seq ${header.seq}) was already received`,
        headerLabels(header),
      );
    }
    this.#rememberNonce(opened.nonce);
    const checked = messageEntries(header, opened.levels, opened.plaintext);
    if (!checked.ok) {
      return reject(checked.reason, checked.message, headerLabels(header));
    }
    const gateway = header.gateway;
    const outcomes: ReceiverOutcome[] = [];
    const labels = {
      topic,
      receivedAt,
      nonce: Buffer.from(opened.nonce, "hex").toString("base64url"),
      ...(opened.levels.site === undefined ? {} : { site: opened.levels.site }),
    };
    for (const { entry, body } of checked.entries) {
      if (this.#chainMode === "store") {
        if (body.kind === "checkpoint") {
          outcomes.push(...this.#checkpoints.checkMac(gateway, entry.seq, body.checkpoint, receivedAt));
        }
        outcomes.push(acceptedRecord(gateway, entry, body, labels));
        continue;
      }
      // Only the link is kept, not the entry's text: it bounds what the state holds per seq.
      const link = { seq: entry.seq, prev: entry.prev, hash: entry.hash };
      const verdict = this.#chains.add(gateway, link, receivedAt);
      outcomes.push(...verdict.events);
      if (verdict.status === "duplicate") {
        outcomes.push({ type: "duplicate", gateway, seq: entry.seq });
        continue;
      }
      if (verdict.status === "conflict") {
        continue;
      }
      if (body.kind === "checkpoint") {
        const tampering = this.#checkpoints.check(gateway, entry.seq, body.checkpoint, receivedAt);
        if (tampering.length > 0) {
          outcomes.push(...tampering);
          outcomes.push(
            ...reject("bad-checkpoint", tampering.map((t) => t.message).join("; "), {
              gateway,
              seq: entry.seq,
            }),
          );
          continue;
        }
      }
      outcomes.push(acceptedRecord(gateway, entry, body, labels));
      outcomes.push(...this.#checkpoints.entryStored(gateway, entry.seq, entry.hash, receivedAt));
      if (body.kind === "gap" && body.gap.fromSeq !== undefined && body.gap.toSeq !== undefined) {
        outcomes.push(
          this.#chains.declareLost(gateway, body.gap.fromSeq, body.gap.toSeq, body.gap.reason, receivedAt),
        );
      }
    }
    return outcomes;
  }

  #rememberNonce(nonce: string): void {
    this.#seenNonces.add(nonce);
    if (this.#seenNonces.size > this.#replayWindow) {
      // Sets iterate in insertion order: the oldest nonce goes first.
      const oldest = this.#seenNonces.values().next();
      if (oldest.done !== true) {
        this.#seenNonces.delete(oldest.value);
      }
    }
  }

  #count(outcome: ReceiverOutcome): void {
    const counters = this.counters;
    switch (outcome.type) {
      case "accepted":
        counters.accepted++;
        return;
      case "duplicate":
        counters.duplicate++;
        return;
      case "rejected":
        counters[outcome.reason]++;
        return;
      case "tamper":
        counters.tamper++;
        return;
      case "health":
        counters.health++;
        return;
      case "gap":
        if (outcome.state === "open") {
          counters.gapOpened++;
        } else if (outcome.state === "closed") {
          counters.gapClosed++;
        } else {
          counters.gapLost++;
        }
        return;
    }
  }
}

function acceptedRecord(
  gateway: string,
  entry: LedgerEntry,
  body: RecordBody,
  labels: Pick<AcceptedRecord, "topic" | "receivedAt" | "nonce" | "site">,
): AcceptedRecord {
  return {
    type: "accepted",
    gateway,
    seq: entry.seq,
    kind: entry.kind,
    device: entry.device,
    ts: entry.ts,
    clockSynced: entry.clockSynced,
    prev: entry.prev,
    hash: entry.hash,
    body,
    bodyText: entry.body,
    ...labels,
  };
}
