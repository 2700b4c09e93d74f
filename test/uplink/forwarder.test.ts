/**
 * The forwarder end to end (issue #5, item 6): a real Ledger on LevelDB, a real mosquitto, and an
 * mqtt.js subscriber that opens the envelopes. Records arrive in seq order on their topics, the
 * acked cursor reaches the head, a restart resumes from the stored cursor, a broker outage
 * publishes nothing and then delivers everything with at most one window of duplicates.
 */
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { NO_DEVICE, parseEntryText } from "../../src/ledger/ledgerEntry.js";
import { Mosquitto } from "../helpers/mosquitto.js";
import { Resources } from "../helpers/resources.js";
import { waitUntil } from "../helpers/waitUntil.js";
import { sample, samples, TestGateway, topicOf } from "./support/gateway.js";
import { gatewayKeyRing } from "./support/keys.js";
import { openRecords, type Received, Subscriber, seqsOf } from "./support/subscriber.js";
import { TcpProxy } from "./support/tcpProxy.js";

const ALL_RECORDS = "edgewarden/lab/gw-test/+/+";

let resources: Resources;
beforeEach(() => {
  resources = new Resources();
});
afterEach(async () => {
  await resources.release();
});

async function setup(options: { inflight?: number; viaProxy?: boolean } = {}) {
  const dir = await resources.tempDir("edgewarden-forwarder-");
  const mosquitto = resources.track(await Mosquitto.start({ dir }));
  const proxy = options.viaProxy ? resources.track(await TcpProxy.start(mosquitto.port)) : undefined;
  const { ring } = await gatewayKeyRing(dir);
  const gateway = resources.track(
    new TestGateway({
      ledgerDir: join(dir, "ledger"),
      brokerPort: proxy?.port ?? mosquitto.port,
      keyRing: ring,
      forwarder: { inflight: options.inflight ?? 64 },
    }),
  );
  await gateway.openLedger();
  return { dir, mosquitto, proxy, ring, gateway };
}

/** Seqs of every record in `messages`, opened with the ring. */
function receivedSeqs(ring: Parameters<typeof openRecords>[0], messages: readonly Received[]): number[] {
  return messages.filter((m) => !m.topic.endsWith("/status")).flatMap((m) => seqsOf(openRecords(ring, m)));
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("Forwarder", () => {
  it("delivers every record in seq order, sealed for its topic, and moves the acked cursor to the head", async () => {
    const { mosquitto, ring, gateway } = await setup();
    const subscriber = resources.track(await Subscriber.connect(mosquitto.port, [ALL_RECORDS]));
    await gateway.startUplink();
    const entries = await gateway.append([
      ...samples(200, "press-2"),
      sample(NO_DEVICE, { kind: "event", body: '{"type":"test.event"}' }),
      ...samples(99, "press-3"),
    ]);
    const ledger = gateway.theLedger;
    await waitUntil(() => ledger.ackedSeq() === 300, "the acked cursor to reach the head");
    await subscriber.waitFor((m) => m.length === 300, "300 records");

    expect(receivedSeqs(ring, subscriber.messages)).toEqual(range(1, 300));
    expect(subscriber.on(topicOf("press-2", "data"))).toHaveLength(200);
    expect(subscriber.on(topicOf("press-3", "data"))).toHaveLength(99);
    expect(subscriber.on(topicOf(NO_DEVICE, "events"))).toHaveLength(1);
    // The plaintext is the ledger entry itself, byte for byte.
    const texts = subscriber.messages.flatMap((m) => openRecords(ring, m));
    expect(texts).toEqual(entries.map((e) => e.text));
    const stats = gateway.theForwarder.stats();
    expect(stats).toMatchObject({ backlog: 0, ackedSeq: 300, publishedRecords: 300, ackedRecords: 300 });
    expect(stats.duplicatesRisked).toBe(0);
    expect(stats.pubackLatencyP99Ms).toBeGreaterThan(0);
  });

  it("resumes from the stored cursor after a restart, re-sending nothing already acknowledged", async () => {
    const { mosquitto, ring, gateway } = await setup();
    const subscriber = resources.track(await Subscriber.connect(mosquitto.port, [ALL_RECORDS]));
    await gateway.startUplink();
    await gateway.append(samples(150));
    await waitUntil(() => gateway.theLedger.ackedSeq() === 150, "150 acknowledged");
    await gateway.stop();

    // Records appended while the uplink is not running wait in the ledger.
    await gateway.openLedger();
    expect(gateway.theLedger.ackedSeq()).toBe(150);
    await gateway.append(samples(50));
    await gateway.startUplink();
    await waitUntil(() => gateway.theLedger.ackedSeq() === 200, "200 acknowledged");
    await subscriber.waitFor((m) => m.length === 200, "200 records");
    expect(receivedSeqs(ring, subscriber.messages)).toEqual(range(1, 200));
  });

  it("publishes nothing while the broker is down and delivers everything after it restarts", async () => {
    const window = 16;
    const { mosquitto, proxy, ring, gateway } = await setup({ inflight: window, viaProxy: true });
    const before = resources.track(await Subscriber.connect(mosquitto.port, [ALL_RECORDS]));
    const forwarder = await gateway.startUplink();
    const ledger = gateway.theLedger;
    const appended = gateway.append(samples(3000));
    // Kill the broker in the middle of the stream.
    await waitUntil(() => ledger.ackedSeq() >= 500, "500 acknowledged", { timeoutMs: 20_000 });
    proxy?.refuse(true);
    await mosquitto.stop("SIGKILL");
    await waitUntil(() => !forwarder.stats().connected, "the forwarder to see the outage");
    await appended;
    const published = forwarder.stats().publishedRecords;
    await gateway.append(samples(500));
    expect(forwarder.stats().publishedRecords).toBe(published);
    expect(forwarder.stats().backlog).toBe(3500 - ledger.ackedSeq());
    expect(ledger.ackedSeq()).toBeLessThan(3500);

    await mosquitto.start();
    // The new subscriber is in place before the gateway may reconnect (the broker keeps no sessions).
    const after = resources.track(await Subscriber.connect(mosquitto.port, [ALL_RECORDS]));
    proxy?.refuse(false);
    await waitUntil(() => ledger.ackedSeq() === 3500, "everything acknowledged", { timeoutMs: 30_000 });
    await after.waitFor((m) => m.length > 0 && receivedSeqs(ring, m).at(-1) === 3500, "the last record");

    const seqs = [...receivedSeqs(ring, before.messages), ...receivedSeqs(ring, after.messages)];
    const distinct = new Set(seqs);
    expect([...distinct].sort((a, b) => a - b)).toEqual(range(1, 3500));
    const duplicates = seqs.length - distinct.size;
    expect(duplicates).toBeLessThanOrEqual(window);
    expect(forwarder.stats().duplicatesRisked).toBeLessThanOrEqual(window);
    expect(forwarder.stats().duplicatesRisked).toBeGreaterThanOrEqual(duplicates);
    expect(forwarder.stats().reconnects).toBe(1);
  });

  it("skips what retention removed before it was published, and publishes the gap record that says so", async () => {
    const dir = await resources.tempDir("edgewarden-forwarder-");
    const mosquitto = resources.track(await Mosquitto.start({ dir }));
    const gateway = resources.track(
      new TestGateway({
        ledgerDir: join(dir, "ledger"),
        brokerPort: mosquitto.port,
        // The samples' timestamps are in January 2026: older than a day, so retention takes them.
        ledger: { retention: { maxBytes: 2 ** 40, maxAgeMs: 86_400_000, checkIntervalMs: 3_600_000 } },
        // Retention judges age only by a synced clock (FAULTS 8.5).
        ledgerClock: { ...systemClock, wallSynced: () => true },
      }),
    );
    const ledger = await gateway.openLedger();
    const subscriber = resources.track(await Subscriber.connect(mosquitto.port, [ALL_RECORDS]));
    await gateway.append(samples(20));
    await ledger.enforceRetention();
    await waitUntil(() => ledger.firstSeq() > 1 && ledger.durableSeq() > 20, "retention and its gap record");
    const head = ledger.durableSeq();
    await gateway.startUplink();
    await waitUntil(() => ledger.ackedSeq() === head, "the cursor at the head");
    const published = subscriber.messages.map((m) => parseEntryText(m.payload));
    expect(published.map((e) => e?.seq)).toEqual(range(ledger.firstSeq(), head));
    expect(published.some((e) => e?.kind === "gap")).toBe(true);
    expect(
      gateway.log.lines.some(
        (l) => l.msg === "uplink: records were removed by retention before they were published",
      ),
    ).toBe(true);
  });

  it("publishes the entry text itself with encryption none, and warns at start", async () => {
    const dir = await resources.tempDir("edgewarden-forwarder-");
    const mosquitto = resources.track(await Mosquitto.start({ dir }));
    const gateway = resources.track(
      new TestGateway({ ledgerDir: join(dir, "ledger"), brokerPort: mosquitto.port }),
    );
    await gateway.openLedger();
    const subscriber = resources.track(await Subscriber.connect(mosquitto.port, [ALL_RECORDS]));
    const entries = await gateway.append(samples(5));
    await gateway.startUplink();
    await subscriber.waitFor((m) => m.length === 5, "5 records");
    expect(subscriber.messages.map((m) => m.payload)).toEqual(entries.map((e) => e.text));
    const warning = gateway.log.lines.find((l) => String(l.msg).includes("published in clear"));
    expect(warning?.level).toBe("warn");
  });
});
