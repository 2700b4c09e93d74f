/**
 * Statements the store and the chain auditor share (issue #7 item 2): receiver-side events and
 * gap rows, each batch in one multi-row statement.
 */
import type pg from "pg";
import type { GapEvent, HealthReport } from "../outcomes.js";
import { columnsOf, gapRow } from "./pgRows.js";

/** Rows of gateway, seq, source, kind, ts, body. */
export async function insertEvents(
  client: pg.ClientBase,
  s: string,
  rows: readonly (readonly unknown[])[],
  onConflict: string,
): Promise<void> {
  await client.query(
    `INSERT INTO ${s}.events (gateway, seq, source, kind, ts, body)
     SELECT g, q, so, k, to_timestamp(t / 1000.0), b::jsonb
     FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::float8[], $6::text[]) AS u(g, q, so, k, t, b)
     ${onConflict}`,
    columnsOf(rows, 6),
  );
}

/** A gap's row follows its latest state (open, then closed or lost); the key is (gateway, from_seq). */
export async function upsertGaps(client: pg.ClientBase, s: string, gaps: readonly GapEvent[]): Promise<void> {
  // One statement may not update a row twice: of several states of one gap, the last one stands.
  const latest = new Map<string, GapEvent>();
  for (const gap of gaps) {
    latest.set(`${gap.fromSeq} ${gap.gateway}`, gap);
  }
  const rows = [...latest.values()].sort((a, b) =>
    a.gateway === b.gateway ? a.fromSeq - b.fromSeq : a.gateway < b.gateway ? -1 : 1,
  );
  await client.query(
    `INSERT INTO ${s}.gaps (gateway, from_seq, to_seq, state, reason, opened_at, closed_at)
     SELECT g, f, t, st, r, to_timestamp(a / 1000.0), CASE WHEN st = 'open' THEN NULL ELSE to_timestamp(a / 1000.0) END
     FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::float8[]) AS u(g, f, t, st, r, a)
     ON CONFLICT (gateway, from_seq) DO UPDATE SET to_seq = excluded.to_seq, state = excluded.state,
       reason = coalesce(excluded.reason, gaps.reason), closed_at = excluded.closed_at`,
    columnsOf(rows.map(gapRow), 6),
  );
}

/**
 * Keeps each gateway's newest health snapshot (docs/protocol.md §1, "Health") in gateways.last_health,
 * newest by (seq, ts): a retained snapshot delivered again, or one that overtook another, never
 * replaces a newer one. Creates the gateway's row if no record came yet.
 */
export async function upsertHealth(
  client: pg.ClientBase,
  s: string,
  reports: readonly HealthReport[],
): Promise<void> {
  const newest = new Map<string, HealthReport>();
  for (const report of reports) {
    const known = newest.get(report.gateway);
    if (known === undefined || known.seq < report.seq || (known.seq === report.seq && known.ts < report.ts)) {
      newest.set(report.gateway, report);
    }
  }
  const rows = [...newest.values()].sort((a, b) =>
    a.gateway < b.gateway ? -1 : a.gateway > b.gateway ? 1 : 0,
  );
  if (rows.length === 0) {
    return;
  }
  const documents = rows.map((r) =>
    JSON.stringify({ seq: r.seq, ts: r.ts, receivedAt: r.receivedAt, health: r.health }),
  );
  await client.query(
    `INSERT INTO ${s}.gateways (id, site, first_seen, last_seen, last_health)
     SELECT g, si, to_timestamp(t / 1000.0), to_timestamp(t / 1000.0), h::jsonb
     FROM unnest($1::text[], $2::text[], $3::float8[], $4::text[]) AS u(g, si, t, h)
     ON CONFLICT (id) DO UPDATE SET last_health = excluded.last_health,
       last_seen = greatest(gateways.last_seen, excluded.last_seen)
     WHERE gateways.last_health IS NULL
       OR ((gateways.last_health->>'seq')::bigint, (gateways.last_health->>'ts')::bigint)
          <= ((excluded.last_health->>'seq')::bigint, (excluded.last_health->>'ts')::bigint)`,
    [rows.map((r) => r.gateway), rows.map((r) => r.site), rows.map((r) => r.receivedAt), documents],
  );
}
