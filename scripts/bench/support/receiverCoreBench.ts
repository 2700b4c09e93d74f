/**
 * ReceiverCore.receive on its own (issue #7): what one receiver's CPU allows before any I/O —
 * topic match, envelope open (Ascon-AEAD128), replay window, entry checks, and the chain check in
 * memory ("memory") or only within the envelope ("store", the mode of a shared-subscription group).
 * Every round gets a fresh core over the same sealed envelopes (a core that has seen them would
 * call them replays); the key ring is shared, as a running receiver's derived-key cache is warm.
 */
import {
  type ChainMode,
  ReceiverCore,
  ReceiverKeys,
  type TopicSettings,
} from "../../../src/receiver/index.js";
import { BENCH_TEMPLATE, BenchGateway } from "./benchGateway.js";

const TOPICS: TopicSettings = { prefix: "edgewarden", template: BENCH_TEMPLATE };

export interface CoreCase {
  readonly chain: ChainMode;
  readonly recordsPerEnvelope: number;
  readonly gateways: number;
}

export interface CoreFigure extends CoreCase {
  readonly records: number;
  readonly messages: number;
  readonly recordsPerSecond: number;
  readonly usPerMessage: number;
  readonly usPerRecord: number;
}

interface Payload {
  readonly topic: string;
  readonly payload: Buffer;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Best of `rounds` timed passes over `records` records, after one untimed pass (JIT warm-up). */
export function measureCore(spec: CoreCase, records: number, rounds: number): CoreFigure {
  const gateways = Array.from({ length: spec.gateways }, (_, i) => new BenchGateway(`bench-gw-${i}`, TOPICS));
  const perGateway = Math.ceil(records / spec.gateways);
  const sealed = gateways.map((gateway) =>
    gateway.seal(gateway.appendSamples(perGateway), spec.recordsPerEnvelope),
  );
  // Gateways interleaved, one envelope each in turn, as a broker delivers a plant's traffic.
  const messages: Payload[] = [];
  for (let i = 0; i < (sealed[0]?.length ?? 0); i++) {
    for (const stream of sealed) {
      const message = stream[i];
      if (message !== undefined) {
        messages.push({ topic: message.topic, payload: Buffer.from(message.payload) });
      }
    }
  }
  const total = perGateway * spec.gateways;
  const keys = new ReceiverKeys(gateways.map((gateway) => gateway.receiverKey()));
  const pass = (): number => {
    const core = new ReceiverCore({ topics: TOPICS, keys, chain: spec.chain });
    const receivedAt = Date.now();
    const started = process.hrtime.bigint();
    for (const message of messages) {
      core.receive({ topic: message.topic, payload: message.payload, receivedAt });
    }
    const ns = Number(process.hrtime.bigint() - started);
    if (core.counters.accepted !== total) {
      throw new Error(
        `the core accepted ${core.counters.accepted} of ${total}: ${JSON.stringify(core.counters)}`,
      );
    }
    return ns;
  };
  pass();
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    best = Math.min(best, pass());
  }
  return {
    ...spec,
    records: total,
    messages: messages.length,
    recordsPerSecond: Math.round(total / (best / 1e9)),
    usPerMessage: round(best / 1000 / messages.length),
    usPerRecord: round(best / 1000 / total, 3),
  };
}
