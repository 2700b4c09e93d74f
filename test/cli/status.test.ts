/**
 * `edgewarden status -c FILE [--json]` (issue #7 item 3) against a status endpoint served
 * in-process on the port the config names: it renders devices, last values and quality, backlog,
 * chain head and anomalies for a person, prints the served JSON with --json, and exits 1 with a
 * clear message when nothing answers.
 */
import { writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AnomalyBody } from "../../src/analytics/alerts/anomalyBody.js";
import { main } from "../../src/commands/program.js";
import { GatewayMetrics } from "../../src/observability/metrics.js";
import { StatusCollector } from "../../src/observability/statusCollector.js";
import type { StatusDocument } from "../../src/observability/statusReport.js";
import { StatusServer } from "../../src/observability/statusServer.js";
import { configText } from "../helpers/daemon.js";
import { memoryLogger } from "../helpers/memoryLogger.js";
import { Resources } from "../helpers/resources.js";

let resources: Resources;
let server: StatusServer | undefined;

beforeEach(() => {
  resources = new Resources();
});

afterEach(async () => {
  vi.restoreAllMocks();
  await server?.stop();
  server = undefined;
  await resources.release();
});

/** A ledger stand-in with fixed figures: the command only reads the served document. */
const ledger = {
  health: () => ({ state: "ok" as const, buffered: 0, shed: 0 }),
  stats: () =>
    Promise.resolve({
      records: 1_234,
      firstSeq: 1,
      lastSeq: 1_234,
      headHash: "ab12cd34ef56ab12cd34ef56",
      ackedSeq: 1_200,
      backlogRecords: 34,
      approxBytes: 2_097_152,
      oldestUnackedTs: null,
      appended: 1_234,
      commits: 10,
      shed: 0,
      commitFailures: 0,
      retentionDeleted: 0,
      retentionLostUnacked: 0,
      pending: 0,
    }),
};

async function serve(): Promise<number> {
  const { logger } = memoryLogger();
  const collector = new StatusCollector(new GatewayMetrics("9.9.9"));
  collector.observeSample({
    kind: "sample",
    device: "mill-drive",
    ts: Date.now() - 5_000,
    clockSynced: true,
    values: {
      current: { value: 101.5, quality: "good", unit: "A" },
      winding_temp: { value: null, quality: "bad", reason: "timeout", unit: "°C" },
    },
  });
  collector.observeAnomaly({
    kind: "anomaly",
    id: "mill-drive:1",
    device: "mill-drive",
    type: "overload",
    severity: "HIGH",
    state: "raised",
    ts: Date.UTC(2026, 11, 3, 14, 0),
    startedTs: Date.UTC(2026, 11, 3, 14, 0),
    score: 0.93,
    detectors: [],
    tags: [],
    explanation: "current 140 A above the 100 A expected",
  } as AnomalyBody);
  server = new StatusServer(
    { host: "127.0.0.1", port: 0 },
    {
      metrics: collector.metrics,
      status: {
        version: "9.9.9",
        gateway: { id: "gw-test", site: "lab" },
        deviceNames: ["mill-drive", "furnace"],
        collector,
        wallNow: () => Date.now(),
      },
      sources: { ledger: ledger as never, learning: () => false },
      logger,
    },
  );
  await server.start(new AbortController().signal);
  return server.address?.port ?? 0;
}

async function configFile(port: number, enabled = true): Promise<string> {
  const dir = await resources.tempDir();
  const file = join(dir, "config.yaml");
  await writeFile(
    file,
    `${configText({ dataDir: dir })}  status:\n    enabled: ${enabled}\n    port: ${port}\n`,
  );
  return file;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return typeof address === "object" && address !== null ? address.port : 0;
}

async function edgewarden(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(["node", "edgewarden", ...args]);
    return { code, stdout, stderr };
  } finally {
    vi.restoreAllMocks();
  }
}

describe("edgewarden status", () => {
  it("renders devices with last values and quality, backlog, chain head and the last anomalies", async () => {
    const file = await configFile(await serve());

    const { code, stdout, stderr } = await edgewarden(["status", "-c", file]);

    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^edgewarden 9\.9\.9 · gateway gw-test \(lab\) · up /);
    expect(stdout).toMatch(/chain head seq 1234 \(ab12cd34ef56…\), backlog 34 records, 2\.0 MB stored/);
    expect(stdout).toMatch(/uplink: off/);
    expect(stdout).toMatch(/analytics: scoring/);
    expect(stdout).toMatch(/ {2}mill-drive {2}last reading \d+ s ago/);
    expect(stdout).toMatch(/ {4}current {7}101\.5 A {2}good/);
    expect(stdout).toMatch(/ {4}winding_temp {2}— °C {2}bad: timeout/);
    expect(stdout).toMatch(/ {2}furnace {2}no reading yet/);
    expect(stdout).toMatch(
      /2026-12-03T14:00:00\.000Z {2}mill-drive {2}overload HIGH \(raised, score 0\.93\) {2}current 140 A above/,
    );
  });

  it("prints the served JSON with --json", async () => {
    const file = await configFile(await serve());

    const { code, stdout } = await edgewarden(["status", "-c", file, "--json"]);

    expect(code).toBe(0);
    const doc = JSON.parse(stdout) as StatusDocument;
    expect(doc.ledger).toMatchObject({ headSeq: 1_234, backlogRecords: 34 });
    expect(doc.devices.map((device) => device.name)).toEqual(["mill-drive", "furnace"]);
    expect(doc.anomalies).toHaveLength(1);
  });

  it("exits 1 with a clear message when the daemon is not reachable", async () => {
    const port = await freePort();
    const file = await configFile(port);

    const { code, stdout, stderr } = await edgewarden(["status", "-c", file]);

    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      `edgewarden status: the daemon is not reachable at http://127.0.0.1:${port}/status (ECONNREFUSED); is the daemon running?\n`,
    );
  });

  it("says the endpoint is disabled in the config when nothing answers and it is off", async () => {
    const file = await configFile(await freePort(), false);

    const { code, stderr } = await edgewarden(["status", "-c", file]);

    expect(code).toBe(1);
    expect(stderr).toMatch(/observability\.status\.enabled is false in .*config\.yaml: enable it/);
  });

  it("exits 2 on a config with errors", async () => {
    const dir = await resources.tempDir();
    const file = join(dir, "bad.yaml");
    await writeFile(file, "gateway: {}\n");

    const { code, stderr } = await edgewarden(["status", "-c", file]);

    expect(code).toBe(2);
    expect(stderr).toMatch(/has errors/);
  });
});
