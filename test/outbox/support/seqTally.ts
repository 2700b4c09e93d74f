/**
 * The upstream side of the outbox must-shows (issue #5): an mqtt.js subscriber with a persistent
 * session (clean false, a fixed client id, a session expiry, QoS 1) that misses nothing across
 * broker restarts, and a tally of what it received, cheap enough for a million messages:
 *
 * - the seq of each payload is read from the envelope header with a regex (docs/protocol.md §3.1:
 *   "seq" is a decimal string in the canonical text, so no JSON parse is needed);
 * - one count per seq (a growing Uint8Array), so missing and duplicated seqs are exact;
 * - order: QoS 1 orders messages per topic only (MQTT 5 §4.6), so the test asserts that the FIRST
 *   delivery of each seq arrives in increasing seq order per topic; redeliveries are duplicates;
 * - a duplicate is counted as a broker redelivery when it carries the DUP flag (mosquitto resends
 *   its unacknowledged in-flight messages to a resumed session), else as a gateway re-send (the
 *   forwarder resumes from its acked cursor with new packets after a reconnect);
 * - every `openEvery`-th seq is opened with openEnvelope under the gateway key ring, proving the
 *   payloads are real envelopes whose plaintext is the ledger entry of that seq.
 */
import { connectAsync, type MqttClient } from "mqtt";
import { openEnvelope } from "../../../src/crypto/envelope/index.js";
import type { KeyRing } from "../../../src/crypto/keys/index.js";
import { waitUntil } from "../../helpers/waitUntil.js";

const SEQ_IN_HEADER = /"seq":"(\d+)"/;
/** Bytes of a payload that surely hold the header's seq: v, alg, gw, dev, kid come first (§3.2). */
const HEADER_BYTES = 256;

export interface TallyOptions {
  readonly port: number;
  readonly topicFilter: string;
  readonly clientId: string;
  readonly keys: KeyRing;
  /** Open the envelope of every seq divisible by this (default 1000). */
  readonly openEvery?: number;
  /** Bounds what mosquitto may have in flight to us, and so its redeliveries after a restart. */
  readonly receiveMaximum?: number;
  /** Called with the ledger entry text of each envelope opened (first deliveries only). */
  readonly onOpened?: (seq: number, entryText: string) => void;
}

export interface TallySummary {
  readonly messages: number;
  readonly distinct: number;
  readonly maxSeq: number;
  readonly duplicates: number;
  readonly brokerRedeliveries: number;
  readonly gatewayResends: number;
  readonly outOfOrder: number;
  readonly opened: number;
  readonly connects: number;
}

export class SeqTally {
  #counts = new Uint8Array(1 << 20);
  readonly #lastFirstSeq = new Map<string, number>();
  readonly #perTopic = new Map<string, number>();
  readonly #keys: KeyRing;
  readonly #openEvery: number;
  readonly #onOpened: ((seq: number, entryText: string) => void) | undefined;
  #client: MqttClient | undefined;
  #messages = 0;
  #distinct = 0;
  #maxSeq = 0;
  #brokerRedeliveries = 0;
  #gatewayResends = 0;
  #outOfOrder = 0;
  readonly #outOfOrderExamples: string[] = [];
  #opened = 0;
  #connects = 0;
  readonly errors: string[] = [];

  private constructor(
    keys: KeyRing,
    openEvery: number,
    onOpened: ((seq: number, entryText: string) => void) | undefined,
  ) {
    this.#keys = keys;
    this.#openEvery = openEvery;
    this.#onOpened = onOpened;
  }

  /** Connects, subscribes at QoS 1 and keeps reconnecting (every 200 ms) until close(). */
  static async connect(options: TallyOptions): Promise<SeqTally> {
    const tally = new SeqTally(options.keys, options.openEvery ?? 1000, options.onOpened);
    const client = await connectAsync(`mqtt://127.0.0.1:${options.port}`, {
      protocolVersion: 5,
      clientId: options.clientId,
      clean: false,
      // MQTT 5: without a session expiry the broker ends the session at the first disconnect.
      properties: { sessionExpiryInterval: 3600, receiveMaximum: options.receiveMaximum ?? 64 },
      reconnectPeriod: 200,
      connectTimeout: 5_000,
      resubscribe: false,
    });
    tally.#client = client;
    tally.#connects = 1;
    client.on("connect", () => {
      tally.#connects++;
    });
    client.on("error", () => undefined); // refused connects while the broker is down
    client.on("message", (topic, payload, packet) => tally.#onMessage(topic, payload, packet.dup));
    await client.subscribeAsync(options.topicFilter, { qos: 1 });
    return tally;
  }

  /** How many distinct seqs in 1..upTo have not arrived (0 when all of them did). */
  missingUpTo(upTo: number): number {
    let missing = 0;
    for (let seq = 1; seq <= upTo; seq++) {
      if (seq >= this.#counts.length || this.#counts[seq] === 0) {
        missing++;
      }
    }
    return missing;
  }

  /** The first few missing seqs in 1..upTo, for failure messages. */
  missingExamples(upTo: number, limit = 10): number[] {
    const found: number[] = [];
    for (let seq = 1; seq <= upTo && found.length < limit; seq++) {
      if (seq >= this.#counts.length || this.#counts[seq] === 0) {
        found.push(seq);
      }
    }
    return found;
  }

  get distinct(): number {
    return this.#distinct;
  }

  get maxSeq(): number {
    return this.#maxSeq;
  }

  /** Messages received on one topic (first deliveries only). */
  onTopic(topic: string): number {
    return this.#perTopic.get(topic) ?? 0;
  }

  get outOfOrderExamples(): readonly string[] {
    return this.#outOfOrderExamples;
  }

  summary(): TallySummary {
    return {
      messages: this.#messages,
      distinct: this.#distinct,
      maxSeq: this.#maxSeq,
      duplicates: this.#messages - this.#distinct,
      brokerRedeliveries: this.#brokerRedeliveries,
      gatewayResends: this.#gatewayResends,
      outOfOrder: this.#outOfOrder,
      opened: this.#opened,
      connects: this.#connects,
    };
  }

  /** Waits until every seq in 1..upTo has arrived. */
  async waitForAll(upTo: number, timeoutMs: number): Promise<void> {
    // Cheap first: the distinct count; the exact scan once it could be complete.
    await waitUntil(() => this.#distinct >= upTo && this.missingUpTo(upTo) === 0, `every seq up to ${upTo}`, {
      timeoutMs,
      intervalMs: 250,
    });
  }

  async close(): Promise<void> {
    await this.#client?.endAsync(true);
  }

  /** Resources calls this at the end of a test. */
  kill(): Promise<void> {
    return this.close();
  }

  #onMessage(topic: string, payload: Buffer, dup: boolean): void {
    this.#messages++;
    const match = SEQ_IN_HEADER.exec(payload.toString("latin1", 0, HEADER_BYTES));
    if (match?.[1] === undefined) {
      this.#error(`no seq in a payload on ${topic}: ${payload.toString("latin1", 0, 80)}`);
      return;
    }
    const seq = Number(match[1]);
    this.#grow(seq);
    const seen = this.#counts[seq] ?? 0;
    this.#counts[seq] = Math.min(255, seen + 1);
    if (seen > 0) {
      if (dup) {
        this.#brokerRedeliveries++;
      } else {
        this.#gatewayResends++;
      }
      return;
    }
    this.#distinct++;
    this.#maxSeq = Math.max(this.#maxSeq, seq);
    this.#perTopic.set(topic, (this.#perTopic.get(topic) ?? 0) + 1);
    const last = this.#lastFirstSeq.get(topic) ?? 0;
    if (seq < last) {
      this.#outOfOrder++;
      if (this.#outOfOrderExamples.length < 10) {
        this.#outOfOrderExamples.push(`${topic}: seq ${seq} after ${last}`);
      }
    }
    this.#lastFirstSeq.set(topic, Math.max(last, seq));
    if (seq % this.#openEvery === 0) {
      this.#open(topic, payload, seq);
    }
  }

  #open(topic: string, payload: Buffer, seq: number): void {
    try {
      const plaintext = Buffer.from(openEnvelope(this.#keys, topic, payload.toString("utf8")).plaintext);
      const text = plaintext.toString("utf8");
      if (!text.startsWith(`{"seq":"${seq}"`)) {
        this.#error(`envelope of seq ${seq} holds another entry: ${text.slice(0, 80)}`);
        return;
      }
      this.#opened++;
      this.#onOpened?.(seq, text);
    } catch (error) {
      this.#error(`envelope of seq ${seq} on ${topic} does not open: ${String(error)}`);
    }
  }

  #grow(seq: number): void {
    if (seq < this.#counts.length) {
      return;
    }
    let size = this.#counts.length;
    while (size <= seq) {
      size *= 2;
    }
    const counts = new Uint8Array(size);
    counts.set(this.#counts);
    this.#counts = counts;
  }

  #error(message: string): void {
    if (this.errors.length < 20) {
      this.errors.push(message);
    }
  }
}
