/**
 * PgRecordStore on the real PostgreSQL (issue #7): write throughput of one store, of two stores
 * splitting one gateway's stream envelope by envelope as a shared-subscription group does (both
 * insert into the same chain table, so they meet on its index and on the gateways row), and the
 * time the chain auditor takes to walk what was stored. The outcomes are made beforehand by a
 * store-mode ReceiverCore, so only the store is timed. Each case has a schema of its own, dropped
 * at the end.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import {
  ReceiverCore,
  ReceiverKeys,
  type ReceiverOutcome,
  type TopicSettings,
} from "../../../src/receiver/index.js";
import { PgRecordStore } from "../../../src/receiver/store/pgStore.js";
import { BENCH_TEMPLATE, BenchGateway } from "./benchGateway.js";

export const PG_URL = process.env.EDGEWARDEN_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const TOPICS: TopicSettings = { prefix: "edgewarden", template: BENCH_TEMPLATE };

export interface StoreBenchOptions {
  readonly records: number;
  readonly recordsPerEnvelope: number;
  readonly recordsPerWrite: number;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Each envelope's outcomes, as the receive command hands them to the store. */
function envelopeOutcomes(records: number, perEnvelope: number): ReceiverOutcome[][] {
  const gateway = new BenchGateway(`bench-gw-${randomBytes(3).toString("hex")}`, TOPICS);
  const core = new ReceiverCore({
    topics: TOPICS,
    keys: new ReceiverKeys([gateway.receiverKey()]),
    chain: "store",
  });
  const receivedAt = Date.now();
  return gateway
    .seal(gateway.appendSamples(records), perEnvelope)
    .map((message) => core.receive({ ...message, receivedAt }));
}

/** Envelopes grouped into writes of about `recordsPerWrite` records (whole envelopes, like a batch). */
function writesOf(envelopes: readonly ReceiverOutcome[][], recordsPerWrite: number): ReceiverOutcome[][] {
  const writes: ReceiverOutcome[][] = [];
  let current: ReceiverOutcome[] = [];
  for (const outcomes of envelopes) {
    current.push(...outcomes);
    if (current.length >= recordsPerWrite) {
      writes.push(current);
      current = [];
    }
  }
  if (current.length > 0) {
    writes.push(current);
  }
  return writes;
}

async function writeAll(store: PgRecordStore, writes: readonly ReceiverOutcome[][]): Promise<void> {
  for (const outcomes of writes) {
    const found = await store.write(outcomes);
    if (found.length > 0) {
      throw new Error(`the store found ${found.length} records it already held in a fresh schema`);
    }
  }
}

export async function benchStore(options: StoreBenchOptions) {
  const { records, recordsPerEnvelope, recordsPerWrite } = options;
  const tag = randomBytes(4).toString("hex");
  const schemas = [`ew_bench_receiver_${tag}_one`, `ew_bench_receiver_${tag}_two`];
  const [single, pair] = schemas as [string, string];
  const stores: PgRecordStore[] = [];
  const open = async (schema: string) => {
    const store = new PgRecordStore({ url: PG_URL, schema, auditIntervalMs: 0, gapGraceMs: 30_000 });
    stores.push(store);
    await store.start();
    return store;
  };
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  const chainRows = async (schema: string) =>
    Number((await admin.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".chain`)).rows[0]?.n);
  try {
    const envelopes = envelopeOutcomes(records, recordsPerEnvelope);

    const one = await open(single);
    const writes = writesOf(envelopes, recordsPerWrite);
    let started = performance.now();
    await writeAll(one, writes);
    const oneSeconds = (performance.now() - started) / 1000;
    if ((await chainRows(single)) !== records) {
      throw new Error(`one store: ${await chainRows(single)} rows, expected ${records}`);
    }

    started = performance.now();
    const audit = await one.auditOnce();
    const auditSeconds = (performance.now() - started) / 1000;
    if (!audit.audited || audit.rows !== records || audit.eventCount !== 0) {
      throw new Error(`the audit did not walk a clean chain: ${JSON.stringify({ ...audit, events: [] })}`);
    }

    // A shared subscription hands each message to one member in turn: envelope i to store i % 2.
    const first = await open(pair);
    const second = await open(pair);
    const halves = [0, 1].map((member) =>
      writesOf(
        envelopes.filter((_, i) => i % 2 === member),
        recordsPerWrite,
      ),
    ) as [ReceiverOutcome[][], ReceiverOutcome[][]];
    started = performance.now();
    await Promise.all([writeAll(first, halves[0]), writeAll(second, halves[1])]);
    const twoSeconds = (performance.now() - started) / 1000;
    if ((await chainRows(pair)) !== records) {
      throw new Error(`two stores: ${await chainRows(pair)} rows, expected ${records}`);
    }

    return {
      records,
      recordsPerEnvelope,
      recordsPerWrite,
      oneStore: {
        writes: writes.length,
        seconds: round(oneSeconds),
        recordsPerSecond: Math.round(records / oneSeconds),
        msPerWrite: round((oneSeconds * 1000) / writes.length),
      },
      twoStoresInterleaved: {
        writes: halves[0].length + halves[1].length,
        seconds: round(twoSeconds),
        recordsPerSecond: Math.round(records / twoSeconds),
      },
      audit: {
        rows: audit.rows,
        seconds: round(auditSeconds, 3),
        rowsPerSecond: Math.round(audit.rows / auditSeconds),
      },
    };
  } finally {
    for (const store of stores) {
      await store.stop();
    }
    for (const schema of schemas) {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
    await admin.end();
  }
}
