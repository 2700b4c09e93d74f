/**
 * What the receiver's MQTT tests share: a unique gateway id per test (so its topics are unique on
 * the system mosquitto at 127.0.0.1:1883), its key file on disk (mode 0600), a receiver config
 * file, a QoS 1 publisher, the JSONL output read back, and the broker session removed at the end.
 */
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { connect, type MqttClient } from "mqtt";
import type pg from "pg";
import { systemClock } from "../../src/clock.js";
import { formatIssue } from "../../src/config/configIssue.js";
import { createKeyFile } from "../../src/crypto/keys/index.js";
import { loadReceiverConfigFile } from "../../src/receiver/config/loadReceiverConfig.js";
import { readReceiverFiles } from "../../src/receiver/config/receiverFiles.js";
import { ReceiverService } from "../../src/receiver/receiverService.js";
import type { JsonRecord } from "../helpers/lineChild.js";
import { memoryLogger } from "../helpers/memoryLogger.js";
import { waitUntil } from "../helpers/waitUntil.js";
import { FakeGateway, type Message } from "./gatewayFixture.js";

export const BROKER_URL = "mqtt://127.0.0.1:1883";

export interface ReceiverSetup {
  readonly gatewayId: string;
  readonly gateway: FakeGateway;
  readonly clientId: string;
  readonly keyPath: string;
  readonly configPath: string;
  readonly outputPath: string;
}

export interface SetupOptions {
  /** The store section's lines; default a JSONL file received.jsonl in `dir`. */
  readonly store?: readonly string[];
  /** A shared subscription group. */
  readonly group?: string;
}

/** A fresh gateway and a receiver config for it in `dir`. */
export async function receiverSetup(dir: string, options: SetupOptions = {}): Promise<ReceiverSetup> {
  const suffix = randomBytes(4).toString("hex");
  const gatewayId = `gw-${suffix}`;
  const gateway = new FakeGateway(gatewayId);
  const keyPath = join(dir, "gateway.key");
  await createKeyFile(keyPath, gateway.keyFile);
  const clientId = `receiver-test-${suffix}`;
  const configPath = join(dir, "receiver.yaml");
  const outputPath = join(dir, "received.jsonl");
  await writeFile(
    configPath,
    [
      "mqtt:",
      `  url: ${BROKER_URL}`,
      `  clientId: ${clientId}`,
      `  subscribe: edgewarden/+/${gatewayId}/#`,
      ...(options.group === undefined ? [] : [`  group: ${options.group}`]),
      "  sessionExpiry: 5m",
      "  receiveMaximum: 100",
      "  reconnect:",
      "    initialDelay: 100ms",
      "    maxDelay: 1s",
      "keys:",
      "  - file: gateway.key",
      `    gateway: ${gatewayId}`,
      "store:",
      ...(options.store ?? ["  jsonl:", "    path: received.jsonl"]),
      "batch:",
      "  maxMessages: 50",
      "  maxDelay: 20ms",
      "log:",
      "  level: debug",
      "  countersInterval: 1s",
      "",
    ].join("\n"),
  );
  return { gatewayId, gateway, clientId, keyPath, configPath, outputPath };
}

export async function connectPublisher(): Promise<MqttClient> {
  const client = connect(BROKER_URL, { protocolVersion: 5, clean: true, reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  return client;
}

export async function publish(
  client: MqttClient,
  messages: readonly Pick<Message, "topic" | "payload">[],
): Promise<void> {
  await Promise.all(messages.map((m) => client.publishAsync(m.topic, m.payload, { qos: 1 })));
}

export type JsonLine = Record<string, unknown> & { type: string };

export async function readJsonl(path: string): Promise<JsonLine[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return [];
    }
    throw error;
  }
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as JsonLine);
}

export function recordSeqs(lines: readonly JsonLine[]): number[] {
  return lines.filter((line) => line.type === "record").map((line) => line.seq as number);
}

/** Ends the broker's session of `clientId` (Session Expiry 0 on a clean connect), so none is left behind. */
export async function dropSession(clientId: string): Promise<void> {
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

export interface RunningService {
  readonly service: ReceiverService;
  readonly logs: JsonRecord[];
  readonly fatal: unknown[];
}

/** A ReceiverService in this process from a config file, started and subscribed. */
export async function startReceiverService(configPath: string): Promise<RunningService> {
  const loaded = await loadReceiverConfigFile(configPath);
  if (!loaded.ok) {
    throw new Error(loaded.errors.map(formatIssue).join("\n"));
  }
  const files = await readReceiverFiles(loaded.config, loaded.locate);
  if (!files.ok) {
    throw new Error(files.errors.map(formatIssue).join("\n"));
  }
  const { logger, lines } = memoryLogger();
  const fatal: unknown[] = [];
  const service = new ReceiverService({
    config: loaded.config,
    files: files.files,
    logger,
    clock: systemClock,
    onFatal: (error) => fatal.push(error),
  });
  await service.start();
  await waitUntil(() => lines.some((l) => l.msg === "receiver: subscribed"), "the subscription", {
    timeoutMs: 15_000,
  });
  return { service, logs: lines, fatal };
}

/** Publishes messages[from, to) at QoS 1, `round` at a time (each round waits for its PUBACKs). */
export async function publishRange(
  client: MqttClient,
  messages: readonly Pick<Message, "topic" | "payload">[],
  from: number,
  to: number,
  round = 100,
): Promise<void> {
  for (let at = from; at < to; at += round) {
    await publish(client, messages.slice(at, Math.min(at + round, to)));
  }
}

/**
 * Waits until the PostgreSQL store's chain auditor has walked a gateway (the only one in the
 * schema when `gateway` is undefined) up to `seq`; returns where it got to, for the caller to assert.
 */
export async function auditedSeq(
  db: pg.ClientBase,
  schema: string,
  gateway: string | undefined,
  seq: number,
  timeoutMs = 60_000,
): Promise<number> {
  let audited = 0;
  for (const deadline = performance.now() + timeoutMs; audited < seq && performance.now() < deadline; ) {
    const head = await db.query<{ s: string }>(
      `SELECT audited_seq AS s FROM "${schema}".gateways${gateway === undefined ? "" : " WHERE id = $1"}`,
      gateway === undefined ? [] : [gateway],
    );
    audited = Number(head.rows[0]?.s ?? 0);
    if (audited < seq) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return audited;
}
