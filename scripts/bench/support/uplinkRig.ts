/**
 * The uplink as the benches run it (issue #5): a real Ledger in a directory of the bench's, and
 * the real MqttSession and Forwarder sealing with Ascon-AEAD128 into a mosquitto on `port`, set
 * up as the daemon does (MQTT 5, QoS 1, the default window). Shared by scripts/bench/uplink.ts
 * (throughput and latency) and scripts/bench/drainRss.ts (memory during a drain).
 */
import { systemClock } from "../../../src/clock.js";
import type { KeyRing } from "../../../src/crypto/keys/index.js";
import { Ledger } from "../../../src/ledger/ledger.js";
import type { LedgerReader } from "../../../src/ledger/ledgerPorts.js";
import { createLogger, type Logger } from "../../../src/observability/logger.js";
import { Forwarder } from "../../../src/uplink/forwarder.js";
import { MqttSession } from "../../../src/uplink/mqttSession.js";
import { TopicRenderer } from "../../../src/uplink/topics.js";

export const GATEWAY = "bench-gw";

/** Warnings and errors only, and nowhere: a bench prints its JSON and nothing else. */
export const quietLogger: Logger = createLogger({
  level: "warn",
  repeatWindowMs: 60_000,
  destination: { write: () => {} },
});

export interface LedgerOptions {
  /** storage.commitInterval (default 50 ms, the config default). */
  readonly commitIntervalMs?: number;
  /** storage.degradedBufferRecords; the benches append faster than a gateway does. */
  readonly degradedBufferRecords?: number;
}

/** A Ledger with the config's commit settings and retention out of the way. */
export async function openBenchLedger(dir: string, options: LedgerOptions = {}): Promise<Ledger> {
  const ledger = new Ledger(
    {
      dir,
      commitIntervalMs: options.commitIntervalMs ?? 50,
      commitMaxRecords: 1000,
      degradedBufferRecords: options.degradedBufferRecords ?? 1_000_000,
      retention: { maxBytes: 2 ** 40, maxAgeMs: 3_650 * 86_400_000, checkIntervalMs: 3_600_000 },
    },
    { clock: systemClock, logger: quietLogger },
  );
  await ledger.start(new AbortController().signal);
  return ledger;
}

export interface UplinkOptions {
  readonly port: number;
  readonly ring: KeyRing;
  /** uplink.inflight (default 64). */
  readonly inflight?: number;
  /** uplink.batch.maxRecords (default 1). */
  readonly batchRecords?: number;
  /** What the forwarder reads through (default: the ledger itself). */
  readonly reader?: LedgerReader;
}

export interface Uplink {
  readonly ledger: Ledger;
  readonly session: MqttSession;
  readonly forwarder: Forwarder;
  stop(): Promise<void>;
}

/** Starts the session and the forwarder on `ledger`; stop() stops both (not the ledger). */
export async function startUplink(ledger: Ledger, options: UplinkOptions): Promise<Uplink> {
  const session = new MqttSession(
    {
      url: `mqtt://127.0.0.1:${options.port}`,
      mqttVersion: "5",
      clientId: `edgewarden-${GATEWAY}`,
      keepaliveMs: 30_000,
      connectTimeoutMs: 10_000,
      reconnect: { initialDelayMs: 200, maxDelayMs: 2_000 },
      statusTopic: `bench/lab/${GATEWAY}/status`,
    },
    { clock: systemClock, logger: quietLogger },
  );
  const forwarder = new Forwarder(
    {
      gateway: GATEWAY,
      topics: new TopicRenderer({
        prefix: "bench",
        site: "lab",
        gateway: GATEWAY,
        template: "{prefix}/{site}/{gateway}/{device}/{stream}",
      }),
      encryption: "ascon-aead128",
      keyRing: options.ring,
      inflight: options.inflight ?? 64,
      batch: { maxRecords: options.batchRecords ?? 1, maxBytes: 65_536 },
      retry: { initialDelayMs: 200, maxDelayMs: 2_000 },
    },
    {
      reader: options.reader ?? ledger,
      appender: ledger,
      session,
      clock: systemClock,
      logger: quietLogger,
    },
  );
  await session.start(new AbortController().signal);
  await forwarder.start(new AbortController().signal);
  return {
    ledger,
    session,
    forwarder,
    stop: async () => {
      await forwarder.stop();
      await session.stop();
    },
  };
}

/** Resolves when the forwarder's acked cursor reaches `seq`. */
export function ackedAt(forwarder: Forwarder, seq: number): Promise<void> {
  return new Promise((resolve) => {
    const off = forwarder.onAcked((acked) => {
      if (acked >= seq) {
        off();
        resolve();
      }
    });
    if (forwarder.stats().ackedSeq >= seq) {
      off();
      resolve();
    }
  });
}
