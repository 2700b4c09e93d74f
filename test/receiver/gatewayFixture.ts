/**
 * A gateway for the receiver tests: real key files, real ledger entries (makeEntry, the ledger's
 * own chaining), real checkpoints (checkpointFields) and real envelopes (the uplink's sealer and
 * topic renderer), so that the receiver is tested against exactly what a gateway sends.
 */
import type { GatewayKeyFile, KeyRing } from "../../src/crypto/keys/index.js";
import { keyRingOf, newGatewayKeyFile } from "../../src/crypto/keys/index.js";
import { checkpointFields } from "../../src/ledger/checkpoint.js";
import {
  type EntryFields,
  GENESIS_PREV,
  type LedgerEntry,
  makeEntry,
  NO_DEVICE,
} from "../../src/ledger/ledgerEntry.js";
import { ReceiverCore, ReceiverKeys, type TopicSettings } from "../../src/receiver/index.js";
import { createSealer } from "../../src/uplink/sealRecord.js";
import { TopicRenderer } from "../../src/uplink/topics.js";

export const GATEWAY = "hm3-gw-01";
export const TOPICS: TopicSettings = {
  prefix: "edgewarden",
  template: "{prefix}/{site}/{gateway}/{device}/{stream}",
};
const BASE_TS = 1_795_320_853_847;

export function sampleFields(i: number, device = "press-2"): EntryFields {
  return {
    ts: BASE_TS + i * 100,
    clockSynced: true,
    kind: "sample",
    device,
    body: `{"kind":"sample","device":"${device}","group":"fast","ts":${BASE_TS + i * 100},"clockSynced":true,"values":{"motor_temp":{"value":${i},"quality":"good","unit":"degC"}}}`,
  };
}

export interface Message {
  readonly topic: string;
  readonly payload: string;
  readonly receivedAt: number;
}

export class FakeGateway {
  readonly keyFile: GatewayKeyFile;
  readonly ring: KeyRing;
  readonly entries: LedgerEntry[] = [];
  readonly #topics: TopicRenderer;
  readonly #sealer;

  constructor(gateway = GATEWAY, keyFile: GatewayKeyFile = newGatewayKeyFile(new Date(BASE_TS))) {
    this.keyFile = keyFile;
    this.ring = keyRingOf(keyFile, "test gateway key");
    this.#topics = new TopicRenderer({ ...TOPICS, site: "hm3", gateway });
    this.#sealer = createSealer({ encryption: "ascon-aead128", gateway, keys: this.ring });
  }

  /** Appends the next entry, as the ledger does. */
  append(fields: EntryFields): LedgerEntry {
    const last = this.entries.at(-1);
    const entry = makeEntry((last?.seq ?? 0) + 1, fields, last?.hash ?? GENESIS_PREV);
    this.entries.push(entry);
    return entry;
  }

  appendSamples(count: number): LedgerEntry[] {
    return Array.from({ length: count }, () => this.append(sampleFields(this.entries.length + 1)));
  }

  /** A checkpoint over the latest entry, signed like the checkpointer does. */
  appendCheckpoint(): LedgerEntry {
    const last = this.entries.at(-1);
    if (last === undefined) {
      throw new Error("nothing to checkpoint");
    }
    return this.append(checkpointFields(this.ring, last.seq, last.hash, BASE_TS, true));
  }

  appendGap(fromSeq: number, toSeq: number): LedgerEntry {
    return this.append({
      ts: BASE_TS,
      clockSynced: true,
      kind: "gap",
      device: NO_DEVICE,
      body: `{"reason":"retention","fromSeq":"${fromSeq}","toSeq":"${toSeq}","records":${toSeq - fromSeq + 1}}`,
    });
  }

  topicOf(entry: LedgerEntry): string {
    return this.#topics.topicOf(entry).name;
  }

  /** The message the uplink publishes for these entries (one, or a batch of one device and stream). */
  message(entries: readonly LedgerEntry[], receivedAt = 0): Message {
    const first = entries[0];
    if (first === undefined) {
      throw new Error("no entries");
    }
    const topic = this.topicOf(first);
    return { topic, payload: this.#sealer.seal(topic, entries), receivedAt };
  }

  messagesOf(entries: readonly LedgerEntry[]): Message[] {
    return entries.map((entry) => this.message([entry], entry.seq));
  }
}

/** A receiver holding the gateway key file of `gateway`. */
export function receiverFor(gateway: FakeGateway, gatewayId = GATEWAY): ReceiverCore {
  return new ReceiverCore({
    topics: TOPICS,
    keys: new ReceiverKeys([{ file: gateway.keyFile, source: "gateway.key", gateway: gatewayId }]),
  });
}
