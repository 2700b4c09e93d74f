import { describe, expect, it } from "vitest";
import { checkpointBodyText } from "../../src/ledger/checkpoint.js";
import { type LedgerEntry, NO_DEVICE } from "../../src/ledger/ledgerEntry.js";
import { ReceiverCore, ReceiverKeys, type ReceiverOutcome } from "../../src/receiver/index.js";
import { FakeGateway, GATEWAY, type Message, receiverFor, sampleFields, TOPICS } from "./gatewayFixture.js";

function storeMode(gateway: FakeGateway): ReceiverCore {
  return new ReceiverCore({
    topics: TOPICS,
    keys: new ReceiverKeys([{ file: gateway.keyFile, source: "gateway.key", gateway: GATEWAY }]),
    chain: "store",
  });
}

function feed(receiver: ReceiverCore, messages: readonly Message[]): ReceiverOutcome[] {
  return messages.flatMap((message) => receiver.receive(message));
}

const types = (outcomes: readonly ReceiverOutcome[]) => outcomes.map((o) => o.type);

describe("ReceiverCore in store mode (a shared-subscription group, #7)", () => {
  it("accepts every other message of a stream with no gap events: the store's auditor checks continuity", () => {
    const gateway = new FakeGateway();
    const messages = gateway.messagesOf(gateway.appendSamples(10));
    const half = messages.filter((_, i) => i % 2 === 1);

    const outcomes = feed(storeMode(gateway), half);

    expect(outcomes.map((o) => (o.type === "accepted" ? o.seq : o.type))).toEqual([2, 4, 6, 8, 10]);
    // The same half in memory mode shows why: each missing seq reads as a hole.
    expect(types(feed(receiverFor(gateway), half))).toContain("gap");
  });

  it("gives each accepted record its prev, the envelope's nonce and the topic's site", () => {
    const gateway = new FakeGateway();
    const entries = gateway.appendSamples(2);
    const message = gateway.message(entries);
    const nonce = (JSON.parse(message.payload) as { n: string }).n;

    const outcomes = storeMode(gateway).receive(message);

    expect(outcomes).toMatchObject(
      entries.map((entry) => ({
        type: "accepted",
        seq: entry.seq,
        prev: entry.prev,
        hash: entry.hash,
        nonce,
        site: "hm3",
      })),
    );
    // Memory mode gives the same fields.
    expect(receiverFor(gateway).receive(message)).toMatchObject(
      entries.map((e) => ({ prev: e.prev, nonce })),
    );
  });

  it("still rejects the same envelope twice within its replay window, and a batch whose links break", () => {
    const gateway = new FakeGateway();
    const entries = gateway.appendSamples(3);
    const receiver = storeMode(gateway);
    const message = gateway.message(entries.slice(0, 1));
    receiver.receive(message);

    expect(receiver.receive(message)).toMatchObject([{ type: "rejected", reason: "replay-duplicate" }]);
    const other = new FakeGateway(GATEWAY, gateway.keyFile);
    other.append(sampleFields(98));
    other.append(sampleFields(99));
    // A batch of seq 1..2 from one chain whose seq 2 comes from another chain under the same key.
    const spliced = gateway.message([entries[0], other.entries[1]] as LedgerEntry[]);
    expect(storeMode(gateway).receive(spliced)).toMatchObject([{ type: "rejected", reason: "bad-chain" }]);
  });

  it("accepts a re-sent record again (the store dedups) and a gap entry without declaring anything lost", () => {
    const gateway = new FakeGateway();
    const entries = gateway.appendSamples(2);
    gateway.appendGap(1, 1);
    const receiver = storeMode(gateway);

    const outcomes = feed(receiver, [
      ...gateway.messagesOf(gateway.entries),
      gateway.message(entries.slice(0, 1)), // a resend: new envelope, same record
    ]);

    expect(types(outcomes)).toEqual(["accepted", "accepted", "accepted", "accepted"]);
    expect(receiver.openGaps(GATEWAY)).toEqual([]);
  });

  it("verifies a checkpoint's MAC; one that fails is accepted with its tamper event, so the chain keeps its link", () => {
    const gateway = new FakeGateway();
    const [first] = gateway.appendSamples(1);
    gateway.appendCheckpoint();
    gateway.append({
      ts: 1,
      clockSynced: true,
      kind: "checkpoint",
      device: NO_DEVICE,
      body: checkpointBodyText({ ofSeq: 1, ofHash: first?.hash ?? "", kid: "k1", mac: "0".repeat(64) }),
    });
    const receiver = storeMode(gateway);

    const outcomes = feed(receiver, gateway.messagesOf(gateway.entries));

    expect(outcomes.map((o) => (o.type === "tamper" ? o.reason : o.type))).toEqual([
      "accepted",
      "accepted",
      "checkpoint-mac",
      "accepted",
    ]);
    expect(receiver.counters).toMatchObject({ accepted: 3, tamper: 1, "bad-checkpoint": 0 });
  });
});
