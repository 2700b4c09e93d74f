/**
 * The receiver composed with the PostgreSQL store (H1's PgRecordStore) over the real mosquitto at
 * 127.0.0.1:1883 and the real PostgreSQL at 127.0.0.1:5432 (database test, a schema of its own):
 * two receivers in one shared-subscription group split a gateway's stream and together store
 * each record exactly once (issue #7: 100,000 records), and the chain audit over what both stored
 * finds no gap.
 */
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { Resources } from "../helpers/resources.js";
import { waitUntil } from "../helpers/waitUntil.js";
import {
  auditedSeq,
  connectPublisher,
  dropSession,
  type RunningService,
  receiverSetup,
  startReceiverService,
} from "./receiverHarness.js";
import { PG_URL, uniqueSchema } from "./store/pgFixture.js";

const resources = new Resources();
const sessions: string[] = [];
const services: RunningService[] = [];
const schemas: string[] = [];

afterEach(async () => {
  for (const running of services.splice(0)) {
    await running.service.stop();
  }
  await Promise.all(sessions.splice(0).map(dropSession));
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  for (const schema of schemas.splice(0)) {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
  await client.end();
  await resources.release();
});

describe("ReceiverService with the PostgreSQL store", () => {
  it("two receivers in one shared subscription group store 100,000 records exactly once", async () => {
    const dir = await resources.tempDir();
    const schema = uniqueSchema("service");
    schemas.push(schema);
    const group = `ew-test-${randomBytes(4).toString("hex")}`;
    const setup = await receiverSetup(dir, {
      group,
      store: [
        "  postgres:",
        `    url: ${PG_URL}`,
        `    schema: ${schema}`,
        "    auditInterval: 1s",
        "    gapGrace: 5s",
      ],
    });
    const secondConfig = join(dir, "receiver-2.yaml");
    const secondClient = `${setup.clientId}-2`;
    await writeFile(
      secondConfig,
      (await readFile(setup.configPath, "utf8")).replace(setup.clientId, secondClient),
    );
    sessions.push(setup.clientId, secondClient);
    const first = await startReceiverService(setup.configPath);
    services.push(first);
    const second = await startReceiverService(secondConfig);
    services.push(second);

    // Issue #7: 100,000 records from one gateway, in envelopes of 10 as its forwarder batches them.
    const total = 100_000;
    const perEnvelope = 10;
    const entries = setup.gateway.appendSamples(total);
    const stored = () => first.service.counters.stored + second.service.counters.stored;
    const publisher = await connectPublisher();
    for (let at = 0; at < total; at += 200 * perEnvelope) {
      // Paced by what the group has stored: mosquitto queues at most max_queued_messages (1000 by
      // default) per subscriber and drops the rest silently; the test is of the receivers, not that.
      await waitUntil(() => at - stored() <= 5_000, "the group to keep up", { timeoutMs: 60_000 });
      const round = [];
      for (let i = at; i < Math.min(total, at + 200 * perEnvelope); i += perEnvelope) {
        round.push(setup.gateway.message(entries.slice(i, i + perEnvelope)));
      }
      await Promise.all(round.map((m) => publisher.publishAsync(m.topic, m.payload, { qos: 1 })));
    }
    await publisher.endAsync();

    await waitUntil(() => stored() >= total, `${total} records stored`, { timeoutMs: 120_000 });
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ rows: string; seqs: string; lo: string; hi: string }>(
        `SELECT count(*) AS rows, count(DISTINCT seq) AS seqs, min(seq) AS lo, max(seq) AS hi FROM "${schema}".chain WHERE gateway = $1`,
        [setup.gatewayId],
      );
      expect(rows[0]).toEqual({ rows: String(total), seqs: String(total), lo: "1", hi: String(total) });
      const samples = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".samples`);
      expect(samples.rows[0]?.n).toBe(String(total));
      // Whichever receiver holds the audit lock walks the chain both stored: no gap, no tampering.
      const audited = await auditedSeq(client, schema, setup.gatewayId, total);
      expect(audited).toBe(total);
      expect((await client.query(`SELECT * FROM "${schema}".gaps`)).rows).toEqual([]);
      expect((await client.query(`SELECT * FROM "${schema}".events`)).rows).toEqual([]);
    } finally {
      await client.end();
    }
    // Both took part (a shared subscription spreads the messages), and neither stored anything twice.
    expect(first.service.counters.stored).toBeGreaterThan(0);
    expect(second.service.counters.stored).toBeGreaterThan(0);
    expect(stored()).toBe(total);
    expect([...first.fatal, ...second.fatal]).toEqual([]);
  }, 300_000);

  it("stores the seqs a gateway's retention removed unsent as a lost gap, not as loss on the way", async () => {
    const dir = await resources.tempDir();
    const schema = uniqueSchema("retention");
    schemas.push(schema);
    const setup = await receiverSetup(dir, {
      store: [
        "  postgres:",
        `    url: ${PG_URL}`,
        `    schema: ${schema}`,
        "    auditInterval: 1s",
        "    gapGrace: 2s",
      ],
    });
    sessions.push(setup.clientId);
    const running = await startReceiverService(setup.configPath);
    services.push(running);

    // The broker was away; retention removed 51..80 before they were sent and appended a gap
    // entry naming them (src/ledger/retention.ts), which travels like any record.
    const gateway = setup.gateway;
    const sent = gateway.appendSamples(50);
    gateway.appendSamples(30);
    sent.push(gateway.appendGap(51, 80), ...gateway.appendSamples(19));
    const publisher = await connectPublisher();
    for (const message of gateway.messagesOf(sent)) {
      await publisher.publishAsync(message.topic, message.payload, { qos: 1 });
    }
    await publisher.endAsync();

    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const audited = await auditedSeq(client, schema, setup.gatewayId, 100);
      expect(audited).toBe(100);
      const gaps = await client.query(`SELECT from_seq, to_seq, state, reason FROM "${schema}".gaps`);
      expect(gaps.rows).toEqual([{ from_seq: "51", to_seq: "80", state: "lost", reason: "retention" }]);
      const gapEntry = await client.query<{ seq: string; kind: string }>(
        `SELECT seq, kind FROM "${schema}".events WHERE source = 'gateway'`,
      );
      expect(gapEntry.rows).toEqual([{ seq: "81", kind: "gap" }]);
    } finally {
      await client.end();
    }
    expect(running.service.counters.stored).toBe(70);
    expect(running.fatal).toEqual([]);
  }, 120_000);
});
