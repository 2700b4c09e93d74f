/**
 * The status endpoint (issue #7 item 3) in-process on a real Ledger in a temp LevelDB directory:
 * /metrics is Prometheus text with the named metrics, /status is the documented JSON, anything
 * else is 404 or 405, it listens on loopback only, and what it keeps is bounded.
 */
import { request } from "node:http";
import { networkInterfaces } from "node:os";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AnomalyBody } from "../../src/analytics/alerts/anomalyBody.js";
import { systemClock } from "../../src/clock.js";
import { Ledger } from "../../src/ledger/ledger.js";
import { GatewayMetrics } from "../../src/observability/metrics.js";
import { MAX_ANOMALIES, StatusCollector } from "../../src/observability/statusCollector.js";
import type { StatusDocument } from "../../src/observability/statusReport.js";
import { StatusServer } from "../../src/observability/statusServer.js";
import type { Sample } from "../../src/records.js";
import { memoryLogger } from "../helpers/memoryLogger.js";
import { Resources } from "../helpers/resources.js";

let resources: Resources;
const running: { stop(): Promise<void> }[] = [];

beforeEach(() => {
  resources = new Resources();
});

afterEach(async () => {
  for (const component of running.splice(0).reverse()) {
    await component.stop();
  }
  await resources.release();
});

function sample(device: string, ts: number, values: Sample["values"]): Sample {
  return { kind: "sample", device, ts, clockSynced: true, values };
}

function anomaly(index: number, overrides: Partial<AnomalyBody> = {}): AnomalyBody {
  return {
    kind: "anomaly",
    id: `mill-drive:${index}`,
    device: "mill-drive",
    type: "overload",
    severity: "HIGH",
    state: "raised",
    ts: 1_795_320_000_000 + index * 1_000,
    startedTs: 1_795_320_000_000 + index * 1_000,
    score: 0.9,
    detectors: [],
    tags: [{ tag: "current", weight: 1, value: 140, expected: 100 }],
    explanation: `current 140 A above 100 A expected (${index})`,
    ...overrides,
  } as AnomalyBody;
}

async function startEndpoint() {
  const { logger } = memoryLogger();
  const signal = new AbortController().signal;
  const ledger = new Ledger(
    {
      dir: await resources.tempDir(),
      commitIntervalMs: 5,
      commitMaxRecords: 1_000,
      degradedBufferRecords: 10_000,
      retention: { maxBytes: 2 ** 30, maxAgeMs: 86_400_000 },
    },
    { clock: systemClock, logger },
  );
  await ledger.start(signal);
  running.push(ledger);
  const collector = new StatusCollector(new GatewayMetrics("9.9.9"));
  let learning = true;
  const server = new StatusServer(
    { host: "127.0.0.1", port: 0 },
    {
      metrics: collector.metrics,
      status: {
        version: "9.9.9",
        gateway: { id: "gw-test", site: "lab" },
        deviceNames: ["mill-drive", "furnace"],
        collector,
        wallNow: () => systemClock.wallNow(),
      },
      sources: { ledger, learning: () => learning },
      logger,
    },
  );
  await server.start(signal);
  running.push(server);
  const port = server.address?.port ?? 0;
  return {
    ledger,
    collector,
    server,
    port,
    setLearning: (value: boolean) => {
      learning = value;
    },
  };
}

function get(port: number, path: string, method = "GET", host = "127.0.0.1") {
  return new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    const req = request({ host, port, path, method }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () =>
        resolve({ status: response.statusCode ?? 0, type: response.headers["content-type"] ?? "", body }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

/** Prometheus text format 0.0.4: HELP/TYPE comments and `name{labels} value` lines, nothing else. */
function parsePrometheus(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line)) {
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="[^"]*",?)*\})?) (\S+)$/.exec(
      line,
    );
    if (match === null) {
      throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
    }
    series.set(match[1] ?? "", Number(match[2]));
  }
  return series;
}

describe("the status endpoint", () => {
  it("serves the named metrics as Prometheus text", async () => {
    const { ledger, collector, port } = await startEndpoint();
    for (let i = 0; i < 5; i++) {
      await ledger.append({
        kind: "sample",
        ts: 1_000 + i,
        clockSynced: true,
        device: "mill-drive",
        body: "{}",
      });
    }
    collector.cycle("mill-drive", 42);
    collector.cycle("mill-drive", 3_000);
    collector.read("mill-drive", { kind: "timeout", crcErrors: 0 });
    collector.read("mill-drive", { kind: "timeout", crcErrors: 2 });
    collector.read("furnace", { kind: "exception", code: 2, name: "illegal data address" });
    collector.read("furnace", { kind: "ok", registers: [1] });
    collector.observeAnomaly(anomaly(1));
    collector.observeAnomaly(anomaly(2, { state: "ended" }));

    const { status, type, body } = await get(port, "/metrics");

    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    const series = parsePrometheus(body);
    expect(series.get('edgewarden_poll_duration_seconds_count{device="mill-drive"}')).toBe(2);
    expect(series.get('edgewarden_poll_duration_seconds_bucket{le="0.05",device="mill-drive"}')).toBe(1);
    expect(series.get('edgewarden_request_errors_total{device="mill-drive",reason="timeout"}')).toBe(1);
    expect(series.get('edgewarden_request_errors_total{device="mill-drive",reason="crc"}')).toBe(1);
    expect(series.get('edgewarden_request_errors_total{device="furnace",reason="exception_02"}')).toBe(1);
    expect(series.get('edgewarden_anomalies_total{type="overload",severity="HIGH"}')).toBe(1);
    expect(series.get("edgewarden_ledger_head_seq")).toBe(5);
    expect(series.get("edgewarden_ledger_backlog_records")).toBe(5);
    expect(series.get("edgewarden_ledger_bytes")).toBeGreaterThanOrEqual(0);
    expect(series.get("edgewarden_analytics_learning")).toBe(1);
    expect(series.get('edgewarden_build_info{version="9.9.9"}')).toBe(1);
    // No uplink in this test: its gauges are absent rather than zero.
    expect([...series.keys()].some((name) => name.startsWith("edgewarden_uplink_publish_rate"))).toBe(false);
  });

  it("serves the JSON status: devices with last values and quality, ledger, anomalies, uptime, version", async () => {
    const { ledger, collector, port, setLearning } = await startEndpoint();
    await ledger.append({ kind: "sample", ts: 1_000, clockSynced: true, device: "mill-drive", body: "{}" });
    collector.observeSample(
      sample("mill-drive", 2_000, {
        current: { value: 101.5, quality: "good", unit: "A" },
        runs: { value: 12n ** 20n, quality: "good" },
      }),
    );
    collector.observeSample(
      sample("mill-drive", 3_000, { current: { value: null, quality: "bad", reason: "timeout", unit: "A" } }),
    );
    collector.observeAnomaly(anomaly(1));
    setLearning(false);

    const { status, type, body } = await get(port, "/status");

    expect(status).toBe(200);
    expect(type).toBe("application/json; charset=utf-8");
    const doc = JSON.parse(body) as StatusDocument;
    expect(doc).toMatchObject({
      version: "9.9.9",
      gateway: { id: "gw-test", site: "lab" },
      uptimeS: expect.any(Number),
      ledger: { health: "ok", headSeq: 1, backlogRecords: 1, ackedSeq: 0, headHash: expect.any(String) },
      uplink: null,
      analytics: { learning: false },
    });
    expect(doc.devices).toEqual([
      {
        name: "mill-drive",
        lastTs: 3_000,
        moreTags: 0,
        tags: [
          { name: "current", value: null, quality: "bad", reason: "timeout", unit: "A" },
          { name: "runs", value: (12n ** 20n).toString(), quality: "good" },
        ],
      },
      { name: "furnace", lastTs: null, tags: [], moreTags: 0 },
    ]);
    expect(doc.anomalies).toEqual([
      {
        ts: anomaly(1).ts,
        device: "mill-drive",
        type: "overload",
        severity: "HIGH",
        state: "raised",
        score: 0.9,
        explanation: anomaly(1).explanation,
      },
    ]);
  });

  it("keeps only the last 20 anomalies, oldest first", async () => {
    const { collector, port } = await startEndpoint();
    for (let i = 1; i <= 45; i++) {
      collector.observeAnomaly(anomaly(i));
    }
    const doc = JSON.parse((await get(port, "/status")).body) as StatusDocument;
    expect(doc.anomalies).toHaveLength(MAX_ANOMALIES);
    expect(doc.anomalies.map((a) => a.explanation.match(/\((\d+)\)/)?.[1])).toEqual(
      Array.from({ length: MAX_ANOMALIES }, (_, i) => String(45 - MAX_ANOMALIES + 1 + i)),
    );
  });

  it("answers other paths with 404 and other methods with 405", async () => {
    const { port } = await startEndpoint();
    expect((await get(port, "/")).status).toBe(404);
    expect((await get(port, "/statusx")).status).toBe(404);
    expect((await get(port, "/metrics", "POST")).status).toBe(405);
    expect((await get(port, "/status", "DELETE")).status).toBe(405);
    expect((await get(port, "/status?pretty=1")).status).toBe(200);
  });

  it("listens on loopback only", async () => {
    const { server, port } = await startEndpoint();
    expect(server.address?.address).toBe("127.0.0.1");
    const external = Object.values(networkInterfaces())
      .flat()
      .find((address) => address !== undefined && address.family === "IPv4" && !address.internal);
    if (external !== undefined) {
      await expect(get(port, "/status", "GET", external.address)).rejects.toThrow(/ECONNREFUSED/);
    }
  });

  it("keeps running without the endpoint when its port is taken", async () => {
    const { port } = await startEndpoint();
    const { logger, lines } = memoryLogger();
    const collector = new StatusCollector(new GatewayMetrics("9.9.9"));
    const second = new StatusServer(
      { host: "127.0.0.1", port },
      {
        metrics: collector.metrics,
        status: {
          version: "9.9.9",
          gateway: { id: "g", site: "s" },
          deviceNames: [],
          collector,
          wallNow: () => 0,
        },
        sources: {},
        logger,
      },
    );
    await second.start(new AbortController().signal);
    running.push(second);
    expect(second.address).toBeUndefined();
    expect(lines.some((line) => String(line.msg).startsWith("status endpoint not started"))).toBe(true);
  });
});
