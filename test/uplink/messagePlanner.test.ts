/**
 * Which records go into one message (issue #5, item 6; docs/protocol.md, Batches): a run of
 * consecutive records of one device and topic within maxRecords, maxBytes and the packet limit;
 * a record over the limit alone is reported too large; an entry with a line feed travels alone.
 */
import { describe, expect, it } from "vitest";
import { GENESIS_PREV, type LedgerEntry, makeEntry, NO_DEVICE } from "../../src/ledger/ledgerEntry.js";
import { planMessage } from "../../src/uplink/messagePlanner.js";
import { publishPacketBytes } from "../../src/uplink/packetSize.js";
import { createSealer } from "../../src/uplink/sealRecord.js";
import { TopicRenderer } from "../../src/uplink/topics.js";

const topics = new TopicRenderer({
  prefix: "p",
  site: "s",
  gateway: "g",
  template: "{prefix}/{site}/{gateway}/{device}/{stream}",
});
const sealer = createSealer({ encryption: "none", gateway: "g" });

function entries(
  specs: readonly { device?: string; kind?: LedgerEntry["kind"]; body?: string }[],
  firstSeq = 1,
) {
  return specs.map((spec, i) =>
    makeEntry(
      firstSeq + i,
      {
        ts: 1000 + i,
        clockSynced: true,
        kind: spec.kind ?? "sample",
        device: spec.device ?? "d1",
        body: spec.body ?? '{"v":1}',
      },
      GENESIS_PREV,
    ),
  );
}

const context = {
  topics,
  sealer,
  maxRecords: 10,
  maxBytes: 65_536,
  packetLimit: 1_000_000,
  protocolVersion: 5 as const,
};

function seqsOf(plan: ReturnType<typeof planMessage>): number[] {
  return plan.kind === "publish" ? plan.entries.map((e) => e.seq) : [plan.entry.seq];
}

describe("planMessage", () => {
  it("sends one record per message without batching", () => {
    const ahead = entries([{}, {}, {}]);
    expect(seqsOf(planMessage(ahead, 0, { ...context, maxRecords: 1 }))).toEqual([1]);
  });

  it("batches consecutive records of one device and stream, up to maxRecords", () => {
    const ahead = entries([{}, {}, {}, {}, { device: "d2" }, {}, { kind: "anomaly" }]);
    expect(seqsOf(planMessage(ahead, 0, { ...context, maxRecords: 3 }))).toEqual([1, 2, 3]);
    expect(seqsOf(planMessage(ahead, 3, context))).toEqual([4]);
    expect(seqsOf(planMessage(ahead, 4, context))).toEqual([5]);
    expect(seqsOf(planMessage(ahead, 5, context))).toEqual([6]);
  });

  it("keeps devices apart even when the template has no {device}", () => {
    const flat = new TopicRenderer({
      prefix: "p",
      site: "s",
      gateway: "g",
      template: "{prefix}/{gateway}/{stream}",
    });
    const ahead = entries([{}, { device: "d2" }]);
    expect(seqsOf(planMessage(ahead, 0, { ...context, topics: flat }))).toEqual([1]);
  });

  it("stops a batch before maxBytes of plaintext (texts plus line feeds)", () => {
    const ahead = entries([{}, {}, {}]);
    const one = Buffer.byteLength(ahead[0]?.text ?? "");
    expect(seqsOf(planMessage(ahead, 0, { ...context, maxBytes: 2 * one + 1 }))).toEqual([1, 2]);
    expect(seqsOf(planMessage(ahead, 0, { ...context, maxBytes: 2 * one }))).toEqual([1]);
  });

  it("stops a batch before the packet limit, and reports a single record over it as too large", () => {
    const ahead = entries([{}, {}, { body: `{"blob":"${"x".repeat(2000)}"}` }]);
    const topic = topics.topicOf(ahead[0] as LedgerEntry);
    const one = publishPacketBytes(topic.bytes, Buffer.byteLength(ahead[0]?.text ?? ""), 5);
    expect(seqsOf(planMessage(ahead, 0, { ...context, packetLimit: one + 10 }))).toEqual([1]);
    const tooLarge = planMessage(ahead, 2, { ...context, packetLimit: 1500 });
    expect(tooLarge).toMatchObject({ kind: "too-large", reason: "packet-too-large", limit: 1500 });
    expect(tooLarge.kind === "too-large" && tooLarge.bytes).toBeGreaterThan(2000);
  });

  it("never batches an entry whose text has a line feed", () => {
    const ahead = entries([{}, { body: '{\n"v":1}' }, {}]);
    expect(seqsOf(planMessage(ahead, 0, context))).toEqual([1]);
    expect(seqsOf(planMessage(ahead, 1, context))).toEqual([2]);
  });

  it("sends gateway records on the _gateway topics", () => {
    const ahead = entries([{ device: NO_DEVICE, kind: "event" }]);
    const plan = planMessage(ahead, 0, context);
    expect(plan.kind === "publish" && plan.topic.name).toBe("p/s/g/_gateway/events");
  });
});
