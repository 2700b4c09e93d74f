/**
 * A gateway for the receiver bench (issue #7): what test/receiver/gatewayFixture.ts builds, from
 * src/ only — a fresh gateway key file, entries chained by the ledger's own makeEntry, sealed with
 * the uplink's sealer on the topics the uplink's TopicRenderer names — so that the receiver is
 * measured on exactly what a gateway sends. Sample bodies are the size of a few tags.
 */
import {
  type GatewayKeyFile,
  type KeyRing,
  keyRingOf,
  newGatewayKeyFile,
} from "../../../src/crypto/keys/index.js";
import {
  type EntryFields,
  GENESIS_PREV,
  type LedgerEntry,
  makeEntry,
} from "../../../src/ledger/ledgerEntry.js";
import type { ReceiverKeyFile, TopicSettings } from "../../../src/receiver/index.js";
import { createSealer, type MessageSealer } from "../../../src/uplink/sealRecord.js";
import { TopicRenderer } from "../../../src/uplink/topics.js";

export const BENCH_TEMPLATE = "{prefix}/{site}/{gateway}/{device}/{stream}";
const BASE_TS = 1_795_320_853_847;

export interface SealedMessage {
  readonly topic: string;
  readonly payload: string;
}

export class BenchGateway {
  readonly id: string;
  readonly keyFile: GatewayKeyFile;
  readonly ring: KeyRing;
  readonly #topics: TopicRenderer;
  readonly #sealer: MessageSealer;
  #last: LedgerEntry | undefined;

  constructor(id: string, topics: TopicSettings) {
    this.id = id;
    this.keyFile = newGatewayKeyFile(new Date(BASE_TS));
    this.ring = keyRingOf(this.keyFile, "bench gateway key");
    this.#topics = new TopicRenderer({ ...topics, site: "bench", gateway: id });
    this.#sealer = createSealer({ encryption: "ascon-aead128", gateway: id, keys: this.ring });
  }

  /** The key as a receiver holds it (its gateway key file). */
  receiverKey(): ReceiverKeyFile {
    return { file: this.keyFile, source: `${this.id}.key`, gateway: this.id };
  }

  /** The next `count` entries, chained as the ledger chains them. */
  appendSamples(count: number): LedgerEntry[] {
    const entries: LedgerEntry[] = [];
    for (let i = 0; i < count; i++) {
      const seq = (this.#last?.seq ?? 0) + 1;
      const entry = makeEntry(seq, sampleFields(seq), this.#last?.hash ?? GENESIS_PREV);
      entries.push(entry);
      this.#last = entry;
    }
    return entries;
  }

  /** The envelopes the uplink publishes for `entries`, `perEnvelope` records each (uplink.batch.maxRecords). */
  seal(entries: readonly LedgerEntry[], perEnvelope: number): SealedMessage[] {
    const messages: SealedMessage[] = [];
    for (let at = 0; at < entries.length; at += perEnvelope) {
      const batch = entries.slice(at, at + perEnvelope);
      const first = batch[0];
      if (first === undefined) {
        break;
      }
      const topic = this.#topics.topicOf(first).name;
      messages.push({ topic, payload: this.#sealer.seal(topic, batch) });
    }
    return messages;
  }
}

/** A typical sample body's length in bytes (seqs differ in digits only). */
export function sampleBodyBytes(): number {
  return Buffer.byteLength(sampleFields(50_000).body);
}

/** About 200 bytes of body, as a sample of three tags is (the uplink bench's size). */
function sampleFields(seq: number): EntryFields {
  const ts = BASE_TS + seq * 100;
  return {
    ts,
    clockSynced: true,
    kind: "sample",
    device: "press-2",
    body: `{"kind":"sample","device":"press-2","group":"fast","ts":${ts},"clockSynced":true,"values":{"motor_temp":{"value":${(seq % 1000) / 10},"quality":"good","unit":"degC"},"spindle_rpm":{"value":${1200 + (seq % 300)},"quality":"good"},"counter":{"value":${seq},"quality":"good"}}}`,
  };
}
