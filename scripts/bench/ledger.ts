/**
 * Ledger benchmark (issue #5): durable appends/s through the real Ledger (LevelDB in a temp
 * directory on this machine's disk, one `sync: true` batch per group commit), with appends issued
 * concurrently as sources do, never awaited one by one. Reports appends/s, commits/s, the
 * append -> durable latency (p50/p99) and RSS, then read() throughput in the forwarder's window
 * sizes. Prints JSON; main() collects one section per part (another part can add its own).
 *
 *   npm run bench:ledger     (builds, then runs)
 *
 * Runs: "saturated" keeps OUTSTANDING appends unresolved at all times (the most the disk and the
 * write path sustain); "paced" offers a fixed rate (what a latency-sensitive forwarder sees).
 * The record is a Sample serialised by sampleToJson with a 200-byte body; the whole entry text
 * (seq, ts, kind, device, body, prev and hash, the last two 64 hex digits each) is printed as
 * entryBytes.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as tick, setTimeout as wait } from "node:timers/promises";
import { systemClock } from "../../src/clock.js";
import { Ledger } from "../../src/ledger/ledger.js";
import { type EntryFields, GENESIS_PREV, makeEntry } from "../../src/ledger/ledgerEntry.js";
import { createLogger } from "../../src/observability/logger.js";
import type { Sample } from "../../src/records.js";
import { sampleToJson } from "../../src/sources/sampleJson.js";
import { benchVerify } from "./ledgerVerify.js";

const RUN_MS = 5_000;
/** Unresolved appends kept in flight by the saturated runs: ~100 ms of 50k records/s, a burst sources can make. */
const OUTSTANDING = 5_000;
const WARMUP_MS = 1_500;
const READ_RECORDS = 200_000;
const BODY_BYTES = 200;

interface RunConfig {
  readonly name: string;
  readonly commitIntervalMs: number;
  readonly commitMaxRecords: number;
  /** Records per second offered, or undefined for saturated. */
  readonly rate?: number;
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** A realistic sample body of exactly BODY_BYTES (a poll group of two tags, padded by a unit text). */
function sampleBody(): string {
  const sample = (unit: string): Sample => ({
    kind: "sample",
    device: "press-2",
    ts: 1_795_320_853_847,
    clockSynced: true,
    values: {
      pressure: { value: 182.25, quality: "good", unit: "bar" },
      oil: { value: 61.5, quality: "good", unit },
    },
  });
  const short = sampleToJson(sample(""));
  const body = sampleToJson(sample("x".repeat(Math.max(0, BODY_BYTES - short.length))));
  if (body.length !== BODY_BYTES) {
    throw new Error(`body is ${body.length} bytes, wanted ${BODY_BYTES}`);
  }
  return body;
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

async function runAppends(config: RunConfig, body: string, runMs = RUN_MS) {
  const dir = await mkdtemp(join(tmpdir(), "edgewarden-bench-ledger-"));
  const logger = createLogger({ level: "warn", repeatWindowMs: 60_000, destination: { write: () => {} } });
  const ledger = new Ledger(
    {
      dir,
      commitIntervalMs: config.commitIntervalMs,
      commitMaxRecords: config.commitMaxRecords,
      degradedBufferRecords: 100_000,
      retention: { maxBytes: 2 ** 40, maxAgeMs: 3_650 * 86_400_000 },
    },
    { clock: systemClock, logger },
  );
  const signal = new AbortController().signal;
  await ledger.start(signal);
  const latencies = new Float64Array(1_000_000);
  let measured = 0;
  let outstanding = 0;
  let failed = 0;
  let rssPeak = 0;
  const fields: EntryFields = { ts: Date.now(), clockSynced: true, kind: "sample", device: "press-2", body };
  const append = (inWindow: boolean) => {
    const t0 = performance.now();
    outstanding++;
    ledger.append(fields).then(
      () => {
        outstanding--;
        if (inWindow && measured < latencies.length) {
          latencies[measured++] = performance.now() - t0;
        }
      },
      () => {
        outstanding--;
        failed++;
      },
    );
  };
  const rssTimer = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 100);

  const start = performance.now();
  const end = start + runMs;
  let offered = 0;
  const before = await ledger.stats();
  const cpu = process.cpuUsage();
  while (performance.now() < end) {
    if (config.rate === undefined) {
      while (outstanding < OUTSTANDING) {
        append(true);
        offered++;
      }
      await tick();
    } else {
      const due = Math.floor(((performance.now() - start) / 1_000) * config.rate);
      for (; offered < due; offered++) {
        append(true);
      }
      await wait(2);
    }
  }
  const elapsedMs = performance.now() - start;
  while (outstanding > 0) {
    await wait(5);
  }
  const drainedMs = performance.now() - start;
  const cpuUsed = process.cpuUsage(cpu);
  clearInterval(rssTimer);
  const after = await ledger.stats();
  await ledger.stop();
  await rm(dir, { recursive: true, force: true });

  const sorted = latencies.subarray(0, measured).sort();
  const durable = after.appended - before.appended;
  return {
    name: config.name,
    commitIntervalMs: config.commitIntervalMs,
    commitMaxRecords: config.commitMaxRecords,
    offeredPerS: config.rate ?? `saturated, ${OUTSTANDING} outstanding`,
    seconds: round(elapsedMs / 1_000, 2),
    durableAppends: durable,
    appendsPerS: Math.round(durable / (drainedMs / 1_000)),
    commitsPerS: round((after.commits - before.commits) / (drainedMs / 1_000)),
    recordsPerCommit: round(durable / Math.max(1, after.commits - before.commits)),
    latencyMs: {
      p50: round(percentile(sorted, 0.5), 2),
      p99: round(percentile(sorted, 0.99), 2),
      max: round(sorted[sorted.length - 1] ?? 0, 2),
    },
    cpuPercent: round(((cpuUsed.user + cpuUsed.system) / 1_000 / drainedMs) * 100),
    shedOrFailed: failed + after.shed,
    rssPeakMiB: round(rssPeak / 2 ** 20),
    approxMiBOnDisk: round(after.approxBytes / 2 ** 20),
  };
}

/** read() as the forwarder calls it: windows of `window` entries from a cursor, over READ_RECORDS stored. */
async function runReads(body: string) {
  const dir = await mkdtemp(join(tmpdir(), "edgewarden-bench-ledger-read-"));
  const logger = createLogger({ level: "warn", repeatWindowMs: 60_000, destination: { write: () => {} } });
  const ledger = new Ledger(
    {
      dir,
      commitIntervalMs: 50,
      commitMaxRecords: 1_000,
      degradedBufferRecords: 10_000,
      retention: { maxBytes: 2 ** 40, maxAgeMs: 3_650 * 86_400_000 },
    },
    { clock: systemClock, logger },
  );
  await ledger.start(new AbortController().signal);
  const fields: EntryFields = { ts: Date.now(), clockSynced: true, kind: "sample", device: "press-2", body };
  for (let i = 0; i < READ_RECORDS; i += 5_000) {
    await Promise.all(Array.from({ length: 5_000 }, () => ledger.append(fields)));
  }
  const windows: Record<string, number> = {};
  for (const window of [64, 1_000]) {
    const start = performance.now();
    let read = 0;
    for (let from = 1; ; ) {
      const page = await ledger.read(from, window);
      if (page.length === 0) {
        break;
      }
      read += page.length;
      from = (page.at(-1)?.seq ?? from) + 1;
    }
    windows[`window${window}PerS`] = Math.round(read / ((performance.now() - start) / 1_000));
  }
  await ledger.stop();
  await rm(dir, { recursive: true, force: true });
  return { records: READ_RECORDS, ...windows };
}

async function main(): Promise<void> {
  const body = sampleBody();
  // A seven-digit seq, as after a few days at a few records per second.
  const probe = makeEntry(
    1_000_000,
    { ts: Date.now(), clockSynced: true, kind: "sample", device: "press-2", body },
    GENESIS_PREV,
  );
  const runs: RunConfig[] = [
    { name: "saturated, default commit", commitIntervalMs: 50, commitMaxRecords: 1_000 },
    { name: "saturated, commitMaxRecords 5000", commitIntervalMs: 50, commitMaxRecords: 5_000 },
    { name: "paced 20k/s, default commit", commitIntervalMs: 50, commitMaxRecords: 1_000, rate: 20_000 },
    // The pacing of commitTimer.ts: at 1k/s one sync per interval (the wear bound); at 10/s, below
    // one record per interval, each record is synced at once (about one sync time, no 50 ms wait).
    { name: "paced 1k/s, default commit", commitIntervalMs: 50, commitMaxRecords: 1_000, rate: 1_000 },
    { name: "paced 10/s, default commit", commitIntervalMs: 50, commitMaxRecords: 1_000, rate: 10 },
  ];
  // JIT and page cache warm-up, not reported.
  await runAppends({ name: "warm-up", commitIntervalMs: 50, commitMaxRecords: 1_000 }, body, WARMUP_MS);
  const appends = [];
  for (const run of runs) {
    appends.push(await runAppends(run, body));
  }
  const result = {
    bench: "ledger",
    machine: {
      nproc: availableParallelism(),
      cpu: cpus()[0]?.model,
      node: process.version,
      dir: tmpdir(),
      // This VM is shared: the load at the start says how much of it the run had.
      loadAverage1m: round(loadavg()[0] ?? 0, 2),
    },
    record: { bodyBytes: body.length, entryBytes: Buffer.byteLength(probe.text) },
    target: { durableAppendsPerS: 50_000 },
    appends,
    reads: await runReads(body),
    // `ledger verify` records/s (H2, scripts/bench/ledgerVerify.ts; target >= 300,000).
    verify: await benchVerify(),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

await main();
