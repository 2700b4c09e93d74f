/**
 * `edgewarden status` for a person (issue #7 item 3): the GET /status document as a few lines a
 * technician reads at a glance — who and since when, the ledger and the uplink, each device's
 * last values with their quality, the last anomalies. Pure: the document and "now" in, text out.
 */
import type { StatusDocument, StatusTag } from "./statusReport.js";

/** Anomalies shown; the document holds up to 20, --json prints them all. */
const ANOMALIES_SHOWN = 10;

export function renderStatus(doc: StatusDocument, now: number): string {
  const lines = [
    `edgewarden ${doc.version} · gateway ${doc.gateway.id} (${doc.gateway.site}) · up ${duration(doc.uptimeS)}`,
    ledgerLine(doc),
    uplinkLine(doc),
  ];
  if (doc.analytics !== null) {
    lines.push(`analytics: ${doc.analytics.learning ? "learning baselines (no anomalies yet)" : "scoring"}`);
  }
  lines.push("", `devices (${doc.devices.length}):`);
  for (const device of doc.devices) {
    const age = device.lastTs === null ? "no reading yet" : `last reading ${ago(now - device.lastTs)}`;
    lines.push(`  ${device.name}  ${age}`);
    const width = Math.max(0, ...device.tags.map((tag) => tag.name.length));
    for (const tag of device.tags) {
      lines.push(`    ${tag.name.padEnd(width)}  ${valueText(tag)}  ${qualityText(tag)}`);
    }
    if (device.moreTags > 0) {
      lines.push(`    … ${device.moreTags} more tags (--json lists them)`);
    }
  }
  lines.push("", "last anomalies:");
  const anomalies = doc.anomalies.slice(-ANOMALIES_SHOWN).reverse();
  if (anomalies.length === 0) {
    lines.push("  none");
  }
  for (const anomaly of anomalies) {
    lines.push(
      `  ${new Date(anomaly.ts).toISOString()}  ${anomaly.device}  ${anomaly.type} ${anomaly.severity} (${anomaly.state}, score ${anomaly.score.toFixed(2)})  ${anomaly.explanation}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

function ledgerLine(doc: StatusDocument): string {
  const { ledger } = doc;
  if (ledger.headSeq === null) {
    return `ledger: ${ledger.health}`;
  }
  const hash = ledger.headHash === null ? "" : ` (${ledger.headHash.slice(0, 12)}…)`;
  const bytes = ledger.approxBytes === null ? "" : `, ${megabytes(ledger.approxBytes)} stored`;
  return `ledger: ${ledger.health}, chain head seq ${ledger.headSeq}${hash}, backlog ${ledger.backlogRecords ?? "?"} records${bytes}`;
}

function uplinkLine(doc: StatusDocument): string {
  const { uplink } = doc;
  if (uplink === null) {
    return "uplink: off";
  }
  const latency =
    uplink.pubackP50Ms === null
      ? ""
      : `, PUBACK p50 ${uplink.pubackP50Ms.toFixed(1)} ms p99 ${(uplink.pubackP99Ms ?? 0).toFixed(1)} ms`;
  return `uplink: ${uplink.connected ? "broker up" : "broker DOWN"}, ${uplink.publishRate.toFixed(1)} records/s${latency}`;
}

function valueText(tag: StatusTag): string {
  const value = tag.value === null ? "—" : String(tag.value);
  return tag.unit === undefined ? value : `${value} ${tag.unit}`;
}

function qualityText(tag: StatusTag): string {
  return tag.reason === undefined ? tag.quality : `${tag.quality}: ${tag.reason}`;
}

function duration(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3_600);
  const m = Math.floor((seconds % 3_600) / 60);
  if (d > 0) {
    return `${d}d ${h}h`;
  }
  return h > 0 ? `${h}h ${m}m` : `${m}m ${Math.floor(seconds % 60)}s`;
}

function ago(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1_000));
  return seconds < 120 ? `${seconds} s ago` : `${duration(seconds)} ago`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}
