/**
 * The health snapshot's document (issue #7 item 3; docs/protocol.md §1, "Health"), built from a
 * real status collector and a real Ledger in a temp LevelDB directory: per device a state and
 * counts of good and bad tags with a reason, the gateway's own figures, the chain head, the
 * uplink's figures, the last anomaly; and a size bound whatever the devices send.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AnomalyBody } from "../../src/analytics/alerts/anomalyBody.js";
import { systemClock } from "../../src/clock.js";
import { Ledger } from "../../src/ledger/ledger.js";
import {
  type HealthContext,
  healthDocument,
  MAX_HEALTH_BYTES,
  MAX_HEALTH_DEVICES,
} from "../../src/observability/healthReport.js";
import { GatewayMetrics } from "../../src/observability/metrics.js";
import { StatusCollector } from "../../src/observability/statusCollector.js";
import type { Sample } from "../../src/records.js";
import type { ForwarderStats } from "../../src/uplink/forwarderStats.js";
import { sampleFields } from "../helpers/ledgerDir.js";
import { memoryLogger } from "../helpers/memoryLogger.js";
import { Resources } from "../helpers/resources.js";

const NOW = 1_795_320_900_000;
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

async function openLedger(): Promise<Ledger> {
  const ledger = new Ledger(
    {
      dir: await resources.tempDir(),
      commitIntervalMs: 5,
      commitMaxRecords: 1_000,
      degradedBufferRecords: 10_000,
      retention: { maxBytes: 2 ** 30, maxAgeMs: 86_400_000 },
    },
    { clock: systemClock, logger: memoryLogger().logger },
  );
  await ledger.start(new AbortController().signal);
  running.push(ledger);
  return ledger;
}

function sample(device: string, ts: number, values: Sample["values"]): Sample {
  return { kind: "sample", device, ts, clockSynced: true, values };
}

function anomaly(device: string, ts: number, type = "overload"): AnomalyBody {
  return {
    kind: "anomaly",
    id: `${device}:${ts}`,
    device,
    type,
    severity: "HIGH",
    state: "raised",
    ts,
    startedTs: ts,
    score: 0.9,
    detectors: [],
    tags: [{ tag: "current", weight: 1, value: 140, expected: 100 }],
    explanation: "current 140 A above 100 A expected",
  } as unknown as AnomalyBody;
}

const FORWARDER: ForwarderStats = {
  backlog: 0,
  durableSeq: 5,
  ackedSeq: 5,
  publishedMessages: 5,
  publishedRecords: 5,
  ackedRecords: 5,
  publishRate: 1.234_56,
  pubackLatencyP50Ms: 2.345_6,
  pubackLatencyP99Ms: undefined,
  inflight: 1,
  window: 64,
  deadLettered: 0,
  reconnects: 2,
  duplicatesRisked: 0,
  refusedPublishes: 0,
  connected: true,
};

function context(ledger: Ledger, collector: StatusCollector, deviceNames: readonly string[]): HealthContext {
  return {
    version: "9.9.9",
    gateway: { id: "gw-test", site: "lab" },
    deviceNames,
    collector,
    ledger,
    forwarder: { stats: () => FORWARDER },
    wallNow: () => NOW,
    uptimeS: () => 3_600,
  };
}

describe("the health document", () => {
  it("summarises devices, the gateway's own figures, the chain head, the uplink and the last anomaly", async () => {
    const ledger = await openLedger();
    let head = await ledger.append(sampleFields(1));
    for (let seq = 2; seq <= 5; seq++) {
      head = await ledger.append(sampleFields(seq));
    }
    await ledger.setAcked(3);
    const collector = new StatusCollector(new GatewayMetrics("9.9.9"));
    collector.observeSample(
      sample("mill-drive", NOW - 1_000, {
        current: { value: 101.5, quality: "good", unit: "A" },
        voltage: { value: 400, quality: "good", unit: "V" },
      }),
    );
    collector.observeSample(
      sample("furnace", NOW - 2_000, {
        zone1: { value: 1_180, quality: "good" },
        zone2: { value: null, quality: "bad", reason: "timeout" },
        gas: { value: 3, quality: "uncertain", reason: "stale" },
      }),
    );
    collector.observeSample(
      sample("press", NOW - 3_000, { cycles: { value: null, quality: "bad", reason: "exception 02" } }),
    );
    collector.observeSample(
      sample("gateway", NOW - 500, {
        cpu_percent: { value: 12.5, quality: "good", unit: "%" },
        memory_used_percent: { value: 41, quality: "good", unit: "%" },
        disk_free_percent: { value: 77.25, quality: "good", unit: "%" },
      }),
    );
    collector.observeAnomaly(anomaly("furnace", NOW - 60_000, "overheating"));
    collector.observeAnomaly(anomaly("mill-drive", NOW - 30_000));
    collector.observeAnomaly(anomaly("furnace", NOW - 10_000, "stuck_sensor"));

    const document = await healthDocument(
      context(ledger, collector, ["mill-drive", "furnace", "press", "idle"]),
    );

    expect(document).toMatchObject({
      v: 1,
      gateway: "gw-test",
      site: "lab",
      version: "9.9.9",
      ts: NOW,
      uptimeS: 3_600,
      startedAt: NOW - 3_600_000,
      ledger: { health: "ok", headSeq: 5, headHash: head.hash, ackedSeq: 3, backlog: 2 },
      uplink: {
        connected: true,
        reconnects: 2,
        publishRate: 1.23,
        pubackP50Ms: 2.35,
        pubackP99Ms: null,
        inflight: 1,
        deadLettered: 0,
      },
      self: {
        ts: NOW - 500,
        cpuPercent: 12.5,
        memoryUsedPercent: 41,
        diskFreePercent: 77.25,
        temperatureC: null,
      },
      moreDevices: 0,
      anomalies: {
        recent: 3,
        last: {
          device: "furnace",
          type: "stuck_sensor",
          severity: "HIGH",
          state: "raised",
          ts: NOW - 10_000,
        },
      },
    });
    expect(document.devices).toEqual([
      {
        name: "mill-drive",
        state: "ok",
        lastTs: NOW - 1_000,
        good: 2,
        bad: 0,
        uncertain: 0,
        error: null,
        lastAnomaly: { ts: NOW - 30_000, type: "overload", severity: "HIGH", state: "raised" },
      },
      {
        name: "furnace",
        state: "degraded",
        lastTs: NOW - 2_000,
        good: 1,
        bad: 1,
        uncertain: 1,
        error: "timeout",
        lastAnomaly: { ts: NOW - 10_000, type: "stuck_sensor", severity: "HIGH", state: "raised" },
      },
      {
        name: "press",
        state: "failing",
        lastTs: NOW - 3_000,
        good: 0,
        bad: 1,
        uncertain: 0,
        error: "exception 02",
        lastAnomaly: null,
      },
      {
        name: "idle",
        state: "waiting",
        lastTs: null,
        good: 0,
        bad: 0,
        uncertain: 0,
        error: null,
        lastAnomaly: null,
      },
    ]);
  });

  it("names the chain head from memory when the ledger cannot answer", async () => {
    const ledger = await openLedger();
    await ledger.append(sampleFields(1));
    await ledger.append(sampleFields(2));
    await ledger.stop();
    const collector = new StatusCollector(new GatewayMetrics("9.9.9"));
    const document = await healthDocument({ ...context(ledger, collector, []), forwarder: undefined });
    expect(document.ledger).toEqual({ health: "ok", headSeq: 2, headHash: null, ackedSeq: 0, backlog: 2 });
    expect(document.uplink).toBeNull();
    expect(document.self).toBeNull();
    expect(document.anomalies).toEqual({ recent: 0, last: null });
  });

  it(`stays within ${MAX_HEALTH_BYTES} bytes whatever the devices send, and says how many it left out`, async () => {
    const ledger = await openLedger();
    const collector = new StatusCollector(new GatewayMetrics("9.9.9"));
    const names = Array.from(
      { length: 1_500 },
      (_, i) => `device-${String(i).padStart(4, "0")}-${"x".repeat(52)}`,
    );
    const long = "é".repeat(10_000);
    for (const name of names.slice(0, 1_000)) {
      collector.observeSample(
        sample(name, NOW, {
          a: { value: null, quality: "bad", reason: long },
          b: { value: long, quality: "uncertain", reason: long },
        }),
      );
    }
    for (let i = 0; i < 40; i++) {
      collector.observeAnomaly(anomaly(names[i % MAX_HEALTH_DEVICES] ?? "x", NOW + i));
    }
    const document = await healthDocument(context(ledger, collector, names));
    expect(document.devices).toHaveLength(MAX_HEALTH_DEVICES);
    expect(document.moreDevices).toBe(names.length - MAX_HEALTH_DEVICES);
    expect(document.devices[0]?.error?.length).toBeLessThanOrEqual(120);
    expect(Buffer.byteLength(JSON.stringify(document), "utf8")).toBeLessThanOrEqual(MAX_HEALTH_BYTES);
  });
});
