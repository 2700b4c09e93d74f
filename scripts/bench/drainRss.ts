/**
 * Drain RSS bench (issue #5, Outage must-show: "the daemon's RSS stays within 20% of its
 * pre-outage value throughout"). Two steps, so each variant drains the same ledger in a fresh
 * process:
 *
 *   node dist-scripts/scripts/bench/drainRss.js fill DIR [RECORDS]   a real Ledger with RECORDS
 *        (default 500,000) entries of ~450-byte bodies, no broker (the outage).
 *   node dist-scripts/scripts/bench/drainRss.js drain DIR             the real Forwarder and
 *        MqttSession drain DIR into a mosquitto started here on a free port, sampling RSS and
 *        process.memoryUsage() every 500 ms. Prints JSON (MiB): before the drain, peak and last.
 *
 *   node dist-scripts/scripts/bench/drainRss.js outage DIR [RECORDS]  both in one process, as the
 *        daemon does: append RECORDS with no broker, then drain them (the numbers in ledgerDb.ts).
 *
 * Drain a copy of a filled directory: the drain moves its acked cursor. Experiment knobs:
 * DRAIN_READ=N (entries per forwarder read), DRAIN_INFLIGHT=N, DRAIN_SMAPS=1 (dump
 * /proc/self/smaps to stderr at the end: which mappings hold the RSS), MALLOC_ARENA_MAX.
 * Build with `tsc -p tsconfig.scripts.json`.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "../../src/clock.js";
import { createKeyFile, loadKeyRing, newGatewayKeyFile } from "../../src/crypto/keys/index.js";
import { Ledger } from "../../src/ledger/ledger.js";
import type { EntryFields } from "../../src/ledger/ledgerEntry.js";
import type { LedgerReader } from "../../src/ledger/ledgerPorts.js";
import { createLogger } from "../../src/observability/logger.js";
import { Forwarder } from "../../src/uplink/forwarder.js";
import { MqttSession } from "../../src/uplink/mqttSession.js";
import { TopicRenderer } from "../../src/uplink/topics.js";
import { Mosquitto } from "../../test/helpers/mosquitto.js";

const GATEWAY = "bench-gw";
const SAMPLE_MS = 500;
const logger = createLogger({ level: "warn", repeatWindowMs: 60_000, destination: { write: () => {} } });
const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

function fields(i: number): EntryFields {
  // About 450 bytes of body: a sample of a handful of tags.
  const tags = Array.from(
    { length: 6 },
    (_, t) => `"tag_${t}":{"value":${((i * (t + 3)) % 10_000) / 10},"quality":"good","unit":"degC"}`,
  ).join(",");
  const body = `{"device":"press-2","group":"fast","values":{${tags}},"seqHint":${i},"pad":"${"x".repeat(40)}"}`;
  return { ts: Date.now(), clockSynced: true, kind: "sample", device: "press-2", body };
}

async function openLedger(dir: string): Promise<Ledger> {
  const ledger = new Ledger(
    {
      dir,
      commitIntervalMs: 50,
      commitMaxRecords: 1000,
      degradedBufferRecords: 100_000,
      retention: { maxBytes: 2 ** 40, maxAgeMs: 3_650 * 86_400_000, checkIntervalMs: 3_600_000 },
    },
    { clock: systemClock, logger },
  );
  await ledger.start(new AbortController().signal);
  return ledger;
}

async function fill(dir: string, records: number): Promise<void> {
  const ledger = await openLedger(dir);
  for (let from = 0; from < records; from += 10_000) {
    const chunk = Array.from({ length: Math.min(10_000, records - from) }, (_, i) => fields(from + i));
    await Promise.all(chunk.map((f) => ledger.append(f)));
  }
  await ledger.stop();
  process.stdout.write(`${JSON.stringify({ filled: records, bodyBytes: fields(0).body.length })}\n`);
}

/** DRAIN_READ=N: every forwarder read asks for N entries (an experiment on the read window). */
function readerOf(ledger: Ledger): LedgerReader {
  const size = Number(process.env.DRAIN_READ ?? 0);
  return {
    durableSeq: () => ledger.durableSeq(),
    firstSeq: () => ledger.firstSeq(),
    ackedSeq: () => ledger.ackedSeq(),
    read: (fromSeq, maxRecords) => ledger.read(fromSeq, size > 0 ? size : maxRecords),
    setAcked: (seq) => ledger.setAcked(seq),
    onDurable: (listener) => ledger.onDurable(listener),
  };
}

/** VmRSS splits into RssAnon (malloc, V8) and RssFile (mapped files: LevelDB mmaps its tables). */
function rssParts(): { anon: number; file: number } {
  const status = readFileSync("/proc/self/status", "utf8");
  const kib = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { anon: kib("RssAnon"), file: kib("RssFile") };
}

interface Sample {
  readonly t: number;
  readonly rss: number;
  readonly anon: number;
  readonly file: number;
  readonly heapTotal: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly acked: number;
}

async function drain(dir: string, fillRecords: number): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "edgewarden-drainrss-"));
  const broker = await Mosquitto.start({ dir: work, global: ["max_queued_messages 0"] });
  try {
    const keyFile = join(work, "gateway.key");
    await createKeyFile(keyFile, newGatewayKeyFile(new Date()));
    const keyRing = await loadKeyRing(keyFile);
    const ledger = await openLedger(dir);
    const opened = process.memoryUsage();
    // "outage" mode: the backlog is appended by this process, as the daemon does during an outage.
    for (let from = 0; from < fillRecords; from += 10_000) {
      const chunk = Array.from({ length: Math.min(10_000, fillRecords - from) }, (_, i) => fields(from + i));
      await Promise.all(chunk.map((f) => ledger.append(f)));
    }
    const head = ledger.durableSeq();
    const session = new MqttSession(
      {
        url: `mqtt://127.0.0.1:${broker.port}`,
        mqttVersion: "5",
        clientId: `edgewarden-${GATEWAY}`,
        keepaliveMs: 30_000,
        connectTimeoutMs: 10_000,
        reconnect: { initialDelayMs: 200, maxDelayMs: 2_000 },
        statusTopic: `bench/lab/${GATEWAY}/status`,
      },
      { clock: systemClock, logger },
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
        keyRing,
        inflight: Number(process.env.DRAIN_INFLIGHT ?? 64),
        batch: { maxRecords: 1, maxBytes: 65_536 },
        retry: { initialDelayMs: 200, maxDelayMs: 2_000 },
      },
      { reader: readerOf(ledger), appender: ledger, session, clock: systemClock, logger },
    );
    const samples: Sample[] = [];
    const sample = () => {
      const m = process.memoryUsage();
      const parts = rssParts();
      samples.push({
        t: performance.now(),
        rss: m.rss,
        anon: parts.anon,
        file: parts.file,
        heapTotal: m.heapTotal,
        heapUsed: m.heapUsed,
        external: m.external,
        acked: forwarder.stats().ackedSeq,
      });
    };
    sample();
    const before = samples[0] as Sample;
    const timer = setInterval(sample, SAMPLE_MS);
    const started = performance.now();
    await session.start(new AbortController().signal);
    await forwarder.start(new AbortController().signal);
    await new Promise<void>((resolve) => {
      const off = forwarder.onAcked((acked) => {
        if (acked >= head) {
          off();
          resolve();
        }
      });
    });
    const seconds = (performance.now() - started) / 1000;
    sample();
    if (process.env.DRAIN_SMAPS) {
      process.stderr.write(readFileSync("/proc/self/smaps", "utf8"));
    }
    clearInterval(timer);
    await forwarder.stop();
    await session.stop();
    await ledger.stop();
    const peak = samples.reduce((a, b) => (b.rss > a.rss ? b : a));
    const at = (fraction: number) =>
      samples[Math.min(samples.length - 1, Math.floor(fraction * samples.length))];
    const view = (s: Sample | undefined) =>
      s && {
        acked: s.acked,
        rss: mib(s.rss),
        rssAnon: mib(s.anon),
        rssFile: mib(s.file),
        heapTotal: mib(s.heapTotal),
        heapUsed: mib(s.heapUsed),
        external: mib(s.external),
      };
    const result = {
      bench: "drainRss",
      variant: process.env.DRAIN_VARIANT ?? "baseline",
      mallocArenaMax: process.env.MALLOC_ARENA_MAX ?? null,
      records: head,
      seconds: Math.round(seconds * 10) / 10,
      recordsPerSecond: Math.round(head / seconds),
      rssMiB: {
        opened: mib(opened.rss),
        beforeDrain: mib(before.rss),
        peak: mib(peak.rss),
        last: mib((samples.at(-1) as Sample).rss),
      },
      at: { quarter: view(at(0.25)), half: view(at(0.5)), threeQuarters: view(at(0.75)), peak: view(peak) },
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await broker.kill();
    await rm(work, { recursive: true, force: true });
  }
}

const [mode, dir, count] = process.argv.slice(2);
if (dir === undefined || (mode !== "fill" && mode !== "drain" && mode !== "outage")) {
  throw new Error("usage: drainRss.js fill DIR [RECORDS] | drain DIR | outage DIR [RECORDS]");
}
const records = Number(count ?? 500_000);
await (mode === "fill" ? fill(dir, records) : drain(dir, mode === "outage" ? records : 0));
