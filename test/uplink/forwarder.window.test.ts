/**
 * The forwarder's window and cursor rules (issue #5, item 6) on a real Ledger, with PUBACKs the
 * test hands out (support/stubSession.ts: no broker produces these on demand): at most `window`
 * messages beyond the cursor, the broker's Receive Maximum honoured, the cursor moved over the
 * contiguous PUBACKed prefix only, a disconnect forgetting in-flight state, PUBACK 0x99 and 0x90
 * dead-lettered (and a dead letter never dead-lettered again), idle until the ledger commits.
 */
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { NO_DEVICE, parseEntryText } from "../../src/ledger/ledgerEntry.js";
import { Forwarder, type ForwarderSettings } from "../../src/uplink/forwarder.js";
import { TopicRenderer } from "../../src/uplink/topics.js";
import { Resources } from "../helpers/resources.js";
import { waitUntil } from "../helpers/waitUntil.js";
import { samples, TEMPLATE, TestGateway } from "./support/gateway.js";
import { ACKED, StubConnection, type StubPublish, StubSession, seqOfPayload } from "./support/stubSession.js";

let resources: Resources;
beforeEach(() => {
  resources = new Resources();
});
afterEach(async () => {
  await resources.release();
});

async function rig(settings: Partial<ForwarderSettings> = {}) {
  const dir = await resources.tempDir("edgewarden-window-");
  const gateway = resources.track(new TestGateway({ ledgerDir: join(dir, "ledger"), brokerPort: 1 }));
  const ledger = await gateway.openLedger();
  const session = new StubSession();
  const forwarder = new Forwarder(
    {
      gateway: "gw-test",
      topics: new TopicRenderer({
        prefix: "edgewarden",
        site: "lab",
        gateway: "gw-test",
        template: TEMPLATE,
      }),
      encryption: "none",
      inflight: 4,
      batch: { maxRecords: 1, maxBytes: 65_536 },
      retry: { initialDelayMs: 100, maxDelayMs: 400 },
      ...settings,
    },
    { reader: ledger, appender: ledger, session, clock: systemClock, logger: gateway.log.logger },
  );
  await forwarder.start(new AbortController().signal);
  resources.track({ kill: () => forwarder.stop() });
  return { gateway, ledger, session, forwarder };
}

const seqs = (published: readonly StubPublish[]) => published.map((p) => seqOfPayload(p.payload));
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe("Forwarder window", () => {
  it("keeps at most `inflight` messages beyond the cursor and sends the next on each PUBACK", async () => {
    const { gateway, ledger, session, forwarder } = await rig({ inflight: 4 });
    await gateway.append(samples(10));
    const connection = new StubConnection(1);
    session.connect(connection);
    await waitUntil(() => connection.published.length === 4, "a full window");
    await settle();
    expect(seqs(connection.published)).toEqual([1, 2, 3, 4]);
    expect(forwarder.stats()).toMatchObject({ inflight: 4, window: 4, backlog: 10 });

    connection.published[0]?.answer(ACKED);
    await waitUntil(() => connection.published.length === 5, "one more");
    await settle();
    expect(connection.published).toHaveLength(5);
    expect(ledger.ackedSeq()).toBe(1);
  });

  it("lowers the window to the broker's Receive Maximum", async () => {
    const { gateway, session, forwarder } = await rig({ inflight: 64 });
    await gateway.append(samples(10));
    const connection = new StubConnection(1, { receiveMaximum: 3 });
    session.connect(connection);
    await waitUntil(() => connection.published.length === 3, "three in flight");
    await settle();
    expect(connection.published).toHaveLength(3);
    expect(forwarder.stats().window).toBe(3);
  });

  it("moves the cursor over the contiguous PUBACKed prefix only", async () => {
    const { gateway, ledger, session } = await rig({ inflight: 4 });
    await gateway.append(samples(4));
    const connection = new StubConnection(1);
    session.connect(connection);
    await waitUntil(() => connection.published.length === 4, "a full window");
    connection.published[1]?.answer(ACKED);
    connection.published[2]?.answer(ACKED);
    await settle();
    expect(ledger.ackedSeq()).toBe(0);
    connection.published[0]?.answer(ACKED);
    await waitUntil(() => ledger.ackedSeq() === 3, "the cursor to jump to 3");
    connection.published[3]?.answer(ACKED);
    await waitUntil(() => ledger.ackedSeq() === 4, "the cursor at the head");
  });

  it("forgets in-flight messages on a disconnect and resumes from the cursor on the next connection", async () => {
    const { gateway, ledger, session, forwarder } = await rig({ inflight: 4 });
    await gateway.append(samples(6));
    const first = new StubConnection(1);
    session.connect(first);
    await waitUntil(() => first.published.length === 4, "a full window");
    first.published[0]?.answer(ACKED);
    await waitUntil(() => ledger.ackedSeq() === 1 && first.published.length === 5, "one acknowledged");
    session.disconnect();
    // A late PUBACK of the old connection changes nothing.
    first.published[1]?.answer(ACKED);
    await settle();
    expect(ledger.ackedSeq()).toBe(1);

    const second = new StubConnection(2, { auto: () => ACKED });
    session.connect(second);
    await waitUntil(() => ledger.ackedSeq() === 6, "everything acknowledged");
    expect(seqs(second.published)).toEqual([2, 3, 4, 5, 6]);
    expect(forwarder.stats()).toMatchObject({ duplicatesRisked: 4, reconnects: 1 });
  });

  it("wakes on the ledger's commit when idle, without polling", async () => {
    const { gateway, ledger, session } = await rig();
    const connection = new StubConnection(1, { auto: () => ACKED });
    session.connect(connection);
    await settle();
    expect(connection.published).toHaveLength(0);
    await gateway.append(samples(3));
    await waitUntil(() => ledger.ackedSeq() === 3, "the new records sent and acknowledged");
    expect(seqs(connection.published)).toEqual([1, 2, 3]);
  });
});

describe("Forwarder and permanent PUBACK failures", () => {
  it("dead-letters a record the broker refuses with 0x99 and moves on", async () => {
    const { gateway, ledger, session, forwarder } = await rig();
    await gateway.append(samples(3));
    const connection = new StubConnection(1, {
      auto: (p) => (seqOfPayload(p.payload) === 2 ? { kind: "refused", reasonCode: 0x99 } : ACKED),
    });
    session.connect(connection);
    await waitUntil(() => ledger.durableSeq() === 4 && ledger.ackedSeq() === 4, "the dead letter sent too");
    const deadLetter = connection.published.find((p) => p.topic.endsWith(`/${NO_DEVICE}/events`));
    const entry = parseEntryText(deadLetter?.payload ?? "");
    expect(entry?.kind).toBe("deadletter");
    expect(JSON.parse(entry?.body ?? "{}")).toMatchObject({ seq: "2", reason: "puback-0x99" });
    expect(forwarder.stats()).toMatchObject({ deadLettered: 1, refusedPublishes: 1 });
  });

  it("does not dead-letter a dead letter that the broker refuses too (0x90 on the events topic)", async () => {
    const { gateway, ledger, session, forwarder } = await rig();
    await gateway.append(samples(2));
    const connection = new StubConnection(1, {
      auto: (p) =>
        p.topic.endsWith("/events") || seqOfPayload(p.payload) === 1
          ? { kind: "refused", reasonCode: 0x90 }
          : ACKED,
    });
    session.connect(connection);
    await waitUntil(() => ledger.durableSeq() === 3 && ledger.ackedSeq() === 3, "the cursor at the head");
    await settle();
    expect(ledger.durableSeq()).toBe(3); // no dead letter of the dead letter
    expect(forwarder.stats().deadLettered).toBe(1);
    expect(gateway.log.lines.some((l) => String(l.msg).includes("cannot be published either"))).toBe(true);
  });
});
