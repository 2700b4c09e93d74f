import { describe, expect, it } from "vitest";
import { sealEnvelope } from "../../src/crypto/envelope/index.js";
import { exportCheckpointKeys, exportDeviceKeys, rotateGatewayKeys } from "../../src/crypto/keys/index.js";
import { checkpointBodyText, checkpointMac } from "../../src/ledger/checkpoint.js";
import { type LedgerEntry, makeEntry, NO_DEVICE } from "../../src/ledger/ledgerEntry.js";
import {
  ReceiverCore,
  ReceiverKeys,
  type ReceiverOutcome,
  type RejectReason,
} from "../../src/receiver/index.js";
import { prng } from "../helpers/seededRandom.js";
import { FakeGateway, GATEWAY, type Message, receiverFor, sampleFields, TOPICS } from "./gatewayFixture.js";

function feed(receiver: ReceiverCore, messages: readonly Message[]): ReceiverOutcome[] {
  return messages.flatMap((message) => receiver.receive(message));
}

const accepted = (outcomes: readonly ReceiverOutcome[]) =>
  outcomes.flatMap((o) => (o.type === "accepted" ? [o.seq] : []));
const ofType = <T extends ReceiverOutcome["type"]>(outcomes: readonly ReceiverOutcome[], type: T) =>
  outcomes.filter((o): o is Extract<ReceiverOutcome, { type: T }> => o.type === type);

function rejection(outcomes: readonly ReceiverOutcome[]): RejectReason | undefined {
  return ofType(outcomes, "rejected")[0]?.reason;
}

/** The payload with one character of its ciphertext changed. */
function flipCiphertext(payload: string): string {
  const at = payload.indexOf('"ct":"') + 10;
  const c = payload[at] === "A" ? "B" : "A";
  return `${payload.slice(0, at)}${c}${payload.slice(at + 1)}`;
}

describe("ReceiverCore", () => {
  it("accepts a clean stream in order, with each body parsed per kind and the checkpoint verified", () => {
    const gateway = new FakeGateway();
    gateway.appendSamples(30);
    gateway.appendCheckpoint();
    gateway.appendSamples(5);
    const receiver = receiverFor(gateway);

    const outcomes = feed(receiver, gateway.messagesOf(gateway.entries));

    expect(accepted(outcomes)).toEqual(gateway.entries.map((e) => e.seq));
    expect(outcomes.every((o) => o.type === "accepted")).toBe(true);
    const first = ofType(outcomes, "accepted")[0];
    expect(first?.body.kind === "sample" && first.body.json.values).toEqual({
      motor_temp: { value: 1, quality: "good", unit: "degC" },
    });
    expect(first?.bodyText).toBe(gateway.entries[0]?.body);
    const checkpoint = ofType(outcomes, "accepted").find((o) => o.kind === "checkpoint");
    expect(checkpoint?.body.kind === "checkpoint" && checkpoint.body.checkpoint.ofSeq).toBe(30);
    expect(receiver.counters).toMatchObject({ messages: 36, accepted: 36, checkpointVerified: 1, tamper: 0 });
  });

  it("accepts a batch message as its contiguous seq range (§11.2)", () => {
    const gateway = new FakeGateway();
    const entries = gateway.appendSamples(12);
    const receiver = receiverFor(gateway);

    const outcomes = feed(receiver, [
      gateway.message(entries.slice(0, 10)),
      gateway.message(entries.slice(10)),
    ]);

    expect(accepted(outcomes)).toEqual(entries.map((e) => e.seq));
    expect(receiver.counters.messages).toBe(2);
  });

  it("rejects a tampered payload as tampered and counts it", () => {
    const gateway = new FakeGateway();
    const [entry] = gateway.appendSamples(1);
    const receiver = receiverFor(gateway);
    const message = gateway.message([entry as LedgerEntry]);

    const outcomes = receiver.receive({ ...message, payload: flipCiphertext(message.payload) });

    expect(rejection(outcomes)).toBe("tampered");
    expect(receiver.counters.tampered).toBe(1);
    expect(receiver.counters.accepted).toBe(0);
  });

  it("rejects the same envelope received twice as replay-duplicate, and a resent record as a duplicate", () => {
    const gateway = new FakeGateway();
    const entries = gateway.appendSamples(2);
    const receiver = receiverFor(gateway);
    const message = gateway.message([entries[0] as LedgerEntry]);

    expect(accepted(receiver.receive(message))).toEqual([1]);
    expect(rejection(receiver.receive(message))).toBe("replay-duplicate");
    // The gateway resends after a reconnect: a fresh envelope (new nonce) of a stored record.
    expect(receiver.receive(gateway.message([entries[0] as LedgerEntry]))).toEqual([
      { type: "duplicate", gateway: GATEWAY, seq: 1 },
    ]);
    expect(receiver.counters).toMatchObject({ accepted: 1, "replay-duplicate": 1, duplicate: 1 });
  });

  it("rejects a payload moved to another stream, device or gateway topic as topic-mismatch", () => {
    const gateway = new FakeGateway();
    const [entry] = gateway.appendSamples(1);
    const receiver = receiverFor(gateway);
    const message = gateway.message([entry as LedgerEntry]);
    const moved = [
      message.topic.replace(/\/data$/, "/alerts"),
      message.topic.replace("/press-2/", "/press-1/"),
      message.topic.replace(`/${GATEWAY}/`, "/hm3-gw-02/"),
      "elsewhere/hm3/x",
    ];

    const reasons = moved.map((topic) => rejection(receiver.receive({ ...message, topic })));

    expect(reasons).toEqual(["topic-mismatch", "topic-mismatch", "topic-mismatch", "topic-mismatch"]);
    expect(receiver.counters["topic-mismatch"]).toBe(4);
    expect(accepted(receiver.receive(message))).toEqual([1]);
  });

  it("rejects an envelope under a key it does not hold as unknown-key", () => {
    const gateway = new FakeGateway();
    const [sample] = gateway.appendSamples(1);
    const event = gateway.appendCheckpoint();
    // An upstream consumer holding only press-1's exported keys.
    const receiver = new ReceiverCore({
      topics: TOPICS,
      keys: new ReceiverKeys([{ file: exportDeviceKeys(gateway.keyFile, "press-1"), source: "press-1.key" }]),
    });

    expect(rejection(receiver.receive(gateway.message([sample as LedgerEntry])))).toBe("unknown-key");
    expect(rejection(receiver.receive(gateway.message([event])))).toBe("unknown-key");
    expect(receiver.counters["unknown-key"]).toBe(2);
  });

  it("rejects a key id from a rotation it has not seen as unknown-key", () => {
    const before = new FakeGateway();
    const rotated = new FakeGateway(GATEWAY, rotateGatewayKeys(before.keyFile, new Date(0)));
    rotated.appendSamples(1);
    const receiver = receiverFor(before);

    expect(rejection(receiver.receive(rotated.message(rotated.entries)))).toBe("unknown-key");
  });

  it("opens a device's records with its exported device key file", () => {
    const gateway = new FakeGateway();
    gateway.appendSamples(3);
    const receiver = new ReceiverCore({
      topics: TOPICS,
      keys: new ReceiverKeys([
        { file: exportDeviceKeys(gateway.keyFile, "press-2"), source: "press-2.key", gateway: GATEWAY },
      ]),
    });

    expect(accepted(feed(receiver, gateway.messagesOf(gateway.entries)))).toEqual([1, 2, 3]);
  });

  it("accepts out-of-order delivery, reports the holes and closes them, and dedups a second pass", () => {
    const gateway = new FakeGateway();
    gateway.appendSamples(40);
    const receiver = receiverFor(gateway);
    const random = prng(7);
    const shuffled = [...gateway.messagesOf(gateway.entries)];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j] as Message, shuffled[i] as Message];
    }

    const outcomes = feed(receiver, shuffled);

    expect(accepted(outcomes).sort((a, b) => a - b)).toEqual(gateway.entries.map((e) => e.seq));
    expect(ofType(outcomes, "tamper")).toEqual([]);
    expect(receiver.counters.gapOpened).toBeGreaterThan(0);
    expect(receiver.counters.gapClosed).toBe(receiver.counters.gapOpened);
    expect(receiver.openGaps(GATEWAY)).toEqual([]);

    const again = feed(receiver, gateway.messagesOf(gateway.entries));
    expect(ofType(again, "duplicate")).toHaveLength(40);
    expect(accepted(again)).toEqual([]);
  });

  it("reports a missing range as an open gap and closes it when the range arrives", () => {
    const gateway = new FakeGateway();
    const messages = gateway.messagesOf(gateway.appendSamples(10));
    const receiver = receiverFor(gateway);

    const opened = feed(receiver, [...messages.slice(0, 5), ...messages.slice(8)]);
    expect(ofType(opened, "gap")).toEqual([
      { type: "gap", gateway: GATEWAY, state: "open", fromSeq: 6, toSeq: 8, receivedAt: 9 },
    ]);
    expect(receiver.openGaps(GATEWAY)).toEqual([{ fromSeq: 6, toSeq: 8, missing: 3 }]);

    const filled = feed(receiver, messages.slice(5, 8));
    expect(ofType(filled, "gap")).toEqual([
      { type: "gap", gateway: GATEWAY, state: "closed", fromSeq: 6, toSeq: 8, receivedAt: 8 },
    ]);
    expect(ofType(filled, "tamper")).toEqual([]);
    expect(receiver.openGaps(GATEWAY)).toEqual([]);
  });

  it("stores a retention gap entry as a lost gap, not as tampering", () => {
    const gateway = new FakeGateway();
    gateway.appendSamples(25);
    const gap = gateway.appendGap(11, 20);
    gateway.appendSamples(2);
    const receiver = receiverFor(gateway);
    // Retention removed 11..20 before they were sent: they never reach the receiver.
    const sent = gateway.entries.filter((e) => e.seq <= 10 || e.seq > 20);

    const outcomes = feed(receiver, gateway.messagesOf(sent));

    expect(ofType(outcomes, "gap").map((g) => [g.state, g.fromSeq, g.toSeq, g.reason])).toEqual([
      ["open", 11, 20, undefined],
      ["lost", 11, 20, "retention"],
    ]);
    const gapRecord = ofType(outcomes, "accepted").find((o) => o.seq === gap.seq);
    expect(gapRecord?.body).toEqual({
      kind: "gap",
      gap: { reason: "retention", fromSeq: 11, toSeq: 20, records: 10 },
    });
    expect(ofType(outcomes, "tamper")).toEqual([]);
    expect(receiver.openGaps(GATEWAY)).toEqual([]);
    expect(receiver.counters).toMatchObject({ gapOpened: 1, gapLost: 1, gapClosed: 0, tamper: 0 });
  });

  it("stores a gap entry for records shed before they were appended without opening a seq gap", () => {
    const gateway = new FakeGateway();
    gateway.appendSamples(2);
    gateway.append({
      ts: 0,
      clockSynced: true,
      kind: "gap",
      device: NO_DEVICE,
      body: '{"reason":"buffer-full","records":7,"firstTs":1,"lastTs":2}',
    });
    const receiver = receiverFor(gateway);

    const outcomes = feed(receiver, gateway.messagesOf(gateway.entries));

    expect(ofType(outcomes, "accepted").at(-1)?.body).toEqual({
      kind: "gap",
      gap: { reason: "buffer-full", records: 7 },
    });
    expect(ofType(outcomes, "gap")).toEqual([]);
  });

  it("raises tamper when an entry's prev is not the stored predecessor's hash, and still stores it", () => {
    const gateway = new FakeGateway();
    const [first] = gateway.appendSamples(1);
    const forged = makeEntry(2, sampleFields(2), "f".repeat(64));
    const receiver = receiverFor(gateway);

    receiver.receive(gateway.message([first as LedgerEntry]));
    const outcomes = receiver.receive(gateway.message([forged]));

    expect(ofType(outcomes, "tamper").map((t) => [t.reason, t.seq])).toEqual([["prev-mismatch", 2]]);
    expect(accepted(outcomes)).toEqual([2]);
    expect(receiver.counters.tamper).toBe(1);
  });

  it("raises tamper when a stored seq arrives again with another hash", () => {
    const gateway = new FakeGateway();
    const [first] = gateway.appendSamples(1);
    const rewritten = makeEntry(1, sampleFields(99), (first as LedgerEntry).prev);
    const receiver = receiverFor(gateway);

    receiver.receive(gateway.message([first as LedgerEntry]));
    const outcomes = receiver.receive(gateway.message([rewritten]));

    expect(ofType(outcomes, "tamper").map((t) => t.reason)).toEqual(["seq-conflict"]);
    expect(accepted(outcomes)).toEqual([]);
  });

  it("rejects a checkpoint whose MAC is wrong, or whose ofHash is not the received hash, as bad-checkpoint", () => {
    const gateway = new FakeGateway();
    const [, second] = gateway.appendSamples(2);
    const other = new FakeGateway();
    const wrongKey = other.ring.checkpointKey("k1");
    const badMac = gateway.append({
      ts: 0,
      clockSynced: true,
      kind: "checkpoint",
      device: NO_DEVICE,
      body: checkpointBodyText({
        ofSeq: 2,
        ofHash: (second as LedgerEntry).hash,
        kid: "k1",
        mac: checkpointMac(wrongKey, 2, (second as LedgerEntry).hash),
      }),
    });
    const rightKey = gateway.ring.checkpointKey("k1");
    const otherHash = "a".repeat(64);
    const badHash = gateway.append({
      ts: 0,
      clockSynced: true,
      kind: "checkpoint",
      device: NO_DEVICE,
      body: checkpointBodyText({
        ofSeq: 2,
        ofHash: otherHash,
        kid: "k1",
        mac: checkpointMac(rightKey, 2, otherHash),
      }),
    });
    const good = gateway.appendCheckpoint();
    const receiver = receiverFor(gateway);

    const outcomes = feed(receiver, gateway.messagesOf(gateway.entries));

    expect(ofType(outcomes, "tamper").map((t) => [t.reason, t.seq])).toEqual([
      ["checkpoint-mac", badMac.seq],
      ["checkpoint-hash", badHash.seq],
    ]);
    expect(ofType(outcomes, "rejected").map((r) => [r.reason, r.seq])).toEqual([
      ["bad-checkpoint", badMac.seq],
      ["bad-checkpoint", badHash.seq],
    ]);
    expect(accepted(outcomes)).toEqual([1, 2, good.seq]);
    // The rejected checkpoints still count as received for continuity: no gap opens.
    expect(receiver.counters).toMatchObject({ "bad-checkpoint": 2, checkpointVerified: 1, gapOpened: 0 });
  });

  it("verifies a checkpoint that arrives before the entry it vouches for, and with an exported checkpoint key", () => {
    const gateway = new FakeGateway();
    gateway.appendSamples(3);
    gateway.appendCheckpoint();
    const receiver = new ReceiverCore({
      topics: TOPICS,
      keys: new ReceiverKeys([
        { file: exportDeviceKeys(gateway.keyFile, "press-2"), source: "press-2.key", gateway: GATEWAY },
        { file: exportDeviceKeys(gateway.keyFile, NO_DEVICE), source: "gw.key", gateway: GATEWAY },
        { file: exportCheckpointKeys(gateway.keyFile), source: "checkpoint.key", gateway: GATEWAY },
      ]),
    });
    const [m1, m2, m3, m4] = gateway.messagesOf(gateway.entries);

    const outcomes = feed(receiver, [m1, m2, m4, m3] as Message[]);

    expect(accepted(outcomes).sort()).toEqual([1, 2, 3, 4]);
    expect(receiver.counters).toMatchObject({ checkpointVerified: 1, checkpointUnverified: 0, tamper: 0 });
  });

  it("counts a checkpoint under a key id it does not hold as unverified, not tampered", () => {
    const gateway = new FakeGateway();
    gateway.appendSamples(1);
    gateway.appendCheckpoint();
    const receiver = new ReceiverCore({
      topics: TOPICS,
      keys: new ReceiverKeys([
        { file: exportDeviceKeys(gateway.keyFile, "press-2"), source: "press-2.key" },
        { file: exportDeviceKeys(gateway.keyFile, NO_DEVICE), source: "gw.key" },
      ]),
    });

    expect(accepted(feed(receiver, gateway.messagesOf(gateway.entries)))).toEqual([1, 2]);
    expect(receiver.counters).toMatchObject({ checkpointUnverified: 1, checkpointVerified: 0, tamper: 0 });
  });

  it("rejects an envelope whose header seq is not its entry's seq as seq-mismatch", () => {
    const gateway = new FakeGateway();
    const [entry] = gateway.appendSamples(1);
    const topic = gateway.topicOf(entry as LedgerEntry);
    const payload = sealEnvelope(gateway.ring, {
      topic,
      header: { gateway: GATEWAY, device: "press-2", keyId: "k1", seq: 5n, ts: 0 },
      plaintext: Buffer.from((entry as LedgerEntry).text),
    });

    expect(rejection(receiverFor(gateway).receive({ topic, payload, receivedAt: 0 }))).toBe("seq-mismatch");
  });

  it("rejects plaintext that is not an entry as bad-entry and an entry altered after chaining as bad-chain", () => {
    const gateway = new FakeGateway();
    const [entry] = gateway.appendSamples(1);
    const topic = gateway.topicOf(entry as LedgerEntry);
    const seal = (text: string) =>
      sealEnvelope(gateway.ring, {
        topic,
        header: { gateway: GATEWAY, device: "press-2", keyId: "k1", seq: 1n, ts: 0 },
        plaintext: Buffer.from(text),
      });
    const altered = (entry as LedgerEntry).text.replace('"value":1,', '"value":2,');
    const receiver = receiverFor(gateway);

    expect(rejection(receiver.receive({ topic, payload: seal("not an entry"), receivedAt: 0 }))).toBe(
      "bad-entry",
    );
    expect(rejection(receiver.receive({ topic, payload: seal(altered), receivedAt: 0 }))).toBe("bad-chain");
    expect(rejection(receiver.receive({ topic, payload: "{}", receivedAt: 0 }))).toBe("malformed");
    expect(receiver.counters).toMatchObject({ "bad-entry": 1, "bad-chain": 1, malformed: 1, accepted: 0 });
  });

  it("gives up the lowest hole as lost when more seqs wait above it than its bound allows", () => {
    const gateway = new FakeGateway();
    const messages = gateway.messagesOf(gateway.appendSamples(12));
    const receiver = new ReceiverCore({
      topics: TOPICS,
      keys: new ReceiverKeys([{ file: gateway.keyFile, source: "gateway.key" }]),
      limits: { maxAhead: 4, maxOpenGaps: 8 },
    });

    const outcomes = feed(receiver, [messages[0] as Message, ...messages.slice(3)]);

    expect(ofType(outcomes, "gap").map((g) => [g.state, g.fromSeq, g.toSeq, g.reason])).toEqual([
      ["open", 2, 3, undefined],
      ["lost", 2, 3, "receiver-gave-up"],
    ]);
    expect(accepted(outcomes)).toEqual([1, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(receiver.openGaps(GATEWAY)).toEqual([]);
  });

  it("ignores the status topic's birth and last-will words", () => {
    const receiver = receiverFor(new FakeGateway());

    expect(
      receiver.receive({ topic: `edgewarden/hm3/${GATEWAY}/status`, payload: "online", receivedAt: 0 }),
    ).toEqual([]);
    expect(receiver.counters.status).toBe(1);
  });

  it("takes the payload as bytes as MQTT delivers it", () => {
    const gateway = new FakeGateway();
    const message = gateway.message(gateway.appendSamples(1));

    const outcomes = receiverFor(gateway).receive({ ...message, payload: Buffer.from(message.payload) });

    expect(accepted(outcomes)).toEqual([1]);
  });
});
