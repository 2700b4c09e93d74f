import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkpointBodyText } from "../../../src/ledger/checkpoint.js";
import { NO_DEVICE } from "../../../src/ledger/ledgerEntry.js";
import type { ReceiverOutcome } from "../../../src/receiver/index.js";
import { FakeGateway, GATEWAY, type Message, sampleFields } from "../gatewayFixture.js";
import { ofType, PgTestDb, receiveAll, storeModeReceiver } from "./pgFixture.js";

const RAISED =
  '{"kind":"anomaly","state":"raised","id":"press-2:overload:1795320853000:1","device":"press-2","type":"overload","severity":"HIGH","ts":1795320853000,"startedTs":1795320853000,"score":0.93,"detectors":[{"detector":"power-profile","probability":0.93,"score":9.3}],"tags":[{"tag":"spindle_kw","weight":0.7,"value":41.2,"expected":30}],"explanation":"HIGH overload on press-2: spindle_kw 41.2 (expected 30); power profile 0.93"}';

describe("PgRecordStore.write", () => {
  const db = new PgTestDb("store");

  beforeAll(async () => {
    await db.start();
  });
  afterAll(async () => {
    await db.stop();
  });

  it("stores a record once: the same envelope again is a replay, a resend in a new envelope a duplicate", async () => {
    const store = db.store();
    await store.start();
    const gateway = new FakeGateway("gw-dedup");
    const entries = gateway.appendSamples(5);
    const messages = gateway.messagesOf(entries);
    const now = db.clock.wallNow();

    const first = await store.write(receiveAll(storeModeReceiver(gateway, "gw-dedup"), messages, now));
    // Another receiver of the group is handed the same envelopes (a broker redelivery, or a replay).
    const again = await store.write(receiveAll(storeModeReceiver(gateway, "gw-dedup"), messages, now));
    // The gateway resends after a reconnect: new envelopes (new nonces), one batch of all five.
    const resent = await store.write(
      receiveAll(storeModeReceiver(gateway, "gw-dedup"), [gateway.message(entries)], now),
    );

    expect(first).toEqual([]);
    expect(ofType(again, "rejected").map((o) => [o.reason, o.seq])).toEqual(
      entries.map((e) => ["replay-duplicate", e.seq]),
    );
    expect(again).toHaveLength(5);
    expect(resent).toEqual(entries.map((e) => ({ type: "duplicate", gateway: "gw-dedup", seq: e.seq })));
    const chain = await db.query<{ seq: string; hash: string }>(
      "SELECT seq, encode(hash, 'hex') AS hash FROM $S.chain WHERE gateway = 'gw-dedup' ORDER BY seq",
    );
    expect(chain).toEqual(entries.map((e) => ({ seq: String(e.seq), hash: e.hash })));
  });

  it("keeps each gateway's newest health snapshot, by seq then ts, whatever order they come in", async () => {
    const store = db.store();
    await store.start();
    const health = (seq: number, ts: number): ReceiverOutcome => ({
      type: "health",
      gateway: "gw-health",
      site: "hm3",
      seq,
      ts,
      health: { v: 1, ledger: { headSeq: seq } },
      topic: "edgewarden/hm3/gw-health/health",
      receivedAt: ts + 5,
    });
    const newest = async () =>
      (
        await db.query<{ last_health: { seq: number; ts: number } }>(
          "SELECT last_health FROM $S.gateways WHERE id = 'gw-health'",
        )
      ).map((row) => [row.last_health.seq, row.last_health.ts]);

    expect(await store.write([health(10, 1_000), health(12, 900)])).toEqual([]);
    expect(await newest()).toEqual([[12, 900]]);
    // A retained snapshot delivered again, and an older one that was overtaken: both kept out.
    await store.write([health(12, 900)]);
    await store.write([health(11, 2_000)]);
    expect(await newest()).toEqual([[12, 900]]);
    await store.write([health(12, 950)]);
    expect(await newest()).toEqual([[12, 950]]);
    // Not a record: nothing in the chain.
    expect(await db.query("SELECT seq FROM $S.chain WHERE gateway = 'gw-health'")).toEqual([]);
  });

  it("reports a record repeated within one batch once stored and once as a duplicate", async () => {
    const store = db.store();
    await store.start();
    const gateway = new FakeGateway("gw-twice");
    const [entry] = gateway.appendSamples(1);
    const core = storeModeReceiver(gateway, "gw-twice");
    const outcomes = receiveAll(
      core,
      [gateway.message(gateway.entries), gateway.message(gateway.entries)],
      1,
    );

    const found = await store.write(outcomes);

    expect(found).toEqual([{ type: "duplicate", gateway: "gw-twice", seq: entry?.seq }]);
    expect(await db.query("SELECT seq FROM $S.samples WHERE gateway = 'gw-twice'")).toHaveLength(1);
  });

  it("stores a seq that arrives with another hash as seq-conflict tampering, keeping the first", async () => {
    const store = db.store();
    await store.start();
    const gateway = new FakeGateway("gw-conflict");
    gateway.appendSamples(3);
    // The same gateway key, another chain: seq 2 and 3 with other bodies, so other hashes.
    const forger = new FakeGateway("gw-conflict", gateway.keyFile);
    forger.entries.push(...gateway.entries.slice(0, 1));
    forger.append(sampleFields(98));
    forger.append(sampleFields(99));
    await store.write(
      receiveAll(storeModeReceiver(gateway, "gw-conflict"), gateway.messagesOf(gateway.entries), 1),
    );

    const found = await store.write(
      receiveAll(storeModeReceiver(gateway, "gw-conflict"), forger.messagesOf(forger.entries.slice(1)), 2),
    );

    expect(ofType(found, "tamper").map((t) => [t.seq, t.reason])).toEqual([
      [2, "seq-conflict"],
      [3, "seq-conflict"],
    ]);
    const events = await db.query<{ seq: string; source: string; kind: string; reason: string }>(
      "SELECT seq, source, kind, body->>'reason' AS reason FROM $S.events WHERE gateway = 'gw-conflict' ORDER BY seq",
    );
    expect(events).toEqual([
      { seq: "2", source: "receiver", kind: "tamper", reason: "seq-conflict" },
      { seq: "3", source: "receiver", kind: "tamper", reason: "seq-conflict" },
    ]);
    const hashes = await db.query<{ hash: string }>(
      "SELECT encode(hash, 'hex') AS hash FROM $S.chain WHERE gateway = 'gw-conflict' ORDER BY seq",
    );
    expect(hashes.map((h) => h.hash)).toEqual(gateway.entries.map((e) => e.hash));
  });

  it("stores each kind in its typed table, from real envelopes through a store-mode receiver", async () => {
    const store = db.store();
    await store.start();
    const gateway = new FakeGateway("gw-typed");
    gateway.appendSamples(2);
    gateway.append({
      ts: 1_795_320_853_000,
      clockSynced: true,
      kind: "anomaly",
      device: "press-2",
      body: RAISED,
    });
    gateway.appendCheckpoint();
    gateway.append({
      ts: 1_795_320_860_000,
      clockSynced: false,
      kind: "event",
      device: NO_DEVICE,
      body: '{"type":"config-reloaded","severity":"info","message":"reloaded"}',
    });
    gateway.appendGap(1, 2);
    gateway.append({
      ts: 1_795_320_870_000,
      clockSynced: true,
      kind: "deadletter",
      device: NO_DEVICE,
      body: '{"seq":"3","reason":"packet-too-large","bytes":2261,"limit":2000}',
    });
    const receivedAt = Date.UTC(2026, 0, 2, 3, 4, 5);
    const outcomes = receiveAll(
      storeModeReceiver(gateway, "gw-typed"),
      gateway.messagesOf(gateway.entries),
      receivedAt,
    );
    expect(outcomes.every((o) => o.type === "accepted")).toBe(true);

    expect(await store.write(outcomes)).toEqual([]);

    const samples = await db.query(
      "SELECT seq, device, grp, ts, clock_synced, \"values\" FROM $S.samples WHERE gateway = 'gw-typed' ORDER BY seq",
    );
    expect(samples[0]).toEqual({
      seq: "1",
      device: "press-2",
      grp: "fast",
      ts: new Date(1_795_320_853_847 + 100),
      clock_synced: true,
      values: { motor_temp: { value: 1, quality: "good", unit: "degC" } },
    });
    expect(samples).toHaveLength(2);
    const [anomaly] = await db.query(
      "SELECT seq, device, ts, episode, type, severity, state, detector, score, started_ts, ended_ts, body->>'explanation' AS explanation FROM $S.anomalies WHERE gateway = 'gw-typed'",
    );
    expect(anomaly).toEqual({
      seq: "3",
      device: "press-2",
      ts: new Date(1_795_320_853_000),
      episode: "press-2:overload:1795320853000:1",
      type: "overload",
      severity: "HIGH",
      state: "raised",
      detector: "power-profile",
      score: 0.93,
      started_ts: new Date(1_795_320_853_000),
      ended_ts: null,
      explanation: "HIGH overload on press-2: spindle_kw 41.2 (expected 30); power profile 0.93",
    });
    const checkpoint = gateway.entries[3];
    const [stored] = await db.query<Record<string, unknown>>(
      "SELECT seq, of_seq, encode(of_hash, 'hex') AS of_hash, kid, mac FROM $S.checkpoints WHERE gateway = 'gw-typed'",
    );
    expect(
      checkpointBodyText({
        ofSeq: Number(stored?.of_seq),
        ofHash: String(stored?.of_hash),
        kid: String(stored?.kid),
        mac: String(stored?.mac),
      }),
    ).toBe(checkpoint?.body);
    const events = await db.query(
      "SELECT seq, source, kind, body FROM $S.events WHERE gateway = 'gw-typed' ORDER BY seq",
    );
    expect(events).toEqual([
      { seq: "5", source: "gateway", kind: "event", body: JSON.parse(gateway.entries[4]?.body ?? "") },
      { seq: "6", source: "gateway", kind: "gap", body: JSON.parse(gateway.entries[5]?.body ?? "") },
      { seq: "7", source: "gateway", kind: "deadletter", body: JSON.parse(gateway.entries[6]?.body ?? "") },
    ]);
    const chain = await db.query(
      "SELECT seq, kind, device, encode(prev, 'hex') AS prev, received_at FROM $S.chain WHERE gateway = 'gw-typed' ORDER BY seq",
    );
    expect(chain).toEqual(
      gateway.entries.map((e) => ({
        seq: String(e.seq),
        kind: e.kind,
        device: e.device,
        prev: e.prev,
        received_at: new Date(receivedAt),
      })),
    );
    const [row] = await db.query(
      "SELECT site, first_seen, last_seen, audited_seq FROM $S.gateways WHERE id = 'gw-typed'",
    );
    expect(row).toEqual({
      site: "hm3",
      first_seen: new Date(receivedAt),
      last_seen: new Date(receivedAt),
      audited_seq: "0",
    });
  });

  it("stores the tampering a receiver found (a checkpoint whose MAC fails) with the checkpoint itself", async () => {
    const store = db.store();
    await store.start();
    const gateway = new FakeGateway("gw-badmac");
    const [first] = gateway.appendSamples(1);
    gateway.append({
      ts: 1_795_320_853_000,
      clockSynced: true,
      kind: "checkpoint",
      device: NO_DEVICE,
      body: checkpointBodyText({ ofSeq: 1, ofHash: first?.hash ?? "", kid: "k1", mac: "0".repeat(64) }),
    });
    const outcomes = receiveAll(
      storeModeReceiver(gateway, "gw-badmac"),
      gateway.messagesOf(gateway.entries),
      5,
    );
    expect(ofType(outcomes, "tamper").map((t) => t.reason)).toEqual(["checkpoint-mac"]);

    await store.write(outcomes);

    expect(await db.query("SELECT seq FROM $S.chain WHERE gateway = 'gw-badmac'")).toHaveLength(2);
    expect(
      await db.query(
        "SELECT seq, source, body->>'reason' AS reason FROM $S.events WHERE gateway = 'gw-badmac'",
      ),
    ).toEqual([{ seq: "2", source: "receiver", reason: "checkpoint-mac" }]);
  });

  it("stores 100,000 records written by two receivers of one group exactly once, with no gap", async () => {
    const stores = [db.store({ poolSize: 2 }), db.store({ poolSize: 2 })];
    await Promise.all(stores.map((store) => store.start()));
    const gateway = new FakeGateway(GATEWAY);
    const entries = gateway.appendSamples(100_000);
    const messages: Message[] = [];
    for (let i = 0; i < entries.length; i += 100) {
      messages.push(gateway.message(entries.slice(i, i + 100)));
    }
    // The broker hands out messages alternately; every 50th also goes to the other member (a redelivery).
    const shares = [0, 1].map((member) =>
      messages.filter((_, i) => i % 2 === member || (i % 50 === 0 && member === 1)),
    );
    // Opening is the receiver's CPU cost; it is done first so that the time below is the store's.
    const batches = [0, 1].map((member) => {
      const core = storeModeReceiver(gateway);
      const share = shares[member] ?? [];
      const writes: ReceiverOutcome[][] = [];
      for (let i = 0; i < share.length; i += 20) {
        writes.push(receiveAll(core, share.slice(i, i + 20), db.clock.wallNow()));
      }
      return writes;
    });
    const found: ReceiverOutcome[] = [];

    const started = performance.now();
    await Promise.all(
      stores.map(async (store, member) => {
        for (const outcomes of batches[member] ?? []) {
          found.push(...(await store.write(outcomes)));
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    console.warn(
      `pg store: 100,000 records (+2,000 redelivered) written by two stores in ${seconds.toFixed(2)} s: ${Math.round(100_000 / seconds)} records/s`,
    );

    const [count] = await db.query<{ n: string; lo: string; hi: string }>(
      "SELECT count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM $S.samples WHERE gateway = $1",
      [GATEWAY],
    );
    expect(count).toEqual({ n: "100000", lo: "1", hi: "100000" });
    const replays = found.filter((o) => o.type === "rejected");
    expect(replays).toHaveLength(20); // 20 messages of 100 records went to both: one envelope each
    expect(found.filter((o) => o.type !== "rejected")).toEqual([]);
    db.clock.advance(3_600_000);
    const audit = await stores[0]?.auditOnce();
    expect(audit).toMatchObject({ audited: true, eventCount: 0 });
    const [cursor] = await db.query("SELECT audited_seq FROM $S.gateways WHERE id = $1", [GATEWAY]);
    expect(cursor).toEqual({ audited_seq: "100000" });
    expect(await db.query("SELECT * FROM $S.gaps WHERE gateway = $1", [GATEWAY])).toEqual([]);
  });
});
