/**
 * End to end (issue #7, "Must show"): simulator → daemon (all stages) → the real Mosquitto at
 * 127.0.0.1:1883 → `edgewarden receive` → the real PostgreSQL at 127.0.0.1:5432, for five minutes
 * with a fault injected: every sample the daemon logged is in PostgreSQL, the injected fault is
 * stored as an anomaly of its type, and the receiver's chain audit finds no gap and no tampering.
 *
 * The plant and the daemon's config are the demo's (config/plant-sim.yaml, config/demo.yaml, the
 * drive's power profile trained on a simulated day as the demo does), pointed at the real broker
 * with MQTT 5 and a topic prefix of its own. EDGEWARDEN_E2E_SECONDS shortens the run for local work.
 */
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { systemClock } from "../../src/clock.js";
import { trainDemoModels } from "../../src/demo/demoModels.js";
import { DEMO_PLANT, DEMO_TEMPLATE, DemoWorkspace } from "../../src/demo/demoWorkspace.js";
import { freeTcpPort } from "../../src/freePort.js";
import { loadPlantFile } from "../../src/simulator/loadPlant.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { assertBuilt, edgewarden, hasMsg, RUNNING, spawnDaemon } from "../helpers/daemon.js";
import { type JsonRecord, LineChild } from "../helpers/lineChild.js";
import { cliPath, repoRoot } from "../helpers/paths.js";
import { Resources } from "../helpers/resources.js";

const PG_URL = process.env.EDGEWARDEN_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const BROKER = "mqtt://127.0.0.1:1883";
const RUN_S = Number(process.env.EDGEWARDEN_E2E_SECONDS ?? 300);
/** The fault goes in a minute into the run (a fifth of a shortened one), for a minute. */
const FAULT_AT_S = Math.min(60, Math.round(RUN_S / 5));
const FAULT = { machine: "mill-drive", fault: "overload", durationS: 60 } as const;
const MINUTE = 60_000;

describe("simulator → daemon → mosquitto → receiver → PostgreSQL", () => {
  const resources = new Resources();
  let workspace: DemoWorkspace | undefined;
  const tag = randomBytes(4).toString("hex");
  const prefix = `ew-e2e-${tag}`;
  const schema = `ew_e2e_${tag}`;
  const db = new pg.Client({ connectionString: PG_URL });
  let simulator: Simulator | undefined;

  beforeAll(() => {
    assertBuilt();
  });

  afterAll(async () => {
    await resources.release();
    await simulator?.stop();
    await workspace?.remove(false);
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await db.end().catch(() => undefined);
  });

  it(
    `stores every sample the daemon logged over ${RUN_S} s, and the injected overload as an overload anomaly`,
    async () => {
      await db.connect();
      const template = await realBrokerTemplate(await resources.tempDir("edgewarden-e2e-tpl-"), prefix);
      const ws = new DemoWorkspace(template);
      workspace = ws;
      const dir = await ws.create();

      const plant = await loadPlantFile(DEMO_PLANT);
      if (!plant.ok) {
        throw new Error(`${DEMO_PLANT} is not a valid plant file`);
      }
      simulator = new Simulator(plant.plant, {
        modbusHost: "127.0.0.1",
        modbusPort: await freeTcpPort(),
        controlPort: 0,
        clock: systemClock,
      });
      const ports = await simulator.start();
      const { config, configPath } = await ws.writeConfig({
        brokerUrl: BROKER,
        modbusPort: ports.modbus,
        statusPort: await freeTcpPort(),
      });
      const models = await trainDemoModels(config, plant.plant, Date.now());
      expect(models.filter((m) => !m.ok)).toEqual([]);

      const receiverConfig = join(dir, "receiver.yaml");
      await writeFile(receiverConfig, receiverYaml(prefix, schema, ws.keyPath, config.gateway.id), {
        mode: 0o600,
      });
      const receiver = resources.track(
        new LineChild("receiver", process.execPath, [cliPath, "receive", "-c", receiverConfig], {
          cwd: repoRoot,
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
        }),
      );
      await receiver.waitFor(hasMsg("receiver: subscribed"), "the receiver subscribed", {
        timeoutMs: 30_000,
      });

      const daemon = spawnDaemon(resources, { config: configPath });
      await daemon.waitFor(RUNNING, "the daemon running", { timeoutMs: 60_000 });
      await sleepS(FAULT_AT_S);
      await injectFault(ports.control);
      await sleepS(RUN_S - FAULT_AT_S);
      daemon.signal("SIGTERM");
      expect(await daemon.exited).toEqual({ code: 0, signal: null });

      const entries = ledgerOf(configPath);
      const samples = entries.filter((e) => e.kind === "sample").map((e) => Number(e.seq));
      // About 1.2 samples a second from the three machines, plus the gateway's own.
      expect(samples.length).toBeGreaterThan(RUN_S);
      const gateway = config.gateway.id;
      const stored = async () =>
        (
          await db.query<{ seq: string }>(`SELECT seq FROM "${schema}".samples WHERE gateway = $1`, [gateway])
        ).rows.map((row) => Number(row.seq));
      await waitUntil(async () => (await stored()).length >= samples.length, {
        timeoutMs: 2 * MINUTE,
        what: "every logged sample in PostgreSQL",
        detail: async () => {
          const have = new Set(await stored());
          const missing = samples.filter((seq) => !have.has(seq));
          return `${have.size} of ${samples.length} stored; missing ${missing.slice(0, 20).join(",")}; ledger ${entries.length} entries; receiver said:\n${receiver.lines
            .slice(-15)
            .map((line) => JSON.stringify(line))
            .join("\n")}\n${receiver.stderr}`;
        },
      });
      expect(new Set(await stored())).toEqual(new Set(samples));

      const chain = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM "${schema}".chain WHERE gateway = $1`,
        [gateway],
      );
      expect(Number(chain.rows[0]?.n)).toBe(entries.length);

      const anomalies = await db.query<{ device: string; type: string; state: string }>(
        `SELECT device, type, state FROM "${schema}".anomalies WHERE gateway = $1 ORDER BY seq`,
        [gateway],
      );
      expect(anomalies.rows).toContainEqual({ device: "mill-drive", type: "overload", state: "raised" });

      // The auditor walked the whole chain: no gap, no tampering.
      await waitUntil(
        async () =>
          Number(
            (
              await db.query<{ s: string }>(
                `SELECT audited_seq AS s FROM "${schema}".gateways WHERE id = $1`,
                [gateway],
              )
            ).rows[0]?.s ?? 0,
          ) >= entries.length,
        { timeoutMs: MINUTE, what: "the chain audit to reach the head" },
      );
      expect((await db.query(`SELECT * FROM "${schema}".gaps`)).rows).toEqual([]);
      expect((await db.query(`SELECT * FROM "${schema}".events WHERE source = 'receiver'`)).rows).toEqual([]);

      receiver.signal("SIGTERM");
      expect(await receiver.exited).toEqual({ code: 0, signal: null });
    },
    RUN_S * 1000 + 6 * MINUTE,
  );
});

/** The demo's daemon config, on the real broker: MQTT 5, a topic prefix no other run uses. */
async function realBrokerTemplate(dir: string, prefix: string): Promise<string> {
  const document = parseDocument(await readFile(DEMO_TEMPLATE, "utf8"));
  document.setIn(["uplink", "mqttVersion"], "5");
  document.setIn(["uplink", "clientId"], `${prefix}-gw`);
  document.setIn(["uplink", "topics", "prefix"], prefix);
  const path = join(dir, "demo.yaml");
  await writeFile(path, document.toString({ lineWidth: 0 }));
  return path;
}

function receiverYaml(prefix: string, schema: string, keyPath: string, gateway: string): string {
  return [
    "mqtt:",
    `  url: ${BROKER}`,
    `  clientId: ${prefix}-receiver`,
    "  sessionExpiry: 10m",
    "topics:",
    `  prefix: ${prefix}`,
    "keys:",
    `  - file: ${keyPath}`,
    `    gateway: ${gateway}`,
    "store:",
    "  postgres:",
    `    url: ${PG_URL}`,
    `    schema: ${schema}`,
    "    auditInterval: 2s",
    "    gapGrace: 30s",
    "",
  ].join("\n");
}

function ledgerOf(configPath: string): JsonRecord[] {
  const tail = edgewarden(["ledger", "tail", "-c", configPath, "-n", "10000000"], { maxBuffer: 1 << 30 });
  if (tail.code !== 0) {
    throw new Error(`ledger tail exited ${tail.code}: ${tail.stderr}`);
  }
  return tail.stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as JsonRecord);
}

async function injectFault(controlPort: number | undefined): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${controlPort}/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(FAULT),
  });
  expect(response.status).toBeLessThan(300);
}

/** Polls an async condition (a database query) until it holds. */
async function waitUntil(
  condition: () => Promise<boolean>,
  {
    timeoutMs,
    what,
    detail,
  }: { readonly timeoutMs: number; readonly what: string; readonly detail?: () => Promise<string> },
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${detail === undefined ? "" : `: ${await detail()}`}`,
      );
    }
    await sleepS(0.5);
  }
}

function sleepS(seconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, seconds) * 1000));
}
