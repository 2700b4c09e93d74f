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
 * /proc/self/smaps to stderr at the end: which mappings hold the RSS), DRAIN_ALLOC_PROFILE=FILE
 * (a sampling heap profile of everything the drain allocates, collected or not), MALLOC_ARENA_MAX,
 * and node's own flags (--max-semi-space-size=N, --trace-gc). The samples split the V8 heap into
 * new space (young generation: garbage not yet scavenged) and old space, and RSS into anonymous
 * memory and mapped files (LevelDB's tables, the node binary).
 * Build with `tsc -p tsconfig.scripts.json`.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getHeapSpaceStatistics } from "node:v8";
import { createKeyFile, loadKeyRing, newGatewayKeyFile } from "../../src/crypto/keys/index.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import type { EntryFields } from "../../src/ledger/ledgerEntry.js";
import type { LedgerReader } from "../../src/ledger/ledgerPorts.js";
import { Mosquitto } from "../../test/helpers/mosquitto.js";
import { memoryKiB } from "../../test/outbox/support/processProbe.js";
import { ackedAt, openBenchLedger, startUplink, type Uplink } from "./support/uplinkRig.js";

const SAMPLE_MS = 500;
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

function openLedger(dir: string): Promise<Ledger> {
  return openBenchLedger(dir, { degradedBufferRecords: 100_000 });
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
    pendingRecords: () => ledger.pendingRecords(),
    ackedSeq: () => ledger.ackedSeq(),
    read: (fromSeq, maxRecords) => ledger.read(fromSeq, size > 0 ? size : maxRecords),
    setAcked: (seq) => ledger.setAcked(seq),
    onDurable: (listener) => ledger.onDurable(listener),
  };
}

interface Sample {
  readonly t: number;
  readonly rss: number;
  readonly anon: number;
  readonly file: number;
  readonly heapTotal: number;
  readonly heapUsed: number;
  /** V8's young generation (new space, both semi-spaces) and old space, committed. */
  readonly newSpace: number;
  readonly oldSpace: number;
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
    const samples: Sample[] = [];
    let forwarder: Uplink["forwarder"] | undefined;
    const sample = () => {
      const m = process.memoryUsage();
      // VmRSS splits into RssAnon (malloc, V8) and RssFile (mapped files: LevelDB mmaps its tables).
      const parts = memoryKiB(process.pid) ?? { anon: Number.NaN, file: Number.NaN };
      const space = (name: string) =>
        getHeapSpaceStatistics().find((s) => s.space_name === name)?.space_size ?? 0;
      samples.push({
        t: performance.now(),
        rss: m.rss,
        anon: parts.anon * 1024,
        file: parts.file * 1024,
        heapTotal: m.heapTotal,
        heapUsed: m.heapUsed,
        newSpace: space("new_space"),
        oldSpace: space("old_space"),
        external: m.external,
        acked: forwarder?.stats().ackedSeq ?? 0,
      });
    };
    sample();
    const before = samples[0] as Sample;
    const timer = setInterval(sample, SAMPLE_MS);
    const profiler = await startAllocationProfile();
    const started = performance.now();
    const uplink = await startUplink(ledger, {
      port: broker.port,
      ring: keyRing,
      inflight: Number(process.env.DRAIN_INFLIGHT ?? 64),
      reader: readerOf(ledger),
    });
    forwarder = uplink.forwarder;
    await ackedAt(uplink.forwarder, head);
    const seconds = (performance.now() - started) / 1000;
    await profiler?.();
    sample();
    if (process.env.DRAIN_SMAPS) {
      process.stderr.write(readFileSync("/proc/self/smaps", "utf8"));
    }
    clearInterval(timer);
    await uplink.stop();
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
        newSpace: mib(s.newSpace),
        oldSpace: mib(s.oldSpace),
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

/** DRAIN_ALLOC_PROFILE=FILE: a sampling heap profile of everything the drain allocates, GC'd or not. */
async function startAllocationProfile(): Promise<(() => Promise<void>) | undefined> {
  const file = process.env.DRAIN_ALLOC_PROFILE;
  if (!file) {
    return undefined;
  }
  const { Session } = await import("node:inspector/promises");
  const { writeFile } = await import("node:fs/promises");
  const session = new Session();
  session.connect();
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: 16_384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return async () => {
    const { profile } = await session.post("HeapProfiler.stopSampling");
    await writeFile(file, JSON.stringify(profile));
    session.disconnect();
  };
}

const [mode, dir, count] = process.argv.slice(2);
if (dir === undefined || (mode !== "fill" && mode !== "drain" && mode !== "outage")) {
  throw new Error("usage: drainRss.js fill DIR [RECORDS] | drain DIR | outage DIR [RECORDS]");
}
const records = Number(count ?? 500_000);
await (mode === "fill" ? fill(dir, records) : drain(dir, mode === "outage" ? records : 0));
