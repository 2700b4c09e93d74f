/**
 * What the demo's receiver has seen (issue #7 item 4), kept for the live view: each device's
 * latest decrypted values, the last anomaly records, and a count of every outcome. Bounded:
 * devices and tags come from one gateway's config, anomalies are a short ring. Also the one-line
 * wording of each outcome, shared by the plain log and the screen.
 */
import type { AnomalyBody } from "../analytics/alerts/anomalyBody.js";
import type { ReceiverOutcome } from "../receiver/index.js";

/** Anomaly records shown on the screen. */
const ANOMALIES_KEPT = 8;
/** Devices and tags per device tracked; a demo has a handful, this only bounds a runaway. */
const MAX_DEVICES = 32;
const MAX_TAGS = 64;

export interface TagValue {
  readonly text: string;
  readonly quality: string;
}

export interface DeviceValues {
  readonly gateway: string;
  lastTs: number;
  readonly tags: Map<string, TagValue>;
}

export class DemoTally {
  readonly devices = new Map<string, DeviceValues>();
  readonly anomalies: AnomalyBody[] = [];
  /** Raised anomaly episodes by type ("overload": 1). */
  readonly raisedByType = new Map<string, number>();
  readonly counts = {
    records: 0,
    readings: 0,
    anomalyRecords: 0,
    events: 0,
    checkpoints: 0,
    gaps: 0,
    rejected: 0,
    duplicates: 0,
    tamper: 0,
    health: 0,
  };

  /** Takes one outcome; returns its line for the plain log, or undefined for one not worth a line. */
  add(outcome: ReceiverOutcome): string | undefined {
    switch (outcome.type) {
      case "accepted":
        this.counts.records++;
        return this.#accepted(outcome);
      case "rejected":
        this.counts.rejected++;
        return `rejected ${outcome.reason} on ${outcome.topic}: ${outcome.message}`;
      case "duplicate":
        this.counts.duplicates++;
        return undefined;
      case "gap":
        if (outcome.state === "open") {
          this.counts.gaps++;
        }
        return `gap ${outcome.gateway} seq ${outcome.fromSeq}-${outcome.toSeq} ${outcome.state}${outcome.reason === undefined ? "" : ` (${outcome.reason})`}`;
      case "tamper":
        this.counts.tamper++;
        return `TAMPER ${outcome.gateway} seq ${outcome.seq} ${outcome.reason}: ${outcome.message}`;
      case "health":
        this.counts.health++;
        return `health ${outcome.gateway}: sealed snapshot at chain head seq ${outcome.seq} opened`;
    }
  }

  #accepted(outcome: Extract<ReceiverOutcome, { type: "accepted" }>): string | undefined {
    const { body, gateway, seq } = outcome;
    switch (body.kind) {
      case "sample": {
        this.counts.readings++;
        const values = readingValues(body.json);
        this.#remember(gateway, outcome.device, outcome.ts, values);
        const text = values.map(([tag, value]) => `${tag}=${value.text}`).join(" ");
        return `reading ${gateway}/${outcome.device} ${text} (seq ${seq})`;
      }
      case "anomaly": {
        this.counts.anomalyRecords++;
        const anomaly = body.anomaly;
        this.anomalies.push(anomaly);
        if (this.anomalies.length > ANOMALIES_KEPT) {
          this.anomalies.shift();
        }
        if (anomaly.state === "raised") {
          this.raisedByType.set(anomaly.type, (this.raisedByType.get(anomaly.type) ?? 0) + 1);
        }
        return `anomaly ${anomaly.type} ${anomaly.device} ${anomaly.state} ${anomaly.severity} score ${anomaly.score.toFixed(2)}: ${anomaly.explanation} (seq ${seq})`;
      }
      case "event": {
        this.counts.events++;
        const type = typeof body.json.type === "string" ? body.json.type : "event";
        const message = typeof body.json.message === "string" ? body.json.message : "";
        return `event ${gateway} ${type}: ${message} (seq ${seq})`;
      }
      case "checkpoint":
        this.counts.checkpoints++;
        return `checkpoint ${gateway} seq ${seq} vouches for seq ${body.checkpoint.ofSeq}: MAC verified`;
      case "gap":
        return `gap record ${gateway} seq ${seq}: ${body.gap.reason}`;
      case "deadletter":
        return `deadletter ${gateway} seq ${seq}`;
    }
  }

  #remember(gateway: string, device: string, ts: number, values: readonly [string, TagValue][]): void {
    let state = this.devices.get(device);
    if (state === undefined) {
      if (this.devices.size >= MAX_DEVICES) {
        return;
      }
      state = { gateway, lastTs: ts, tags: new Map() };
      this.devices.set(device, state);
    }
    state.lastTs = Math.max(state.lastTs, ts);
    for (const [tag, value] of values) {
      if (state.tags.has(tag) || state.tags.size < MAX_TAGS) {
        state.tags.set(tag, value);
      }
    }
  }

  /** "overload x1, voltage-sag x2", or "none". */
  raisedText(): string {
    const parts = [...this.raisedByType].map(([type, n]) => `${type} x${n}`);
    return parts.length === 0 ? "none" : parts.join(", ");
  }
}

/** The tag readings of a sample body ({"values": {"tag": {"value", "quality", "unit"?}}}) as text. */
export function readingValues(json: Readonly<Record<string, unknown>>): [string, TagValue][] {
  const values = json.values;
  if (values === null || typeof values !== "object") {
    return [];
  }
  const out: [string, TagValue][] = [];
  for (const [tag, reading] of Object.entries(values)) {
    if (reading === null || typeof reading !== "object") {
      continue;
    }
    const { value, quality, unit } = reading as Record<string, unknown>;
    const q = typeof quality === "string" ? quality : "?";
    const text = q === "good" ? formatValue(value) : `${q}`;
    out.push([
      tag,
      { text: typeof unit === "string" && q === "good" ? `${text} ${unit}` : text, quality: q },
    ]);
  }
  return out;
}

/** Readable numbers: integers (counters) whole, measurements to a sensible precision. */
export function formatValue(value: unknown): string {
  if (typeof value === "number") {
    if (Number.isInteger(value)) {
      return String(value);
    }
    const magnitude = Math.abs(value);
    return value.toFixed(magnitude >= 100 ? 1 : magnitude >= 1 ? 2 : 3);
  }
  if (typeof value === "string" || typeof value === "boolean") {
    return String(value);
  }
  return value === null ? "—" : JSON.stringify(value);
}
