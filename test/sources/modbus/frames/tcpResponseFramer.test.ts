/** MBAP framing and transaction-id matching (issue #4, FAULTS 8.3; Messaging on TCP/IP v1.0b §3.1.3). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ReadRequest } from "../../../../src/sources/modbus/frames/readRequest.js";
import {
  TCP_BUFFER_BYTES,
  type TcpFramerEvent,
  TcpResponseFramer,
} from "../../../../src/sources/modbus/frames/tcpResponseFramer.js";
import { chunk, cutPoints } from "./chunking.js";
import { concat, tcpFrame } from "./frameBuilders.js";

const first: ReadRequest = { unitId: 1, functionCode: 3, address: 0, quantity: 1 };
const second: ReadRequest = { unitId: 1, functionCode: 4, address: 0, quantity: 2 };
const firstReply = tcpFrame(10, 1, [3, 2, 0x00, 0x2a]);
const secondReply = tcpFrame(11, 1, [4, 4, 0, 1, 0, 2]);

const pushAll = (framer: TcpResponseFramer, parts: readonly Uint8Array[]): TcpFramerEvent[] =>
  parts.flatMap((part) => framer.push(part));

describe("TcpResponseFramer", () => {
  it("matches two outstanding transaction ids answered out of order", () => {
    const framer = new TcpResponseFramer();
    framer.expect(first, 10);
    framer.expect(second, 11);
    const events = framer.push(concat(secondReply, firstReply));
    expect(events).toEqual([
      { type: "response", transactionId: 11, request: second, outcome: { kind: "ok", registers: [1, 2] } },
      { type: "response", transactionId: 10, request: first, outcome: { kind: "ok", registers: [42] } },
    ]);
    expect(framer.outstandingTransactionIds).toEqual([]);
  });

  it("drops and counts a reply for an abandoned transaction id", () => {
    const framer = new TcpResponseFramer();
    framer.expect(first, 10);
    framer.abandon(10);
    framer.expect(second, 11);
    const events = framer.push(concat(firstReply, secondReply));
    expect(events.map((e) => e.type)).toEqual(["unmatched", "response"]);
    expect(framer.stats.unmatchedReplies).toBe(1);
  });

  it("settles a matched id with wrong unit, fc or byte count as invalid", () => {
    const framer = new TcpResponseFramer();
    framer.expect(first, 1);
    framer.expect(first, 2);
    framer.expect(first, 3);
    const events = framer.push(
      concat(tcpFrame(1, 9, [3, 2, 0, 1]), tcpFrame(2, 1, [4, 2, 0, 1]), tcpFrame(3, 1, [3, 4, 0, 1, 0, 2])),
    );
    expect(events.map((e) => e.type === "response" && e.outcome.kind)).toEqual([
      "invalid",
      "invalid",
      "invalid",
    ]);
  });

  it("reports an exception reply", () => {
    const framer = new TcpResponseFramer();
    framer.expect(first, 5);
    const [event] = framer.push(tcpFrame(5, 1, [0x83, 0x0b]));
    expect(event?.type === "response" && event.outcome).toEqual({
      kind: "exception",
      code: 0x0b,
      name: "GATEWAY TARGET DEVICE FAILED TO RESPOND",
    });
  });

  it.each([
    ["length 0", Uint8Array.of(0, 1, 0, 0, 0, 0, 1)],
    ["length 1", Uint8Array.of(0, 1, 0, 0, 0, 1, 1)],
    ["length 255", Uint8Array.of(0, 1, 0, 0, 0, 255, 1)],
    ["protocol id 1", Uint8Array.of(0, 1, 0, 1, 0, 3, 1)],
  ])("asks for a resync on a bad header (%s) and drops all until reset()", (_label, header) => {
    const framer = new TcpResponseFramer();
    framer.expect(first, 10);
    const events = framer.push(concat(header, firstReply));
    expect(events.map((e) => e.type)).toEqual(["resyncNeeded"]);
    expect(framer.push(firstReply)).toEqual([]);
    framer.reset();
    framer.expect(first, 10);
    expect(framer.push(firstReply).map((e) => e.type)).toEqual(["response"]);
  });

  it("fuzz: any chunking of a run of replies yields each once, in order", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), cutPoints, (count, cuts) => {
        const framer = new TcpResponseFramer();
        const frames: Uint8Array[] = [];
        for (let tid = 0; tid < count; tid++) {
          framer.expect({ unitId: 1, functionCode: 3, address: tid, quantity: 1 }, tid);
          frames.push(tcpFrame(tid, 1, [3, 2, 0, tid]));
        }
        const events = pushAll(framer, chunk(concat(...frames), cuts));
        expect(events.map((e) => (e.type === "response" ? e.transactionId : -1))).toEqual(
          Array.from({ length: count }, (_, i) => i),
        );
        expect(framer.bufferedBytes).toBe(0);
      }),
    );
  });

  it("fuzz: arbitrary bytes never throw and the buffer stays capped (1 MB included)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), cutPoints, (noise, cuts) => {
        const framer = new TcpResponseFramer();
        framer.expect(first, 1);
        pushAll(framer, chunk(noise, cuts));
        expect(framer.bufferedBytes).toBeLessThanOrEqual(TCP_BUFFER_BYTES);
      }),
    );
    const framer = new TcpResponseFramer();
    const big = new Uint8Array(1 << 20).fill(0x41);
    framer.push(big);
    expect(framer.bufferedBytes).toBeLessThanOrEqual(TCP_BUFFER_BYTES);
    expect(framer.stats.resyncs).toBe(1);
  });
});
