/**
 * The chain check of a shared-subscription group (issue #7 item 2): receivers of the group each
 * store part of a gateway's messages, so continuity is checked after the fact, over the stored
 * chain, by ONE receiver at a time: the one holding a session-level advisory lock (if it dies, its
 * session and the lock go with it and another receiver's next audit takes over). Per gateway it
 * walks the rows above gateways.audited_seq in pages (chainWalk.ts) and commits, page by page, the
 * events it found with the new cursor, so a crash repeats at most one page and reports nothing twice.
 *
 * An open gap is revisited at every audit: once every seq in it is stored it is `closed` and the
 * links inside and at its edges are checked; once the gateway's gap entries explain what is still
 * missing it is `lost`. Checkpoints whose ofSeq was missing when they were walked stay unverified.
 */
import type pg from "pg";
import type { Logger } from "pino";
import type { Clock } from "../../clock.js";
import type { GapEvent, TamperEvent } from "../outcomes.js";
import {
  type ChainRow,
  emptyWalk,
  type LostClaim,
  type WalkPosition,
  type WalkResult,
  walkChain,
} from "./chainWalk.js";
import { quoteSchema } from "./pgMigrator.js";
import { tamperEventRow } from "./pgRows.js";
import { insertEvents, upsertGaps } from "./pgStatements.js";

export type AuditEvent = GapEvent | TamperEvent;

export interface ChainAuditorOptions {
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly gapGraceMs: number;
  readonly clock: Clock;
  /** Rows per query (bounds memory). Default 5,000. */
  readonly pageRows?: number;
  /** Open gaps revisited per gateway and audit. Default 100. */
  readonly maxOpenGaps?: number;
  readonly onEvent?: (event: AuditEvent) => void;
  readonly logger?: Logger;
}

export interface AuditReport {
  /** False when another receiver holds the audit lock (nothing was done). */
  readonly audited: boolean;
  readonly gateways: number;
  readonly rows: number;
  /** The events stored by this audit (the first MAX_REPORTED; `eventCount` counts them all). */
  readonly events: readonly AuditEvent[];
  readonly eventCount: number;
  readonly checkpointsVerified: number;
  readonly checkpointsUnverified: number;
}

const MAX_REPORTED = 1_000;
/** Gap entries of one gateway read per audit: far more than a gateway writes (one per retention pass). */
const MAX_CLAIMS = 10_000;

interface Tally {
  gateways: number;
  rows: number;
  events: AuditEvent[];
  eventCount: number;
  checkpointsVerified: number;
  checkpointsUnverified: number;
}

interface PageRow {
  seq: string;
  prev: string;
  hash: string;
  received_at: number;
  of_seq: string | null;
  of_hash: string | null;
  of_stored: string | null;
}

export class ChainAuditor {
  readonly #options: ChainAuditorOptions;
  readonly #s: string;
  readonly #pageRows: number;

  constructor(options: ChainAuditorOptions) {
    this.#options = options;
    this.#s = quoteSchema(options.schema);
    this.#pageRows = options.pageRows ?? 5_000;
  }

  async auditOnce(): Promise<AuditReport> {
    const tally: Tally = {
      gateways: 0,
      rows: 0,
      events: [],
      eventCount: 0,
      checkpointsVerified: 0,
      checkpointsUnverified: 0,
    };
    const client = await this.#options.pool.connect();
    let broken = false;
    try {
      const lockKey = `edgewarden-audit:${this.#options.schema}`;
      const lock = await client.query<{ locked: boolean }>(
        "SELECT pg_try_advisory_lock(hashtext($1)) AS locked",
        [lockKey],
      );
      if (lock.rows[0]?.locked !== true) {
        return { audited: false, ...tally };
      }
      try {
        const gateways = await client.query<{ id: string; audited_seq: string; audited_hash: string | null }>(
          `SELECT id, audited_seq, encode(audited_hash, 'hex') AS audited_hash FROM ${this.#s}.gateways ORDER BY id`,
        );
        for (const gateway of gateways.rows) {
          const start = { seq: Number(gateway.audited_seq), hash: gateway.audited_hash };
          await this.#auditGateway(client, gateway.id, start, tally);
          tally.gateways++;
        }
      } finally {
        await client.query("SELECT pg_advisory_unlock(hashtext($1))", [lockKey]);
      }
      return { audited: true, ...tally };
    } catch (error) {
      broken = true;
      throw error;
    } finally {
      // A connection that failed mid-audit is dropped, not reused (its lock state is unknown).
      client.release(broken);
    }
  }

  async #auditGateway(client: pg.PoolClient, gateway: string, start: WalkPosition, tally: Tally) {
    const claims = await this.#claims(client, gateway);
    const now = this.#options.clock.wallNow();
    const graceMs = this.#options.gapGraceMs;
    const open = await client.query<{ from_seq: string; to_seq: string }>(
      `SELECT from_seq, to_seq FROM ${this.#s}.gaps WHERE gateway = $1 AND state = 'open' ORDER BY from_seq LIMIT $2`,
      [gateway, this.#options.maxOpenGaps ?? 100],
    );
    for (const gap of open.rows) {
      await this.#revisitGap(client, gateway, Number(gap.from_seq), Number(gap.to_seq), claims, tally);
    }
    let position = start;
    for (;;) {
      const rows = await this.#page(client, gateway, position.seq, Number.MAX_SAFE_INTEGER);
      if (rows.length === 0) {
        return;
      }
      const walk = walkChain(position, rows, { gateway, claims, now, graceMs, holes: "open-after-grace" });
      tally.rows += rows.length;
      if (walk.position.seq !== position.seq || walk.events.length > 0) {
        await this.#commit(client, gateway, walk, walk.position);
        this.#report(walk, tally);
      }
      position = walk.position;
      if (walk.waiting || rows.length < this.#pageRows) {
        return;
      }
    }
  }

  /** Re-walks an open gap with its edges; resolves it when nothing unexplained is missing any more. */
  async #revisitGap(
    client: pg.PoolClient,
    gateway: string,
    fromSeq: number,
    toSeq: number,
    claims: readonly LostClaim[],
    tally: Tally,
  ): Promise<void> {
    const now = this.#options.clock.wallNow();
    const before = await client.query<{ hash: string }>(
      `SELECT encode(hash, 'hex') AS hash FROM ${this.#s}.chain WHERE gateway = $1 AND seq = $2`,
      [gateway, fromSeq - 1],
    );
    let position: WalkPosition = { seq: fromSeq - 1, hash: before.rows[0]?.hash ?? null };
    const found = emptyWalk(position);
    for (;;) {
      const rows = await this.#page(client, gateway, position.seq, toSeq + 1);
      const walk = walkChain(position, rows, { gateway, claims, now, graceMs: 0, holes: "note" });
      found.events.push(...walk.events);
      found.lostParts.push(...walk.lostParts);
      found.unexplained.push(...walk.unexplained);
      found.checkpointsVerified += walk.checkpointsVerified;
      found.checkpointsUnverified += walk.checkpointsUnverified;
      position = walk.position;
      if (rows.length < this.#pageRows) {
        break;
      }
    }
    if (position.seq < toSeq || found.unexplained.length > 0) {
      return; // Still missing: stays open; what this walk saw is seen again when it resolves.
    }
    const reasons = [...new Set(found.lostParts.map((part) => part.reason))];
    const resolved: GapEvent = {
      type: "gap",
      gateway,
      state: reasons.length === 0 ? "closed" : "lost",
      fromSeq,
      toSeq,
      receivedAt: now,
      ...(reasons.length === 0 ? {} : { reason: reasons.join(",") }),
    };
    found.events.push(resolved);
    await this.#commit(client, gateway, found, undefined);
    this.#report(found, tally);
  }

  async #page(
    client: pg.PoolClient,
    gateway: string,
    afterSeq: number,
    upToSeq: number,
  ): Promise<ChainRow[]> {
    const s = this.#s;
    const result = await client.query<PageRow>(
      `SELECT c.seq, encode(c.prev, 'hex') AS prev, encode(c.hash, 'hex') AS hash,
         (extract(epoch FROM c.received_at) * 1000)::float8 AS received_at,
         k.of_seq, encode(k.of_hash, 'hex') AS of_hash, encode(o.hash, 'hex') AS of_stored
       FROM ${s}.chain c
       LEFT JOIN ${s}.checkpoints k ON k.gateway = c.gateway AND k.seq = c.seq
       LEFT JOIN ${s}.chain o ON o.gateway = k.gateway AND o.seq = k.of_seq
       WHERE c.gateway = $1 AND c.seq > $2 AND c.seq <= $3
       ORDER BY c.seq LIMIT $4`,
      [gateway, afterSeq, upToSeq, this.#pageRows],
    );
    return result.rows.map((row) => ({
      seq: Number(row.seq),
      prev: row.prev,
      hash: row.hash,
      receivedAt: row.received_at,
      ...(row.of_seq === null || row.of_hash === null
        ? {}
        : {
            checkpoint: {
              ofSeq: Number(row.of_seq),
              ofHash: row.of_hash,
              ...(row.of_stored === null ? {} : { storedHash: row.of_stored }),
            },
          }),
    }));
  }

  /** The ranges the gateway's own gap entries name lost; toSeq null (unknown) reaches the entry's seq − 1. */
  async #claims(client: pg.PoolClient, gateway: string): Promise<LostClaim[]> {
    const result = await client.query<{
      seq: string;
      from_seq: string | null;
      to_seq: string | null;
      reason: string | null;
    }>(
      `SELECT seq, body->>'fromSeq' AS from_seq, body->>'toSeq' AS to_seq, body->>'reason' AS reason
       FROM ${this.#s}.events WHERE gateway = $1 AND source = 'gateway' AND kind = 'gap'
       ORDER BY seq LIMIT $2`,
      [gateway, MAX_CLAIMS],
    );
    return result.rows.flatMap((row) => {
      const fromSeq = Number(row.from_seq ?? Number.NaN);
      const toSeq = row.to_seq === null ? Number(row.seq) - 1 : Number(row.to_seq);
      return Number.isSafeInteger(fromSeq) && Number.isSafeInteger(toSeq) && fromSeq <= toSeq
        ? [{ fromSeq, toSeq, reason: row.reason ?? "unknown" }]
        : [];
    });
  }

  /** Stores the events and, for the main walk, the new cursor, in one transaction. */
  async #commit(
    client: pg.PoolClient,
    gateway: string,
    walk: WalkResult,
    cursor: WalkPosition | undefined,
  ): Promise<void> {
    const tampering = walk.events.filter((event): event is TamperEvent => event.type === "tamper");
    const gaps = walk.events.filter((event): event is GapEvent => event.type === "gap");
    await client.query("BEGIN");
    try {
      if (tampering.length > 0) {
        await insertEvents(client, this.#s, tampering.map(tamperEventRow), "");
      }
      if (gaps.length > 0) {
        await upsertGaps(client, this.#s, gaps);
      }
      if (cursor !== undefined) {
        await client.query(
          `UPDATE ${this.#s}.gateways SET audited_seq = $2, audited_hash = decode($3, 'hex') WHERE id = $1`,
          [gateway, cursor.seq, cursor.hash],
        );
      }
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    }
  }

  #report(walk: WalkResult, tally: Tally): void {
    tally.checkpointsVerified += walk.checkpointsVerified;
    tally.checkpointsUnverified += walk.checkpointsUnverified;
    for (const event of walk.events) {
      tally.eventCount++;
      if (tally.events.length < MAX_REPORTED) {
        tally.events.push(event);
      }
      this.#options.onEvent?.(event);
      if (event.type === "gap" && event.state === "closed") {
        this.#options.logger?.info({ event }, eventLine(event));
      } else {
        this.#options.logger?.warn({ event }, eventLine(event));
      }
    }
  }
}

function eventLine(event: AuditEvent): string {
  return event.type === "tamper"
    ? `chain audit: tampering (${event.reason}) at gw ${event.gateway} seq ${event.seq}: ${event.message}`
    : `chain audit: gap ${event.state} at gw ${event.gateway} seq ${event.fromSeq}..${event.toSeq}${event.reason === undefined ? "" : ` (${event.reason})`}`;
}
