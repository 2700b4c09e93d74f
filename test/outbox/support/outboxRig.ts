/**
 * The whole outbox path for the issue #5 must-shows, with real parts only: the built daemon
 * (`node dist/cli.js run`) reading a serial-line sensor on a socat pty pair, sealing with a
 * gateway key file (0600) and forwarding to a mosquitto the test owns, with persistence on so a
 * persistent subscriber session survives broker restarts; that subscriber (SeqTally); and a fake
 * systemd notify socket whose STATUS lines say how the daemon's backlog moves.
 */

import { realpathSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  createKeyFile,
  type KeyRing,
  loadKeyRing,
  newGatewayKeyFile,
} from "../../../src/crypto/keys/index.js";
import { assertBuilt, componentMsg, edgewarden, hasMsg, RUNNING, spawnDaemon } from "../../helpers/daemon.js";
import { isRecord, type JsonRecord, type LineChild } from "../../helpers/lineChild.js";
import { Mosquitto } from "../../helpers/mosquitto.js";
import { NotifyListener } from "../../helpers/notifyListener.js";
import { type PtyPair, startPtyPair } from "../../helpers/ptyPair.js";
import type { Resources } from "../../helpers/resources.js";
import { LineFeeder } from "./lineFeeder.js";
import { RESOURCES_PRELOAD } from "./processProbe.js";
import { SeqTally } from "./seqTally.js";

export const GATEWAY = "gw-test";
export const DEVICE = "sensor";
export const ALL_RECORDS = `edgewarden/lab/${GATEWAY}/+/+`;
export const SENSOR_DATA = `edgewarden/lab/${GATEWAY}/${DEVICE}/data`;

export interface Rig extends RigSetup {
  readonly daemon: LineChild;
  readonly feeder: LineFeeder;
}

export interface RigOptions {
  /** uplink.inflight (default 64, the config default). */
  readonly inflight?: number;
  /** Lines of a `storage:` section for the config (none: the defaults). */
  readonly storage?: readonly string[];
  /** The subscriber opens every this-many-th seq's envelope (default: SeqTally's, 1000). */
  readonly openEvery?: number;
  /** Given the entry text of every envelope the subscriber opens. */
  readonly onOpened?: (seq: number, entryText: string) => void;
}

/** Everything of the rig but the daemon and the feeder: a test that restarts the daemon starts it itself. */
export interface RigSetup {
  readonly dir: string;
  readonly ledgerDir: string;
  /** The daemon's config file. */
  readonly config: string;
  readonly keys: KeyRing;
  readonly broker: Mosquitto;
  readonly pty: PtyPair;
  readonly notify: NotifyListener;
  readonly tally: SeqTally;
  readonly inflight: number;
}

export async function startRig(resources: Resources, options: RigOptions = {}): Promise<Rig> {
  const setup = await prepareRig(resources, options);
  const daemon = spawnRigDaemon(resources, setup, { preload: [RESOURCES_PRELOAD] });
  await waitUntilForwarding(daemon);
  const feeder = resources.track(await LineFeeder.open(setup.pty.b));
  return { ...setup, daemon, feeder };
}

export async function prepareRig(resources: Resources, options: RigOptions = {}): Promise<RigSetup> {
  assertBuilt();
  const dir = await resources.tempDir("edgewarden-outbox-");
  const dataDir = join(dir, "data");
  const ledgerDir = join(dataDir, "ledger");
  const keyFile = join(dir, "gateway.key");
  await createKeyFile(keyFile, newGatewayKeyFile(new Date()));
  const keys = await loadKeyRing(keyFile);
  const persistence = join(dir, "mosquitto");
  await mkdir(persistence);
  const broker = resources.track(
    await Mosquitto.start({
      dir,
      global: [
        // Later lines override the helper's "persistence false".
        "persistence true",
        `persistence_location ${persistence}/`,
        "autosave_interval 5",
        // Unlimited queues for a persistent session: mosquitto's default caps it at 1000 messages.
        "max_queued_messages 0",
        "max_queued_bytes 0",
      ],
    }),
  );
  const tally = resources.track(
    await SeqTally.connect({
      port: broker.port,
      topicFilter: ALL_RECORDS,
      clientId: `outbox-subscriber-${broker.port}`,
      keys,
      ...(options.openEvery === undefined ? {} : { openEvery: options.openEvery }),
      ...(options.onOpened === undefined ? {} : { onOpened: options.onOpened }),
    }),
  );
  const pty = resources.track(await startPtyPair(dir));
  const inflight = options.inflight ?? 64;
  const config = join(dir, "config.yaml");
  await writeFile(
    config,
    configText({
      dataDir,
      keyFile,
      port: broker.port,
      serialPath: realpathSync(pty.a),
      inflight,
      storage: options.storage ?? [],
    }),
  );
  const notify = await NotifyListener.start(resources, join(dir, "notify.sock"));
  return { dir, ledgerDir, config, keys, broker, pty, notify, tally, inflight };
}

export interface RigDaemonOptions {
  readonly name?: string;
  readonly preload?: readonly string[];
  /** Extra environment, e.g. EDGEWARDEN_REPORT_DURABLE. */
  readonly env?: Readonly<Record<string, string>>;
  readonly ipc?: boolean;
}

/** Spawns `edgewarden run` on the rig's config, reporting to the rig's notify socket; does not wait. */
export function spawnRigDaemon(
  resources: Resources,
  setup: RigSetup,
  options: RigDaemonOptions = {},
): LineChild {
  return spawnDaemon(resources, {
    config: setup.config,
    env: { ...options.env, NOTIFY_SOCKET: setup.notify.address },
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.preload === undefined ? {} : { preload: options.preload }),
    ...(options.ipc === undefined ? {} : { ipc: options.ipc }),
  });
}

/** Waits until the daemon runs, has opened the sensor's port and is connected upstream. */
export async function waitUntilForwarding(daemon: LineChild): Promise<void> {
  await daemon.waitFor(RUNNING, "the daemon to run", { timeoutMs: 60_000 });
  await daemon.waitFor(componentMsg(`serial-line:${DEVICE}`, "serial port opened"), "the serial port");
  await daemon.waitFor(hasMsg("uplink: connected"), "the uplink");
}

function configText(o: {
  dataDir: string;
  keyFile: string;
  port: number;
  serialPath: string;
  inflight: number;
  storage: readonly string[];
}): string {
  return [
    "gateway:",
    `  id: ${GATEWAY}`,
    "  site: lab",
    `  dataDir: ${o.dataDir}`,
    "  stopTimeout: 60s",
    // Only the sensor's samples, the daemon's events and checkpoints go into the ledger.
    "selfHealth:",
    "  enabled: false",
    "crypto:",
    "  encryption: ascon-aead128",
    `  keyFile: ${o.keyFile}`,
    "uplink:",
    `  url: mqtt://127.0.0.1:${o.port}`,
    `  inflight: ${o.inflight}`,
    "  reconnect:",
    "    initialDelay: 100ms",
    "    maxDelay: 1s",
    "devices:",
    `  - name: ${DEVICE}`,
    "    protocol: serial-line",
    "    serial:",
    `      path: ${o.serialPath}`,
    "    parser:",
    "      format: key-value",
    // No deadband: every line is one sample. A long staleAfter: pauses make no "stale" samples.
    "    staleAfter: 1h",
    "    tags:",
    "      - { name: t, field: T }",
    "      - { name: p, field: P }",
    "      - { name: n, field: N }",
    ...(o.storage.length === 0 ? [] : ["storage:", ...o.storage.map((line) => `  ${line}`)]),
    "observability:",
    "  log:",
    "    level: info",
    "",
  ].join("\n");
}

/**
 * The backlog figure of the daemon's STATUS= datagrams (pipelineMetrics.ts), newest last; from
 * datagram index `from` on (a restarted daemon's own).
 */
export function backlogs(notify: NotifyListener, from = 0): number[] {
  return notify.datagrams.slice(from).flatMap((datagram) => {
    const match = /backlog (\d+)/.exec(datagram);
    return match?.[1] === undefined ? [] : [Number(match[1])];
  });
}

/**
 * Waits until the daemon's backlog figure has not changed for `quietMs` (longer than the 5 s
 * STATUS period, and STATUS is only sent when it changes): every line written has been appended.
 */
export async function waitForAppendsToSettle(notify: NotifyListener, quietMs = 6_000): Promise<number> {
  let count = backlogs(notify).length;
  let changedAt = performance.now();
  const deadline = changedAt + 120_000;
  while (performance.now() - changedAt < quietMs) {
    if (performance.now() > deadline) {
      throw new Error(`the backlog kept changing for 120 s: ${backlogs(notify).slice(-5).join(", ")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = backlogs(notify).length;
    if (now !== count) {
      count = now;
      changedAt = performance.now();
    }
  }
  return backlogs(notify).at(-1) ?? 0;
}

/** The pipeline-metrics figures the daemon logs (at start, every minute and at stop), newest last. */
export function metricsLines(daemon: LineChild): JsonRecord[] {
  return daemon.lines.flatMap((line) =>
    line.msg === "metrics" && isRecord(line.metrics) ? [line.metrics] : [],
  );
}

export function figure(metrics: JsonRecord | undefined, part: "ledger" | "uplink", key: string): number {
  const section = metrics?.[part];
  const value = isRecord(section) ? section[key] : undefined;
  if (typeof value !== "number") {
    throw new Error(`metrics ${part}.${key} missing: ${JSON.stringify(metrics)}`);
  }
  return value;
}

/** Stops the daemon with SIGTERM and returns `ledger stats` of its stopped ledger. */
export async function stopAndReadStats(rig: Rig): Promise<JsonRecord> {
  rig.daemon.signal("SIGTERM");
  const exit = await rig.daemon.waitForExit(90_000);
  if (exit.code !== 0) {
    throw new Error(`the daemon exited ${exit.code}/${exit.signal}\n${rig.daemon.describe()}`);
  }
  const stats = edgewarden(["ledger", "stats", "-d", rig.ledgerDir]);
  if (stats.code !== 0) {
    throw new Error(`ledger stats exited ${stats.code}: ${stats.stderr}`);
  }
  return JSON.parse(stats.stdout) as JsonRecord;
}

/** The stored entries after seq `after` (ledger tail), for explaining a tail that was never published. */
export function entriesAfter(rig: Rig, after: number, head: number): JsonRecord[] {
  if (head <= after) {
    return [];
  }
  const tail = edgewarden(["ledger", "tail", "-d", rig.ledgerDir, "-n", String(head - after)]);
  return tail.stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as JsonRecord);
}
