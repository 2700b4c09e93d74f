/**
 * The health snapshot the gateway publishes on MQTT (issue #7 item 3: "Health is also published on
 * MQTT (retained) at an interval"; docs/protocol.md §1, "Health"). A compact cousin of the /status
 * JSON (statusReport.ts), built from what the daemon already keeps: the status collector's last
 * readings and anomalies, the ledger's chain head and backlog, the forwarder's figures. It lists
 * counts per device, not values, so that it stays small; the values travel as records.
 *
 * Bounded whatever the devices send: at most MAX_HEALTH_DEVICES devices ("moreDevices" says how
 * many were left out) and every free text clipped, so a document is at most MAX_HEALTH_BYTES.
 */
import type { AnomalyBody } from "../analytics/alerts/anomalyBody.js";
import type { Ledger } from "../ledger/ledger.js";
import type { TagReading } from "../records.js";
import { SELF_HEALTH_DEVICE } from "../sources/selfHealth/selfHealthSource.js";
import type { Forwarder } from "../uplink/forwarder.js";
import type { DeviceState, StatusCollector } from "./statusCollector.js";

/** The document's own version, so a receiver can tell a newer layout from a broken one. */
export const HEALTH_FORMAT = 1;
/** Devices listed; a gateway has a handful, a runaway source must not grow the message. */
export const MAX_HEALTH_DEVICES = 50;
/** Longest free text (a reason, an anomaly type); a serial line could carry a long one. */
const MAX_TEXT = 120;
/** What the caps above guarantee (the test of the bound checks it); far below any broker's packet limit. */
export const MAX_HEALTH_BYTES = 32 * 1024;

/** ok: every tag good; degraded: some not; failing: none good; waiting: no sample since start. */
export type DeviceHealthState = "ok" | "degraded" | "failing" | "waiting";

export interface HealthAnomaly {
  readonly ts: number;
  readonly device: string;
  readonly type: string;
  readonly severity: string;
  readonly state: string;
}

export interface DeviceHealth {
  readonly name: string;
  readonly state: DeviceHealthState;
  /** Wall ms of the device's last sample, null before the first. */
  readonly lastTs: number | null;
  /** Tags by the quality of their latest reading. */
  readonly good: number;
  readonly bad: number;
  readonly uncertain: number;
  /** The reason of a tag whose latest reading is not good ("timeout", "exception 02 ..."), if any. */
  readonly error: string | null;
  /** The device's most recent anomaly record among the last few the gateway raised. */
  readonly lastAnomaly: Omit<HealthAnomaly, "device"> | null;
}

/** The gateway's own latest self-health sample (device "gateway", docs/protocol.md §1). */
export interface SelfHealthFigures {
  readonly ts: number;
  readonly cpuPercent: number | null;
  readonly memoryUsedPercent: number | null;
  readonly diskFreePercent: number | null;
  readonly temperatureC: number | null;
}

export interface HealthDocument {
  readonly v: typeof HEALTH_FORMAT;
  readonly gateway: string;
  readonly site: string;
  readonly version: string;
  /** Wall ms when the snapshot was taken (a label, like every wall time on the gateway). */
  readonly ts: number;
  readonly startedAt: number;
  readonly uptimeS: number;
  readonly ledger: {
    /** "ok", or the ledger's degraded state. */
    readonly health: string;
    /** The chain head: seq and hash of the last durable record (0 and null before the first). */
    readonly headSeq: number;
    readonly headHash: string | null;
    readonly ackedSeq: number;
    /** Durable records not yet acknowledged upstream. */
    readonly backlog: number;
  };
  readonly uplink: {
    readonly connected: boolean;
    readonly reconnects: number;
    readonly publishRate: number;
    readonly pubackP50Ms: number | null;
    readonly pubackP99Ms: number | null;
    readonly inflight: number;
    readonly deadLettered: number;
  } | null;
  readonly self: SelfHealthFigures | null;
  readonly devices: readonly DeviceHealth[];
  /** Devices not listed (MAX_HEALTH_DEVICES). */
  readonly moreDevices: number;
  /** How many anomaly records the gateway remembers (at most 20), and the latest of them. */
  readonly anomalies: { readonly recent: number; readonly last: HealthAnomaly | null };
}

export interface HealthContext {
  readonly version: string;
  readonly gateway: { readonly id: string; readonly site: string };
  /** Configured devices, listed even before their first sample. */
  readonly deviceNames: readonly string[];
  readonly collector: Pick<StatusCollector, "devices" | "anomalies">;
  readonly ledger: Pick<Ledger, "stats" | "health" | "durableSeq" | "ackedSeq">;
  readonly forwarder?: Pick<Forwarder, "stats"> | undefined;
  readonly wallNow: () => number;
  /** Seconds since the daemon started; process.uptime() unless a test says otherwise. */
  readonly uptimeS?: () => number;
}

export async function healthDocument(context: HealthContext): Promise<HealthDocument> {
  const ts = context.wallNow();
  const uptimeS = Math.round((context.uptimeS ?? process.uptime)());
  const anomalies = context.collector.anomalies();
  const listed = devicesOf(context, anomalies);
  const last = anomalies.at(-1);
  return {
    v: HEALTH_FORMAT,
    gateway: context.gateway.id,
    site: context.gateway.site,
    version: context.version,
    ts,
    startedAt: ts - uptimeS * 1_000,
    uptimeS,
    ledger: await ledgerOf(context.ledger),
    uplink: uplinkOf(context.forwarder),
    self: selfOf(context.collector.devices().get(SELF_HEALTH_DEVICE)),
    devices: listed.devices,
    moreDevices: listed.more,
    anomalies: { recent: anomalies.length, last: last === undefined ? null : anomalyOf(last) },
  };
}

function devicesOf(
  context: HealthContext,
  anomalies: readonly AnomalyBody[],
): { devices: DeviceHealth[]; more: number } {
  const seen = context.collector.devices();
  const names = [...new Set([...context.deviceNames, ...seen.keys()])].filter(
    (name) => name !== SELF_HEALTH_DEVICE,
  );
  const lastAnomaly = new Map<string, AnomalyBody>();
  for (const body of anomalies) {
    lastAnomaly.set(body.device, body); // oldest first, so the latest wins
  }
  const devices = names.slice(0, MAX_HEALTH_DEVICES).map((name): DeviceHealth => {
    const anomaly = lastAnomaly.get(name);
    return {
      name: clip(name),
      ...tagCounts(seen.get(name)),
      lastAnomaly:
        anomaly === undefined
          ? null
          : { ts: anomaly.ts, type: clip(anomaly.type), severity: anomaly.severity, state: anomaly.state },
    };
  });
  return { devices, more: Math.max(0, names.length - MAX_HEALTH_DEVICES) };
}

function tagCounts(
  state: DeviceState | undefined,
): Pick<DeviceHealth, "state" | "lastTs" | "good" | "bad" | "uncertain" | "error"> {
  if (state === undefined) {
    return { state: "waiting", lastTs: null, good: 0, bad: 0, uncertain: 0, error: null };
  }
  let good = 0;
  let bad = 0;
  let uncertain = 0;
  let error: string | undefined;
  for (const reading of state.tags.values()) {
    if (reading.quality === "good") {
      good++;
      continue;
    }
    if (reading.quality === "bad") {
      bad++;
    } else {
      uncertain++;
    }
    error ??= reading.reason;
  }
  const notGood = bad + uncertain;
  return {
    state: notGood === 0 ? "ok" : good === 0 ? "failing" : "degraded",
    lastTs: state.lastTs,
    good,
    bad,
    uncertain,
    error: error === undefined ? (notGood > 0 ? "unknown" : null) : clip(error),
  };
}

async function ledgerOf(ledger: HealthContext["ledger"]): Promise<HealthDocument["ledger"]> {
  const health = ledger.health().state;
  if (health === "ok") {
    try {
      const stats = await ledger.stats();
      return {
        health,
        headSeq: stats.lastSeq,
        headHash: stats.headHash,
        ackedSeq: stats.ackedSeq,
        backlog: stats.backlogRecords,
      };
    } catch {
      // Closing or reopening: the in-memory figures below still name the head's seq.
    }
  }
  const headSeq = ledger.durableSeq();
  const ackedSeq = Math.min(ledger.ackedSeq(), headSeq);
  return { health, headSeq, headHash: null, ackedSeq, backlog: headSeq - ackedSeq };
}

function uplinkOf(forwarder: HealthContext["forwarder"]): HealthDocument["uplink"] {
  const stats = forwarder?.stats();
  if (stats === undefined) {
    return null;
  }
  return {
    connected: stats.connected,
    reconnects: stats.reconnects,
    publishRate: round(stats.publishRate),
    pubackP50Ms: stats.pubackLatencyP50Ms === undefined ? null : round(stats.pubackLatencyP50Ms),
    pubackP99Ms: stats.pubackLatencyP99Ms === undefined ? null : round(stats.pubackLatencyP99Ms),
    inflight: stats.inflight,
    deadLettered: stats.deadLettered,
  };
}

function selfOf(state: DeviceState | undefined): SelfHealthFigures | null {
  if (state === undefined) {
    return null;
  }
  const value = (tag: string) => numberOf(state.tags.get(tag));
  return {
    ts: state.lastTs,
    cpuPercent: value("cpu_percent"),
    memoryUsedPercent: value("memory_used_percent"),
    diskFreePercent: value("disk_free_percent"),
    temperatureC: value("temperature"),
  };
}

function numberOf(reading: TagReading | undefined): number | null {
  return reading !== undefined && reading.quality === "good" && typeof reading.value === "number"
    ? reading.value
    : null;
}

function anomalyOf(body: AnomalyBody): HealthAnomaly {
  return {
    ts: body.ts,
    device: clip(body.device),
    type: clip(body.type),
    severity: clip(body.severity),
    state: clip(body.state),
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function clip(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1)}…`;
}
