/**
 * The receiver's PostgreSQL store (issue #7 item 2): the database is the state a shared-subscription
 * group has in common. `write` stores a batch of outcomes in ONE transaction: the chain rows first,
 * `ON CONFLICT (gateway, seq) DO NOTHING RETURNING`, so that of several receivers given the same
 * record exactly one stores it; then the typed rows of the records that were new. Records already
 * held come back as outcomes (repeatVerdicts.ts). Each table takes one multi-row statement per
 * batch (pgRows.ts). Rows go in (gateway, seq) order, so two transactions that meet on the same
 * keys wait for each other in the same order and cannot deadlock.
 *
 * Continuity (seq holes, prev links, checkpoint ofHash) is not checked per write: no receiver of a
 * group sees every message. The chain auditor (chainAuditor.ts) walks the stored chain instead,
 * one receiver at a time; this store runs it on a timer.
 */
import pg from "pg";
import type { Logger } from "pino";
import type { Clock } from "../../clock.js";
import { systemClock } from "../../clock.js";
import type { AcceptedRecord, GapEvent, HealthReport, ReceiverOutcome, TamperEvent } from "../outcomes.js";
import { type AuditEvent, type AuditReport, ChainAuditor } from "./chainAuditor.js";
import { migrateSchema, quoteSchema } from "./pgMigrator.js";
import {
  anomalyRow,
  chainRow,
  checkpointRow,
  columnsOf,
  gatewayEventRow,
  sampleRow,
  tamperEventRow,
} from "./pgRows.js";
import { insertEvents, upsertGaps, upsertHealth } from "./pgStatements.js";
import type { RecordStore } from "./recordStore.js";
import { recordKey, repeatVerdicts, type StoredCopy } from "./repeatVerdicts.js";

export interface PgRecordStoreOptions {
  /** A libpq connection URL, e.g. postgres://receiver@db.example/edgewarden. */
  readonly url: string;
  /** The PostgreSQL schema holding every table. Default "edgewarden". */
  readonly schema?: string;
  /** Connections in the pool. Default 4. */
  readonly poolSize?: number;
  /** How often the chain auditor runs; 0: never on its own (tests call auditOnce). */
  readonly auditIntervalMs: number;
  /** How long a hole in a chain may last before the auditor stores it as an open gap. */
  readonly gapGraceMs: number;
  /** Rows the auditor reads per query. Default 5,000. */
  readonly auditPageRows?: number;
  readonly logger?: Logger;
  /** Wall time for the auditor's grace; default the system clock. */
  readonly clock?: Clock;
  /** Each gap and tamper event the auditor stores, for the receive command to count and log. */
  readonly onAuditEvent?: (event: AuditEvent) => void;
}

export const DEFAULT_PG_SCHEMA = "edgewarden";

/** gateways.last_seen is rewritten at most this often per gateway and receiver (a row lock per write would serialise the group). */
const LAST_SEEN_EVERY_MS = 1_000;
/** Gateways whose last_seen write time is remembered; past it the map starts over (one extra upsert each). */
const MAX_REMEMBERED_GATEWAYS = 10_000;
/** A deadlock or serialization failure is retried this many times before write rejects. */
const MAX_ATTEMPTS = 3;
const RETRYABLE = new Set(["40P01", "40001"]);

export class PgRecordStore implements RecordStore {
  readonly #options: PgRecordStoreOptions;
  readonly #schema: string;
  readonly #s: string;
  readonly #pool: pg.Pool;
  readonly #auditor: ChainAuditor;
  readonly #lastSeenWritten = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #audit: Promise<unknown> | undefined;
  #started = false;
  #stopped = false;

  constructor(options: PgRecordStoreOptions) {
    this.#options = options;
    this.#schema = options.schema ?? DEFAULT_PG_SCHEMA;
    this.#s = quoteSchema(this.#schema);
    // pg.Pool connects lazily: no I/O until the first query.
    this.#pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 4 });
    this.#pool.on("error", (error) => {
      // An idle connection died (server restart): the pool replaces it; the next query reports.
      options.logger?.warn({ err: error }, "postgres: an idle connection failed");
    });
    this.#auditor = new ChainAuditor({
      pool: this.#pool,
      schema: this.#schema,
      gapGraceMs: options.gapGraceMs,
      clock: options.clock ?? systemClock,
      ...(options.auditPageRows === undefined ? {} : { pageRows: options.auditPageRows }),
      ...(options.onAuditEvent === undefined ? {} : { onEvent: options.onAuditEvent }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  }

  get schema(): string {
    return this.#schema;
  }

  async start(): Promise<void> {
    const client = await this.#pool.connect();
    try {
      const result = await migrateSchema(client, this.#schema);
      this.#options.logger?.info(
        { schema: this.#schema, version: result.version, applied: result.applied },
        result.applied.length > 0 ? "postgres: migrations applied" : "postgres: schema is current",
      );
    } finally {
      client.release();
    }
    this.#started = true;
    if (this.#options.auditIntervalMs > 0) {
      this.#timer = setInterval(() => this.#auditInBackground(), this.#options.auditIntervalMs);
    }
  }

  /** One audit now (tests; the timer's runs are skipped while one is in flight). */
  async auditOnce(): Promise<AuditReport> {
    return await this.#auditor.auditOnce();
  }

  async write(outcomes: readonly ReceiverOutcome[]): Promise<readonly ReceiverOutcome[]> {
    if (!this.#started || this.#stopped) {
      throw new Error("PgRecordStore.write before start() or after stop()");
    }
    const batch = splitOutcomes(outcomes);
    if (
      batch.records.length === 0 &&
      batch.gaps.length === 0 &&
      batch.tampering.length === 0 &&
      batch.health.length === 0
    ) {
      return [];
    }
    for (let attempt = 1; ; attempt++) {
      const client = await this.#pool.connect();
      let failed = false;
      try {
        const found = await this.#writeBatch(client, batch);
        this.#rememberLastSeen(batch.records);
        return found;
      } catch (error) {
        failed = true;
        const code = (error as { code?: unknown }).code;
        if (attempt >= MAX_ATTEMPTS || typeof code !== "string" || !RETRYABLE.has(code)) {
          throw error;
        }
        this.#options.logger?.warn({ code, attempt }, "postgres: write retried");
      } finally {
        // After a failure the connection is dropped rather than trusted (it may be mid-transaction).
        client.release(failed);
      }
    }
  }

  async stop(): Promise<void> {
    if (this.#stopped) {
      return;
    }
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#audit;
    await this.#pool.end();
  }

  #auditInBackground(): void {
    if (this.#audit !== undefined || this.#stopped) {
      return;
    }
    this.#audit = this.#auditor
      .auditOnce()
      .catch((error: unknown) => {
        // The next tick retries; the auditor's cursor only moves with what it committed.
        this.#options.logger?.warn({ err: error }, "chain audit failed");
      })
      .finally(() => {
        this.#audit = undefined;
      });
  }

  async #writeBatch(client: pg.PoolClient, batch: SplitBatch): Promise<ReceiverOutcome[]> {
    const s = this.#s;
    const firsts = new Map<string, AcceptedRecord>();
    const repeats: AcceptedRecord[] = [];
    for (const record of batch.records) {
      const key = recordKey(record.gateway, record.seq);
      if (firsts.has(key)) {
        repeats.push(record);
      } else {
        firsts.set(key, record);
      }
    }
    const candidates = [...firsts.values()].sort(bySeqKey);
    await client.query("BEGIN");
    try {
      const inserted = await client.query<{ gateway: string; seq: string }>(
        `INSERT INTO ${s}.chain (gateway, seq, kind, device, prev, hash, nonce, received_at)
         SELECT g, q, k, d, decode(p, 'hex'), decode(h, 'hex'), n, to_timestamp(r / 1000.0)
         FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[])
           AS t(g, q, k, d, p, h, n, r)
         ON CONFLICT (gateway, seq) DO NOTHING
         RETURNING gateway, seq`,
        columnsOf(candidates.map(chainRow), 8),
      );
      const isNew = new Set(inserted.rows.map((row) => recordKey(row.gateway, Number(row.seq))));
      const fresh = candidates.filter((record) => isNew.has(recordKey(record.gateway, record.seq)));
      const held = candidates.filter((record) => !isNew.has(recordKey(record.gateway, record.seq)));
      const stored = new Map<string, StoredCopy>();
      for (const record of fresh) {
        stored.set(recordKey(record.gateway, record.seq), record);
      }
      if (held.length > 0) {
        const copies = await client.query<{ gateway: string; seq: string; hash: string; nonce: string }>(
          `SELECT c.gateway, c.seq, encode(c.hash, 'hex') AS hash, c.nonce
           FROM ${s}.chain c JOIN unnest($1::text[], $2::bigint[]) AS k(g, q) ON c.gateway = k.g AND c.seq = k.q`,
          [held.map((r) => r.gateway), held.map((r) => r.seq)],
        );
        for (const row of copies.rows) {
          stored.set(recordKey(row.gateway, Number(row.seq)), row);
        }
      }
      const verdicts = repeatVerdicts([...held, ...repeats], stored);
      await this.#insertTyped(client, fresh);
      await this.#insertReceiverFindings(client, [...batch.tampering, ...verdicts.tampering], batch.gaps);
      await this.#upsertGateways(client, batch.records);
      await upsertHealth(client, s, batch.health);
      await client.query("COMMIT");
      return verdicts.outcomes;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    }
  }

  async #insertTyped(client: pg.PoolClient, fresh: readonly AcceptedRecord[]): Promise<void> {
    const s = this.#s;
    const rows = (build: (record: AcceptedRecord) => readonly unknown[] | undefined) =>
      fresh.flatMap((record) => {
        const row = build(record);
        return row === undefined ? [] : [row];
      });
    const samples = rows(sampleRow);
    if (samples.length > 0) {
      await client.query(
        `INSERT INTO ${s}.samples (gateway, seq, device, grp, ts, clock_synced, "values")
         SELECT g, q, d, gr, to_timestamp(t / 1000.0), cs, v::jsonb
         FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::float8[], $6::bool[], $7::text[])
           AS u(g, q, d, gr, t, cs, v)
         ON CONFLICT DO NOTHING`,
        columnsOf(samples, 7),
      );
    }
    const anomalies = rows(anomalyRow);
    if (anomalies.length > 0) {
      await client.query(
        `INSERT INTO ${s}.anomalies (gateway, seq, device, ts, episode, type, severity, state, detector, score,
           started_ts, ended_ts, clock_synced, body)
         SELECT g, q, d, to_timestamp(t / 1000.0), e, ty, sv, st, dt, sc, to_timestamp(sts / 1000.0),
           to_timestamp(ets / 1000.0), cs, b::jsonb
         FROM unnest($1::text[], $2::bigint[], $3::text[], $4::float8[], $5::text[], $6::text[], $7::text[],
           $8::text[], $9::text[], $10::float8[], $11::float8[], $12::float8[], $13::bool[], $14::text[])
           AS u(g, q, d, t, e, ty, sv, st, dt, sc, sts, ets, cs, b)
         ON CONFLICT DO NOTHING`,
        columnsOf(anomalies, 14),
      );
    }
    const checkpoints = rows(checkpointRow);
    if (checkpoints.length > 0) {
      await client.query(
        `INSERT INTO ${s}.checkpoints (gateway, seq, of_seq, of_hash, kid, mac, ts)
         SELECT g, q, os, decode(oh, 'hex'), k, m, to_timestamp(t / 1000.0)
         FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::float8[])
           AS u(g, q, os, oh, k, m, t)
         ON CONFLICT DO NOTHING`,
        columnsOf(checkpoints, 7),
      );
    }
    const events = rows(gatewayEventRow);
    if (events.length > 0) {
      await insertEvents(client, s, events, `ON CONFLICT (gateway, seq) WHERE source = 'gateway' DO NOTHING`);
    }
  }

  async #insertReceiverFindings(
    client: pg.PoolClient,
    tampering: readonly TamperEvent[],
    gaps: readonly GapEvent[],
  ): Promise<void> {
    if (tampering.length > 0) {
      await insertEvents(client, this.#s, tampering.map(tamperEventRow), "");
    }
    if (gaps.length > 0) {
      await upsertGaps(client, this.#s, gaps);
    }
  }

  /** Creates unknown gateways; moves last_seen at most once a second per gateway (see LAST_SEEN_EVERY_MS). */
  async #upsertGateways(client: pg.PoolClient, records: readonly AcceptedRecord[]): Promise<void> {
    const latest = new Map<string, AcceptedRecord>();
    for (const record of records) {
      const known = latest.get(record.gateway);
      if (known === undefined || known.receivedAt < record.receivedAt) {
        latest.set(record.gateway, record);
      }
    }
    const due = [...latest.values()]
      .filter((record) => {
        const written = this.#lastSeenWritten.get(record.gateway);
        return written === undefined || record.receivedAt - written >= LAST_SEEN_EVERY_MS;
      })
      .sort((a, b) => (a.gateway < b.gateway ? -1 : a.gateway > b.gateway ? 1 : 0));
    if (due.length === 0) {
      return;
    }
    await client.query(
      `INSERT INTO ${this.#s}.gateways (id, site, first_seen, last_seen)
       SELECT g, si, to_timestamp(t / 1000.0), to_timestamp(t / 1000.0)
       FROM unnest($1::text[], $2::text[], $3::float8[]) AS u(g, si, t)
       ON CONFLICT (id) DO UPDATE SET last_seen = greatest(gateways.last_seen, excluded.last_seen),
         site = coalesce(excluded.site, gateways.site)`,
      [due.map((r) => r.gateway), due.map((r) => r.site ?? null), due.map((r) => r.receivedAt)],
    );
  }

  #rememberLastSeen(records: readonly AcceptedRecord[]): void {
    if (this.#lastSeenWritten.size > MAX_REMEMBERED_GATEWAYS) {
      this.#lastSeenWritten.clear();
    }
    for (const record of records) {
      const written = this.#lastSeenWritten.get(record.gateway);
      if (written === undefined || record.receivedAt - written >= LAST_SEEN_EVERY_MS) {
        this.#lastSeenWritten.set(record.gateway, record.receivedAt);
      }
    }
  }
}

interface SplitBatch {
  readonly records: readonly AcceptedRecord[];
  readonly gaps: readonly GapEvent[];
  readonly tampering: readonly TamperEvent[];
  readonly health: readonly HealthReport[];
}

function splitOutcomes(outcomes: readonly ReceiverOutcome[]): SplitBatch {
  const records: AcceptedRecord[] = [];
  const gaps: GapEvent[] = [];
  const tampering: TamperEvent[] = [];
  const health: HealthReport[] = [];
  for (const outcome of outcomes) {
    if (outcome.type === "accepted") {
      records.push(outcome);
    } else if (outcome.type === "gap") {
      gaps.push(outcome);
    } else if (outcome.type === "tamper") {
      tampering.push(outcome);
    } else if (outcome.type === "health") {
      health.push(outcome);
    }
  }
  return { records, gaps, tampering, health };
}

function bySeqKey(a: AcceptedRecord, b: AcceptedRecord): number {
  if (a.gateway !== b.gateway) {
    return a.gateway < b.gateway ? -1 : 1;
  }
  return a.seq - b.seq;
}
