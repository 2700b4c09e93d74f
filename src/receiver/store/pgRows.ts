/**
 * Records as PostgreSQL column arrays (issue #7 item 2): the store inserts each table's rows of a
 * batch with one `INSERT ... SELECT FROM unnest(...)` whatever the batch size, so 100,000 records
 * cost a few round trips, not 100,000. Pure: building the arrays does no I/O. Timestamps travel
 * as epoch milliseconds (SQL divides), hashes as hex (SQL decodes into bytea).
 */
import type { AcceptedRecord, GapEvent, TamperEvent } from "../outcomes.js";

type Row = readonly unknown[];

/** Turns rows into one array per column, for `unnest($1::text[], $2::bigint[], ...)`. */
export function columnsOf(rows: readonly Row[], width: number): unknown[][] {
  const columns: unknown[][] = Array.from({ length: width }, () => new Array<unknown>(rows.length));
  rows.forEach((row, r) => {
    for (let c = 0; c < width; c++) {
      (columns[c] as unknown[])[r] = row[c] ?? null;
    }
  });
  return columns;
}

/** gateway, seq, kind, device, prev, hash, nonce, received_at */
export function chainRow(record: AcceptedRecord): Row {
  return [
    record.gateway,
    record.seq,
    record.kind,
    record.device,
    record.prev,
    record.hash,
    record.nonce,
    record.receivedAt,
  ];
}

/** gateway, seq, device, grp, ts, clock_synced, values */
export function sampleRow(record: AcceptedRecord): Row | undefined {
  if (record.body.kind !== "sample") {
    return undefined;
  }
  const json = record.body.json;
  // The reading's own ts (the body's) is what people chart; the entry's is when it was appended.
  const ts = typeof json.ts === "number" && Number.isFinite(json.ts) ? json.ts : record.ts;
  const group = typeof json.group === "string" ? json.group : null;
  const clockSynced = typeof json.clockSynced === "boolean" ? json.clockSynced : record.clockSynced;
  return [
    record.gateway,
    record.seq,
    record.device,
    group,
    ts,
    clockSynced,
    JSON.stringify(json.values ?? {}),
  ];
}

/** gateway, seq, device, ts, episode, type, severity, state, detector, score, started_ts, ended_ts, clock_synced, body */
export function anomalyRow(record: AcceptedRecord): Row | undefined {
  if (record.body.kind !== "anomaly") {
    return undefined;
  }
  const anomaly = record.body.anomaly;
  return [
    record.gateway,
    record.seq,
    anomaly.device,
    anomaly.ts,
    anomaly.id,
    anomaly.type,
    anomaly.severity,
    anomaly.state,
    // Strongest first (docs/protocol.md "Anomaly records"); the schema requires at least one.
    anomaly.detectors[0]?.detector ?? "unknown",
    anomaly.score,
    anomaly.startedTs,
    anomaly.state === "ended" ? anomaly.endedTs : null,
    record.clockSynced,
    record.bodyText,
  ];
}

/** gateway, seq, of_seq, of_hash, kid, mac, ts */
export function checkpointRow(record: AcceptedRecord): Row | undefined {
  if (record.body.kind !== "checkpoint") {
    return undefined;
  }
  const { ofSeq, ofHash, kid, mac } = record.body.checkpoint;
  return [record.gateway, record.seq, ofSeq, ofHash, kid, mac, record.ts];
}

/** gateway, seq, source, kind, ts, body: the gateway's event, gap and dead-letter entries. */
export function gatewayEventRow(record: AcceptedRecord): Row | undefined {
  const kind = record.body.kind;
  if (kind !== "event" && kind !== "gap" && kind !== "deadletter") {
    return undefined;
  }
  return [record.gateway, record.seq, "gateway", kind, record.ts, record.bodyText];
}

/** The same columns, for what the receiver found itself (tampering). */
export function tamperEventRow(event: TamperEvent): Row {
  const body = JSON.stringify({ reason: event.reason, message: event.message });
  return [event.gateway, event.seq, "receiver", "tamper", event.receivedAt, body];
}

/** gateway, from_seq, to_seq, state, reason, at */
export function gapRow(event: GapEvent): Row {
  return [event.gateway, event.fromSeq, event.toSeq, event.state, event.reason ?? null, event.receivedAt];
}
