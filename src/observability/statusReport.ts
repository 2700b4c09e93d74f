/**
 * The JSON of GET /status (issue #7 item 3), read by `edgewarden status` and by scripts: devices
 * with their last values and quality, the ledger's backlog and chain head, the uplink, the last
 * anomalies, uptime and version. Every list and string in it is bounded, so a response stays small
 * whatever a device sends.
 */
import type { AnomalyBody } from "../analytics/alerts/anomalyBody.js";
import type { SampleValue } from "../records.js";
import type { MetricSources } from "./metrics.js";
import type { StatusCollector } from "./statusCollector.js";

/** Longest string value or reason shown; a serial line could carry a long text field. */
const MAX_TEXT = 200;
/** Tags listed per device in one response. */
const MAX_TAGS_SHOWN = 200;

export interface StatusTag {
  readonly name: string;
  /** bigint as a decimal string, as the ledger stores it. */
  readonly value: number | string | boolean | null;
  readonly quality: string;
  readonly reason?: string;
  readonly unit?: string;
}

export interface StatusDevice {
  readonly name: string;
  /** Wall ms of the last sample, null before the first. */
  readonly lastTs: number | null;
  readonly tags: readonly StatusTag[];
  /** Tags not listed (MAX_TAGS_SHOWN). */
  readonly moreTags: number;
}

export interface StatusAnomaly {
  readonly ts: number;
  readonly device: string;
  readonly type: string;
  readonly severity: string;
  readonly state: string;
  readonly score: number;
  readonly explanation: string;
}

export interface StatusDocument {
  readonly version: string;
  readonly gateway: { readonly id: string; readonly site: string };
  readonly uptimeS: number;
  readonly ts: number;
  readonly devices: readonly StatusDevice[];
  readonly ledger: {
    readonly health: string;
    readonly backlogRecords: number | null;
    readonly approxBytes: number | null;
    readonly headSeq: number | null;
    readonly headHash: string | null;
    readonly ackedSeq: number | null;
  };
  readonly uplink: {
    readonly connected: boolean;
    readonly publishRate: number;
    readonly pubackP50Ms: number | null;
    readonly pubackP99Ms: number | null;
  } | null;
  readonly analytics: { readonly learning: boolean } | null;
  readonly anomalies: readonly StatusAnomaly[];
}

export interface StatusContext {
  readonly version: string;
  readonly gateway: { readonly id: string; readonly site: string };
  /** Configured devices, listed even before their first sample. */
  readonly deviceNames: readonly string[];
  readonly collector: StatusCollector;
  readonly sources: MetricSources;
  readonly wallNow: () => number;
}

export async function statusDocument(context: StatusContext): Promise<StatusDocument> {
  const learning = context.sources.learning?.();
  return {
    version: context.version,
    gateway: context.gateway,
    uptimeS: Math.round(process.uptime()),
    ts: context.wallNow(),
    devices: devicesOf(context),
    ledger: await ledgerOf(context.sources.ledger),
    uplink: uplinkOf(context.sources.forwarder),
    analytics: learning === undefined ? null : { learning },
    anomalies: context.collector.anomalies().map(anomalyOf),
  };
}

function devicesOf(context: StatusContext): StatusDevice[] {
  const seen = context.collector.devices();
  const names = [...new Set([...context.deviceNames, ...seen.keys()])];
  return names.map((name) => {
    const state = seen.get(name);
    const tags = state === undefined ? [] : [...state.tags];
    return {
      name,
      lastTs: state?.lastTs ?? null,
      tags: tags.slice(0, MAX_TAGS_SHOWN).map(([tag, reading]) => ({
        name: tag,
        value: tagValue(reading.value),
        quality: reading.quality,
        ...(reading.reason === undefined ? {} : { reason: clip(reading.reason) }),
        ...(reading.unit === undefined ? {} : { unit: clip(reading.unit) }),
      })),
      moreTags: Math.max(0, tags.length - MAX_TAGS_SHOWN),
    };
  });
}

async function ledgerOf(ledger: MetricSources["ledger"]): Promise<StatusDocument["ledger"]> {
  const none = { backlogRecords: null, approxBytes: null, headSeq: null, headHash: null, ackedSeq: null };
  if (ledger === undefined) {
    return { health: "absent", ...none };
  }
  const health = ledger.health();
  if (health.state !== "ok") {
    return { health: health.state, ...none };
  }
  try {
    const stats = await ledger.stats();
    return {
      health: health.state,
      backlogRecords: stats.backlogRecords,
      approxBytes: stats.approxBytes,
      headSeq: stats.lastSeq,
      headHash: stats.headHash,
      ackedSeq: stats.ackedSeq,
    };
  } catch {
    // Closing during a reload: say so rather than fail the whole response.
    return { health: "unavailable", ...none };
  }
}

function uplinkOf(forwarder: MetricSources["forwarder"]): StatusDocument["uplink"] {
  const stats = forwarder?.stats();
  if (stats === undefined) {
    return null;
  }
  return {
    connected: stats.connected,
    publishRate: stats.publishRate,
    pubackP50Ms: stats.pubackLatencyP50Ms ?? null,
    pubackP99Ms: stats.pubackLatencyP99Ms ?? null,
  };
}

function anomalyOf(body: AnomalyBody): StatusAnomaly {
  return {
    ts: body.ts,
    device: body.device,
    type: body.type,
    severity: body.severity,
    state: body.state,
    score: body.score,
    explanation: clip(body.explanation),
  };
}

function tagValue(value: SampleValue): StatusTag["value"] {
  if (typeof value === "bigint") {
    return value.toString();
  }
  return typeof value === "string" ? clip(value) : value;
}

function clip(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1)}…`;
}
