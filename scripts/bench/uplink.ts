/**
 * Uplink benchmark (issue #5): a real Ledger in a temp dir, the forwarder sealing with
 * Ascon-AEAD128, an MqttSession, a mosquitto started here on a free port, and a subscriber in a
 * worker thread counting what arrives. Prints JSON.
 *
 *   drain:   a backlog of DRAIN_RECORDS sealed records (200-byte bodies) published and PUBACKed,
 *            from the forwarder's start to the acked cursor at the head (target >= 20,000/s);
 *            drainBatched: the same with uplink.batch.maxRecords 50.
 *   latency: a steady offered load of 1,000 and 10,000 records/s for LATENCY_SECONDS each;
 *            append() call -> PUBACK (the acked cursor passing the record), p50/p99 (target p99
 *            <= 50 ms at 1k/s), with the ledger's default 50 ms commit interval and a 10 ms one.
 *            Also durable -> PUBACK: the part the forwarder owns.
 *
 *   npm run bench:uplink     (builds, then runs)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { availableParallelism, cpus, tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createKeyFile, type KeyRing, loadKeyRing, newGatewayKeyFile } from "../../src/crypto/keys/index.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import type { EntryFields } from "../../src/ledger/ledgerEntry.js";
import { openBenchLedger, startUplink as startRigUplink, type Uplink } from "./support/uplinkRig.js";

const DRAIN_RECORDS = Number(process.env.BENCH_UPLINK_RECORDS ?? 200_000);
const LATENCY_SECONDS = Number(process.env.BENCH_UPLINK_SECONDS ?? 10);
const INFLIGHT = Number(process.env.BENCH_UPLINK_INFLIGHT ?? 64);
const TICK_MS = 5;
const STALL_MS = 20_000;
/** BENCH_UPLINK_PHASES=drain (or latency) runs one phase only, for profiling. */
const PHASES = (process.env.BENCH_UPLINK_PHASES ?? "drain,latency").split(",");

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") {
    throw new Error("no port");
  }
  return address.port;
}

async function startMosquitto(dir: string, port: number): Promise<ChildProcess> {
  const config = join(dir, "mosquitto.conf");
  await writeFile(
    config,
    [
      "persistence false",
      `user ${userInfo().username}`,
      "log_dest stderr",
      "log_type error",
      "log_type notice",
      "log_type information",
      "allow_anonymous true",
      "max_inflight_messages 1000",
      "max_queued_messages 0",
      // mosquitto's default leaves Nagle on: its PUBACKs to a burst then wait for our delayed
      // ACK (durable -> PUBACK p50 12 ms instead of 2 ms at 1k/s). EMQX and HiveMQ turn it off.
      `set_tcp_nodelay ${process.env.BENCH_UPLINK_BROKER_NODELAY ?? "true"}`,
      `listener ${port} 127.0.0.1`,
      "",
    ].join("\n"),
  );
  const child = spawn("/usr/sbin/mosquitto", ["-c", config], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  await new Promise<void>((resolve, reject) => {
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      log += chunk;
      if (/ running/.test(log)) {
        resolve();
      }
    });
    child.once("exit", () => reject(new Error(`mosquitto exited: ${log}`)));
  });
  return child;
}

interface CountingSubscriber {
  count(): Promise<number>;
  stop(): void;
}

/**
 * A subscriber in its own process, so that its CPU is not counted as the gateway's and it does
 * not take the forwarder's event loop. Answers "count" lines on stdin with its count on stdout.
 */
async function startSubscriber(port: number): Promise<CountingSubscriber> {
  const source = `
    const mqtt = require(process.argv[1]);
    let count = 0;
    const client = mqtt.connect("mqtt://127.0.0.1:" + process.argv[2], { protocolVersion: 5, reconnectPeriod: 0 });
    client.on("message", () => { count++; });
    client.on("connect", () => client.subscribe("bench/#", { qos: 0 }, () => process.stdout.write("ready\\n")));
    require("node:readline").createInterface({ input: process.stdin }).on("line", () => process.stdout.write(count + "\\n"));
    process.stdin.on("end", () => process.exit(0));
  `;
  const child = spawn(
    process.execPath,
    ["-e", source, createRequire(import.meta.url).resolve("mqtt"), String(port)],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const waiting: ((line: string) => void)[] = [];
  lines.on("line", (line) => waiting.shift()?.(line));
  const next = () => new Promise<string>((resolve) => waiting.push(resolve));
  await next(); // "ready"
  return {
    count: async () => {
      const answer = next();
      child.stdin?.write("count\n");
      return Number(await answer);
    },
    stop: () => {
      child.stdin?.end();
    },
  };
}

function fields(i: number): EntryFields {
  // About 200 bytes of body, as a sample of a few tags would be.
  const body = `{"device":"press-2","group":"fast","values":{"motor_temp":{"value":${(i % 1000) / 10},"quality":"good","unit":"C"},"spindle_rpm":{"value":${1200 + (i % 300)},"quality":"good"},"counter":{"value":${i},"quality":"good"}},"seqHint":${i}}`;
  return { ts: Date.now(), clockSynced: true, kind: "sample", device: "press-2", body };
}

function openLedger(dir: string, commitIntervalMs: number): Promise<Ledger> {
  return openBenchLedger(dir, { commitIntervalMs });
}

function startUplink(ledger: Ledger, port: number, ring: KeyRing, batchRecords = 1): Promise<Uplink> {
  return startRigUplink(ledger, { port, ring, inflight: INFLIGHT, batchRecords });
}

/** Resolves when the acked cursor reaches `seq`; a stall of STALL_MS without progress fails the bench. */
function waitForAcked(uplink: Uplink, seq: number): Promise<void> {
  const { forwarder } = uplink;
  return new Promise((resolve, reject) => {
    let last = forwarder.stats().ackedSeq;
    const watchdog = setInterval(() => {
      const stats = forwarder.stats();
      if (stats.ackedSeq === last) {
        clearInterval(watchdog);
        off();
        const session = uplink.session.status();
        reject(new Error(`no progress for ${STALL_MS} ms: ${JSON.stringify({ seq, stats, session })}`));
      }
      last = stats.ackedSeq;
    }, STALL_MS);
    const off = forwarder.onAcked((acked) => {
      if (acked >= seq) {
        clearInterval(watchdog);
        off();
        resolve();
      }
    });
    if (forwarder.stats().ackedSeq >= seq) {
      clearInterval(watchdog);
      off();
      resolve();
    }
  });
}

function quantile(values: Float64Array, q: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function drain(
  dir: string,
  port: number,
  ring: KeyRing,
  subscriber: CountingSubscriber,
  batchRecords: number,
) {
  const ledger = await openLedger(join(dir, `drain-${batchRecords}`), 50);
  for (let from = 0; from < DRAIN_RECORDS; from += 10_000) {
    const chunk = Array.from({ length: Math.min(10_000, DRAIN_RECORDS - from) }, (_, i) => fields(from + i));
    await Promise.all(chunk.map((f) => ledger.append(f)));
  }
  const receivedBefore = await subscriber.count();
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  const started = performance.now();
  const uplink = await startUplink(ledger, port, ring, batchRecords);
  await waitForAcked(uplink, DRAIN_RECORDS);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const busy = performance.eventLoopUtilization(elu);
  const stats = uplink.forwarder.stats();
  const messages = Math.ceil(DRAIN_RECORDS / batchRecords);
  let received = 0;
  for (let tries = 0; tries < 100 && received < messages; tries++) {
    received = (await subscriber.count()) - receivedBefore;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await uplink.stop();
  await ledger.stop();
  return {
    batchMaxRecords: batchRecords,
    records: DRAIN_RECORDS,
    seconds: round(seconds),
    recordsPerSecond: Math.round(DRAIN_RECORDS / seconds),
    /** Messages the subscriber counted (the status birth included). */
    subscriberReceived: received,
    /** CPU of the gateway process (main thread and libuv's LevelDB threads) per record. */
    cpuUsPerRecord: round((used.user + used.system) / DRAIN_RECORDS, 1),
    /** Main-thread busy time per record (wall clock: includes waiting for a core on a loaded box). */
    mainThreadBusyUsPerRecord: round((busy.active * 1000) / DRAIN_RECORDS, 1),
    pubackLatencyMs: {
      p50: round(stats.pubackLatencyP50Ms ?? Number.NaN),
      p99: round(stats.pubackLatencyP99Ms ?? Number.NaN),
    },
    rssMiB: round(process.memoryUsage().rss / 2 ** 20, 1),
  };
}

async function latency(
  dir: string,
  port: number,
  ring: KeyRing,
  run: { readonly rate: number; readonly commitIntervalMs: number; readonly batchRecords: number },
) {
  const { rate, commitIntervalMs, batchRecords } = run;
  const ledger = await openLedger(
    join(dir, `latency-${rate}-${commitIntervalMs}-${batchRecords}`),
    commitIntervalMs,
  );
  const uplink = await startUplink(ledger, port, ring, batchRecords);
  while (uplink.session.current() === undefined) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const total = rate * LATENCY_SECONDS;
  const appendAt = new Float64Array(total + 16);
  const durableAt = new Float64Array(total + 16);
  const appendToAck = new Float64Array(total);
  const durableToAck = new Float64Array(total);
  let measured = 0;
  let lastAcked = 0;
  let lastDurable = 0;
  ledger.onDurable((seq) => {
    const now = performance.now();
    for (let s = lastDurable + 1; s <= seq && s < durableAt.length; s++) {
      durableAt[s] = now;
    }
    lastDurable = seq;
  });
  uplink.forwarder.onAcked((seq) => {
    const now = performance.now();
    for (let s = lastAcked + 1; s <= seq && s < appendAt.length; s++) {
      if ((appendAt[s] ?? 0) > 0 && measured < total) {
        appendToAck[measured] = now - (appendAt[s] ?? now);
        durableToAck[measured] = now - (durableAt[s] ?? now);
        measured++;
      }
    }
    lastAcked = seq;
  });
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    for (; sent < due; sent++) {
      const at = performance.now();
      void ledger.append(fields(sent)).then((entry) => {
        if (entry.seq < appendAt.length) {
          appendAt[entry.seq] = at;
        }
      });
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  const offeredSeconds = (performance.now() - started) / 1000;
  await waitForAcked(uplink, ledger.durableSeq());
  await uplink.stop();
  await ledger.stop();
  const a = appendToAck.subarray(0, measured);
  const d = durableToAck.subarray(0, measured);
  return {
    offeredPerSecond: rate,
    commitIntervalMs,
    batchMaxRecords: batchRecords,
    achievedPerSecond: Math.round(total / offeredSeconds),
    records: measured,
    appendToPubackMs: {
      p50: round(quantile(a, 0.5)),
      p99: round(quantile(a, 0.99)),
      max: round(quantile(a, 1)),
    },
    durableToPubackMs: {
      p50: round(quantile(d, 0.5)),
      p99: round(quantile(d, 0.99)),
      max: round(quantile(d, 1)),
    },
  };
}

async function main(): Promise<void> {
  const step = (s: string) => process.env.BENCH_DEBUG && console.error(s);
  const dir = await mkdtemp(join(tmpdir(), "edgewarden-bench-uplink-"));
  const port = await freePort();
  const broker = await startMosquitto(dir, port);
  step("broker");
  const subscriber = await startSubscriber(port);
  step("subscriber");
  try {
    const keyFile = join(dir, "gateway.key");
    await createKeyFile(keyFile, newGatewayKeyFile(new Date()));
    const ring = await loadKeyRing(keyFile);
    const drained = PHASES.includes("drain") ? await drain(dir, port, ring, subscriber, 1) : undefined;
    step(JSON.stringify(drained));
    const batched = PHASES.includes("drain") ? await drain(dir, port, ring, subscriber, 50) : undefined;
    const latencies = [];
    // BENCH_UPLINK_COMMIT_MS=40 measures another storage.commitInterval (the default 50 and 10 by default).
    const intervals = (process.env.BENCH_UPLINK_COMMIT_MS ?? "50,10").split(",").map(Number);
    const runs = intervals.flatMap((commitIntervalMs) => [
      { rate: 1_000, commitIntervalMs, batchRecords: 1 },
      { rate: 10_000, commitIntervalMs, batchRecords: 1 },
      { rate: 10_000, commitIntervalMs, batchRecords: 50 },
    ]);
    for (const run of PHASES.includes("latency") ? runs : []) {
      latencies.push(await latency(dir, port, ring, run));
    }
    const result = {
      bench: "uplink",
      machine: { nproc: availableParallelism(), cpu: cpus()[0]?.model, node: process.version },
      setup: {
        broker: `mosquitto 2.0 (local, no persistence, set_tcp_nodelay ${process.env.BENCH_UPLINK_BROKER_NODELAY ?? "true"})`,
        encryption: "ascon-aead128",
        inflight: INFLIGHT,
        bodyBytes: fields(0).body.length,
        subscriber: "QoS 0, separate process",
      },
      drain: drained,
      drainBatched: batched,
      latency: latencies,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    subscriber.stop();
    broker.kill("SIGKILL"); // a clean broker stop is not measured, and SIGKILL cannot be lost
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
