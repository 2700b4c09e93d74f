/**
 * The receiver end to end (issue #7): a paced publisher -> the system mosquitto at 127.0.0.1:1883
 * -> ReceiverService (started from a config file, as `edgewarden receive -c FILE` does) -> the
 * PostgreSQL store, one receiver or two in one $share group, all in this process. Records per
 * second from the first publish to the last record stored.
 *
 * The publisher keeps at most MAX_OUTSTANDING records published and not yet stored: mosquitto
 * queues at most max_queued_messages (1000 by default) per session and drops the rest silently,
 * which would measure the broker's limit, not the receiver. A unique topic prefix keeps the run
 * apart from anything else on the broker; the receivers' sessions are ended afterwards.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type MqttClient } from "mqtt";
import pg from "pg";
import { systemClock } from "../../../src/clock.js";
import { formatIssue } from "../../../src/config/configIssue.js";
import { createKeyFile } from "../../../src/crypto/keys/index.js";
import { createLogger } from "../../../src/observability/logger.js";
import { loadReceiverConfigFile } from "../../../src/receiver/config/loadReceiverConfig.js";
import { readReceiverFiles } from "../../../src/receiver/config/receiverFiles.js";
import { ReceiverService } from "../../../src/receiver/receiverService.js";
import { BENCH_TEMPLATE, BenchGateway, type SealedMessage } from "./benchGateway.js";
import { PG_URL } from "./receiverStoreBench.js";

export const BROKER_URL = "mqtt://127.0.0.1:1883";
const MAX_OUTSTANDING = 5_000;
const STALL_MS = 30_000;

export interface EndToEndOptions {
  readonly records: number;
  readonly recordsPerEnvelope: number;
}

interface Receiver {
  readonly service: ReceiverService;
  readonly clientId: string;
  readonly fatal: unknown[];
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const mib = (bytes: number) => round(bytes / 2 ** 20, 1);
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

/** A ReceiverService from a config file, started and subscribed (its "subscribed" log line seen). */
async function startReceiver(configPath: string, clientId: string): Promise<Receiver> {
  const loaded = await loadReceiverConfigFile(configPath);
  if (!loaded.ok) {
    throw new Error(loaded.errors.map(formatIssue).join("\n"));
  }
  const files = await readReceiverFiles(loaded.config, loaded.locate);
  if (!files.ok) {
    throw new Error(files.errors.map(formatIssue).join("\n"));
  }
  let subscribed = false;
  const logger = createLogger({
    level: "info",
    repeatWindowMs: 60_000,
    destination: {
      write: (line: string) => {
        subscribed ||= line.includes('"msg":"receiver: subscribed"');
      },
    },
  });
  const fatal: unknown[] = [];
  const service = new ReceiverService({
    config: loaded.config,
    files: files.files,
    logger,
    clock: systemClock,
    onFatal: (error) => fatal.push(error),
  });
  await service.start();
  for (const deadline = Date.now() + 15_000; !subscribed; await tick()) {
    if (Date.now() > deadline) {
      throw new Error(`${clientId} did not subscribe within 15 s`);
    }
  }
  return { service, clientId, fatal };
}

/** Ends the broker's session of `clientId` (Session Expiry 0 on a clean connect). */
async function dropSession(clientId: string): Promise<void> {
  const client = connect(BROKER_URL, {
    protocolVersion: 5,
    clientId,
    clean: true,
    reconnectPeriod: 0,
    properties: { sessionExpiryInterval: 0 },
  });
  await new Promise<void>((resolve) => {
    client.once("connect", () => resolve());
    client.once("error", () => resolve());
  });
  await client.endAsync();
}

async function connectPublisher(): Promise<MqttClient> {
  const client = connect(BROKER_URL, { protocolVersion: 5, clean: true, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  return client;
}

function receiverConfig(run: {
  clientId: string;
  group: string | undefined;
  prefix: string;
  gateway: string;
  schema: string;
}): string {
  return [
    "mqtt:",
    `  url: ${BROKER_URL}`,
    `  clientId: ${run.clientId}`,
    ...(run.group === undefined ? [] : [`  group: ${run.group}`]),
    "  sessionExpiry: 5m",
    "topics:",
    `  prefix: ${run.prefix}`,
    `  template: "${BENCH_TEMPLATE}"`,
    "keys:",
    "  - file: gateway.key",
    `    gateway: ${run.gateway}`,
    "store:",
    "  postgres:",
    `    url: ${PG_URL}`,
    `    schema: ${run.schema}`,
    "log:",
    "  countersInterval: 1d",
    "",
  ].join("\n");
}

/** Publishes `messages` paced by what `stored()` reports; resolves when all are stored. */
async function publishPaced(
  messages: readonly SealedMessage[],
  perEnvelope: number,
  records: number,
  stored: () => number,
  describe: () => string,
): Promise<void> {
  const publisher = await connectPublisher();
  try {
    const perRound = Math.max(1, Math.floor(MAX_OUTSTANDING / perEnvelope / 5));
    let published = 0;
    let progressAt = performance.now();
    let lastStored = 0;
    const waitFor = async (condition: () => boolean) => {
      while (!condition()) {
        const now = stored();
        if (now !== lastStored) {
          lastStored = now;
          progressAt = performance.now();
        } else if (performance.now() - progressAt > STALL_MS) {
          throw new Error(`no record stored for ${STALL_MS} ms: ${describe()}`);
        }
        await tick();
      }
    };
    for (let at = 0; at < messages.length; at += perRound) {
      const round = messages.slice(at, at + perRound);
      // Envelopes are full but for maybe the last.
      const after = Math.min(records, (at + round.length) * perEnvelope);
      await waitFor(() => after - stored() <= MAX_OUTSTANDING);
      await Promise.all(round.map((m) => publisher.publishAsync(m.topic, m.payload, { qos: 1 })));
      published = after;
    }
    await waitFor(() => stored() >= published);
  } finally {
    await publisher.endAsync();
  }
}

async function runOnce(
  dir: string,
  gateway: BenchGateway,
  messages: readonly SealedMessage[],
  options: EndToEndOptions & { readonly receivers: number; readonly prefix: string },
) {
  const tag = randomBytes(4).toString("hex");
  const schema = `ew_bench_receiver_${tag}_e2e`;
  const group = options.receivers > 1 ? `ewbench-${tag}` : undefined;
  const receivers: Receiver[] = [];
  const clientIds = Array.from({ length: options.receivers }, (_, i) => `ew-bench-receiver-${tag}-${i}`);
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 50);
  try {
    for (const clientId of clientIds) {
      const configPath = join(dir, `${clientId}.yaml`);
      await writeFile(
        configPath,
        receiverConfig({ clientId, group, prefix: options.prefix, gateway: gateway.id, schema }),
      );
      receivers.push(await startReceiver(configPath, clientId));
    }
    const rssBefore = process.memoryUsage.rss();
    const stored = () => receivers.reduce((n, r) => n + r.service.counters.stored, 0);
    const describe = () =>
      JSON.stringify(receivers.map((r) => ({ ...r.service.counters, fatal: r.fatal.length })));
    const started = performance.now();
    await publishPaced(messages, options.recordsPerEnvelope, options.records, stored, describe);
    const seconds = (performance.now() - started) / 1000;
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    const fatal = receivers.flatMap((r) => r.fatal);
    if (stored() !== options.records || fatal.length > 0) {
      throw new Error(`stored ${stored()} of ${options.records}: ${describe()}`);
    }
    return {
      receivers: options.receivers,
      sharedGroup: group !== undefined,
      records: options.records,
      seconds: round(seconds),
      recordsPerSecond: Math.round(options.records / seconds),
      storedPerReceiver: receivers.map((r) => r.service.counters.stored),
      batches: receivers.reduce((n, r) => n + r.service.counters.batches, 0),
      rssBeforeMiB: mib(rssBefore),
      peakRssMiB: mib(peakRss),
    };
  } finally {
    clearInterval(sampler);
    for (const receiver of receivers) {
      await receiver.service.stop();
    }
    await Promise.all(clientIds.map(dropSession));
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
}

export async function benchEndToEnd(options: EndToEndOptions) {
  const dir = await mkdtemp(join(tmpdir(), "edgewarden-bench-receiver-"));
  try {
    const prefix = `ewbench-${randomBytes(4).toString("hex")}`;
    const gateway = new BenchGateway(`bench-gw-${randomBytes(3).toString("hex")}`, {
      prefix,
      template: BENCH_TEMPLATE,
    });
    await createKeyFile(join(dir, "gateway.key"), gateway.keyFile);
    // Sealed once, before any timing; each run has fresh receivers and a fresh schema, so the
    // same envelopes are new to it.
    const messages = gateway.seal(gateway.appendSamples(options.records), options.recordsPerEnvelope);
    const oneReceiver = await runOnce(dir, gateway, messages, { ...options, receivers: 1, prefix });
    const twoReceivers = await runOnce(dir, gateway, messages, { ...options, receivers: 2, prefix });
    return {
      broker: `${BROKER_URL} (the system mosquitto)`,
      maxOutstandingRecords: MAX_OUTSTANDING,
      process: "the publisher and the receivers share this process and its one event loop",
      receiverSettings:
        "batch.maxMessages 500, batch.maxDelay 50ms, receiveMaximum 1000, auditInterval 10s (defaults)",
      oneReceiver,
      twoReceiversSharedGroup: twoReceivers,
      processMaxRssMiB: mib(process.resourceUsage().maxRSS * 1024),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
