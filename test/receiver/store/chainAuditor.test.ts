import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkpointFields } from "../../../src/ledger/checkpoint.js";
import type { LedgerEntry } from "../../../src/ledger/ledgerEntry.js";
import type { AuditEvent, AuditReport } from "../../../src/receiver/store/chainAuditor.js";
import type { PgRecordStore } from "../../../src/receiver/store/pgStore.js";
import { waitUntil } from "../../helpers/waitUntil.js";
import { FakeGateway, sampleFields } from "../gatewayFixture.js";
import { PgTestDb, receiveAll, storeModeReceiver } from "./pgFixture.js";

const GRACE_MS = 30_000;

describe("ChainAuditor", () => {
  const db = new PgTestDb("audit");
  let store: PgRecordStore;

  beforeAll(async () => {
    await db.start();
    store = db.store({ gapGraceMs: GRACE_MS, auditPageRows: 4 });
    await store.start();
  });
  afterAll(async () => {
    await db.stop();
  });

  /** Stores these entries of `gateway` as a store-mode receiver opens them, received now. */
  async function deliver(gateway: FakeGateway, id: string, entries: readonly LedgerEntry[]) {
    const outcomes = receiveAll(
      storeModeReceiver(gateway, id),
      gateway.messagesOf(entries),
      db.clock.wallNow(),
    );
    expect(await store.write(outcomes)).toEqual([]);
  }

  function eventsOf(report: AuditReport, gateway: string): AuditEvent[] {
    return report.events.filter((event) => event.gateway === gateway);
  }

  const gaps = (gateway: string) =>
    db.query("SELECT from_seq, to_seq, state, reason FROM $S.gaps WHERE gateway = $1 ORDER BY from_seq", [
      gateway,
    ]);
  const cursor = async (gateway: string) =>
    (
      await db.query<{ audited_seq: string }>("SELECT audited_seq FROM $S.gateways WHERE id = $1", [gateway])
    )[0]?.audited_seq;

  it("walks a clean chain in order, in pages, and verifies its checkpoint", async () => {
    const gateway = new FakeGateway("gw-clean");
    gateway.appendSamples(10);
    gateway.appendCheckpoint();
    gateway.appendSamples(5);
    // Out of order, as two receivers of a group may store them.
    await deliver(gateway, "gw-clean", gateway.entries.slice(8));
    await deliver(gateway, "gw-clean", gateway.entries.slice(0, 8));

    const report = await store.auditOnce();

    expect(report.audited).toBe(true);
    expect(eventsOf(report, "gw-clean")).toEqual([]);
    expect(report.checkpointsVerified).toBeGreaterThanOrEqual(1);
    expect(await cursor("gw-clean")).toBe("16");
    expect(await gaps("gw-clean")).toEqual([]);
  });

  it("flags an entry whose prev is not the stored hash before it", async () => {
    const gateway = new FakeGateway("gw-prev");
    gateway.appendSamples(3);
    // Another chain under the same key from seq 3 on: its seq 4 links to a seq 3 that was not stored.
    const other = new FakeGateway("gw-prev", gateway.keyFile);
    other.entries.push(...gateway.entries.slice(0, 2));
    other.append(sampleFields(77));
    other.append(sampleFields(78));
    await deliver(gateway, "gw-prev", gateway.entries);
    await deliver(other, "gw-prev", other.entries.slice(3));

    const report = await store.auditOnce();

    expect(
      eventsOf(report, "gw-prev").map((e) => [
        e.type,
        e.type === "tamper" ? e.reason : "",
        "seq" in e ? e.seq : 0,
      ]),
    ).toEqual([["tamper", "prev-mismatch", 4]]);
    const events = await db.query(
      "SELECT seq, source, kind, body->>'reason' AS reason FROM $S.events WHERE gateway = 'gw-prev'",
    );
    expect(events).toEqual([{ seq: "4", source: "receiver", kind: "tamper", reason: "prev-mismatch" }]);
    // Committed with the cursor: the next audit does not report it again.
    expect(eventsOf(await store.auditOnce(), "gw-prev")).toEqual([]);
  });

  it("waits out a hole for the grace, then stores it open, and closes it when it is filled", async () => {
    const gateway = new FakeGateway("gw-hole");
    const entries = gateway.appendSamples(8);
    await deliver(gateway, "gw-hole", [...entries.slice(0, 3), ...entries.slice(5)]);

    const early = await store.auditOnce();
    expect(eventsOf(early, "gw-hole")).toEqual([]);
    expect(await cursor("gw-hole")).toBe("3");

    db.clock.advance(GRACE_MS);
    const late = await store.auditOnce();
    expect(eventsOf(late, "gw-hole")).toMatchObject([{ type: "gap", state: "open", fromSeq: 4, toSeq: 5 }]);
    expect(await cursor("gw-hole")).toBe("8");
    expect(await gaps("gw-hole")).toEqual([{ from_seq: "4", to_seq: "5", state: "open", reason: null }]);

    await deliver(gateway, "gw-hole", entries.slice(3, 4));
    expect(eventsOf(await store.auditOnce(), "gw-hole")).toEqual([]); // half filled: still open
    await deliver(gateway, "gw-hole", entries.slice(4, 5));
    const filled = await store.auditOnce();

    expect(eventsOf(filled, "gw-hole")).toMatchObject([
      { type: "gap", state: "closed", fromSeq: 4, toSeq: 5 },
    ]);
    expect(await gaps("gw-hole")).toEqual([{ from_seq: "4", to_seq: "5", state: "closed", reason: null }]);
    expect(eventsOf(await store.auditOnce(), "gw-hole")).toEqual([]);
  });

  it("flags a wrong link found when a gap closes", async () => {
    const gateway = new FakeGateway("gw-fill");
    const entries = gateway.appendSamples(6);
    const other = new FakeGateway("gw-fill", gateway.keyFile);
    other.entries.push(...entries.slice(0, 3));
    other.append(sampleFields(55)); // a seq 4 that seq 5 does not link to
    await deliver(gateway, "gw-fill", [...entries.slice(0, 3), ...entries.slice(4)]);
    db.clock.advance(GRACE_MS);
    expect(eventsOf(await store.auditOnce(), "gw-fill")).toMatchObject([{ type: "gap", state: "open" }]);

    await deliver(other, "gw-fill", other.entries.slice(3));
    const report = await store.auditOnce();

    expect(eventsOf(report, "gw-fill")).toMatchObject([
      { type: "tamper", reason: "prev-mismatch", seq: 5 },
      { type: "gap", state: "closed", fromSeq: 4, toSeq: 4 },
    ]);
  });

  it("stores a hole the gateway's gap entry names (retention) as lost, without waiting", async () => {
    const gateway = new FakeGateway("gw-retention");
    const entries = gateway.appendSamples(6);
    gateway.appendGap(4, 6);
    gateway.appendSamples(2);
    // 4..6 were removed on the gateway before they were published: never sent.
    await deliver(gateway, "gw-retention", [...entries.slice(0, 3), ...gateway.entries.slice(6)]);

    const report = await store.auditOnce();

    expect(eventsOf(report, "gw-retention")).toMatchObject([
      { type: "gap", state: "lost", fromSeq: 4, toSeq: 6, reason: "retention" },
    ]);
    expect(await gaps("gw-retention")).toEqual([
      { from_seq: "4", to_seq: "6", state: "lost", reason: "retention" },
    ]);
    expect(await cursor("gw-retention")).toBe("9");
  });

  it("turns an open gap lost when the gap entry naming it arrives late", async () => {
    const gateway = new FakeGateway("gw-late");
    const entries = gateway.appendSamples(5);
    gateway.appendGap(2, 3);
    await deliver(gateway, "gw-late", [entries[0], entries[3], entries[4]] as LedgerEntry[]);
    db.clock.advance(GRACE_MS);
    expect(eventsOf(await store.auditOnce(), "gw-late")).toMatchObject([
      { state: "open", fromSeq: 2, toSeq: 3 },
    ]);

    await deliver(gateway, "gw-late", gateway.entries.slice(5));
    const report = await store.auditOnce();

    expect(eventsOf(report, "gw-late")).toMatchObject([
      { type: "gap", state: "lost", fromSeq: 2, toSeq: 3, reason: "retention" },
    ]);
    expect(await gaps("gw-late")).toEqual([
      { from_seq: "2", to_seq: "3", state: "lost", reason: "retention" },
    ]);
  });

  it("flags a checkpoint whose ofHash is not the stored hash of its ofSeq", async () => {
    const gateway = new FakeGateway("gw-checkpoint");
    gateway.appendSamples(3);
    // A MAC that verifies, over a hash the chain never had: a rewrite that kept the old checkpoint.
    gateway.append(checkpointFields(gateway.ring, 2, "ab".repeat(32), 1_795_320_853_000, true));
    await deliver(gateway, "gw-checkpoint", gateway.entries);

    const report = await store.auditOnce();

    expect(eventsOf(report, "gw-checkpoint")).toMatchObject([
      { type: "tamper", reason: "checkpoint-hash", seq: 4 },
    ]);
  });

  it("audits nowhere else while another receiver holds the audit lock", async () => {
    const lockKey = `edgewarden-audit:${db.schema}`;
    await db.query("SELECT pg_advisory_lock(hashtext($1))", [lockKey]);
    try {
      expect((await store.auditOnce()).audited).toBe(false);
    } finally {
      await db.query("SELECT pg_advisory_unlock(hashtext($1))", [lockKey]);
    }
    expect((await store.auditOnce()).audited).toBe(true);
  });

  it("audits on its own timer and hands each event to the callback", async () => {
    const seen: AuditEvent[] = [];
    const timed = db.store({ gapGraceMs: 0, auditIntervalMs: 20, onAuditEvent: (event) => seen.push(event) });
    await timed.start();
    const gateway = new FakeGateway("gw-timer");
    const entries = gateway.appendSamples(3);
    await deliver(gateway, "gw-timer", [entries[0], entries[2]] as LedgerEntry[]);

    await waitUntil(() => seen.some((e) => e.gateway === "gw-timer"), "the timed audit's gap", {
      timeoutMs: 20_000,
    });

    expect(seen.filter((e) => e.gateway === "gw-timer")).toMatchObject([
      { type: "gap", state: "open", fromSeq: 2, toSeq: 2 },
    ]);
    await timed.stop();
  });
});
