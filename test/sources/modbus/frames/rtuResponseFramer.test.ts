/**
 * RTU reply framing in a noisy stream (issue #4, FAULTS 8.3: CRC error, partial/garbled frames,
 * byte-by-byte, junk before/after, wrong unit/fc/byte count, RS-485 echo, late reply).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hasValidCrc } from "../../../../src/sources/modbus/frames/crc16.js";
import { encodeRtuRequest, type ReadRequest } from "../../../../src/sources/modbus/frames/readRequest.js";
import {
  RTU_BUFFER_BYTES,
  type RtuFramerEvent,
  RtuResponseFramer,
} from "../../../../src/sources/modbus/frames/rtuResponseFramer.js";
import { chunk, cutPoints } from "./chunking.js";
import { concat, rtuExceptionReply, rtuRegisterReply, withCrc } from "./frameBuilders.js";

const request: ReadRequest = { unitId: 1, functionCode: 3, address: 0, quantity: 2 };
const reply = rtuRegisterReply(1, 3, [0x1234, 0x5678]);

function framerFor(req: ReadRequest = request, echo = false): RtuResponseFramer {
  const framer = new RtuResponseFramer();
  framer.expect(req, { echo });
  return framer;
}

function pushAll(framer: RtuResponseFramer, parts: readonly Uint8Array[]): RtuFramerEvent[] {
  return parts.flatMap((part) => framer.push(part));
}

const responses = (events: readonly RtuFramerEvent[]) => events.filter((e) => e.type === "response");

/** Every byte pushed is accounted for exactly once. */
function expectAccounted(framer: RtuResponseFramer): void {
  const s = framer.stats;
  expect(
    s.junkBytes + s.unsolicitedBytes + s.echoBytes + s.rejectedBytes + s.responseBytes + framer.bufferedBytes,
  ).toBe(s.bytesIn);
  expect(framer.bufferedBytes).toBeLessThanOrEqual(RTU_BUFFER_BYTES);
}

describe("RtuResponseFramer", () => {
  it("finds a reply pushed whole and decodes it", () => {
    const framer = framerFor();
    const events = framer.push(reply);
    expect(events).toEqual([
      { type: "response", request, frame: reply, outcome: { kind: "ok", registers: [0x1234, 0x5678] } },
    ]);
    expect(framer.isWaiting).toBe(false);
  });

  it("finds a reply fed byte by byte, only at its last byte", () => {
    const framer = framerFor();
    const bytes = [...reply];
    const events = bytes.map((b) => framer.push(Uint8Array.of(b)));
    expect(events.slice(0, -1).every((e) => e.length === 0)).toBe(true);
    expect(responses(events.at(-1) ?? [])).toHaveLength(1);
  });

  it("reports an exception reply", () => {
    const events = framerFor().push(rtuExceptionReply(1, 3, 2));
    expect(events[0]?.type === "response" && events[0].outcome).toEqual({
      kind: "exception",
      code: 2,
      name: "ILLEGAL DATA ADDRESS",
    });
  });

  it("skips junk before and drops junk after as unsolicited", () => {
    const framer = framerFor();
    const junk = Uint8Array.of(0x00, 0xff, 0x01, 0x55, 0x01, 0x03);
    const events = framer.push(concat(junk, reply, Uint8Array.of(0x01, 0x03, 0x04)));
    expect(responses(events).map((e) => e.frame)).toEqual([reply]);
    expect(framer.stats.junkBytes).toBe(junk.length);
    expect(framer.stats.unsolicitedBytes).toBe(3);
    expectAccounted(framer);
  });

  it("counts CRC errors, resyncs and then takes a good frame", () => {
    const framer = framerFor();
    const corrupt = reply.slice();
    corrupt[4] = (corrupt[4] ?? 0) ^ 0x10;
    const events = pushAll(framer, [corrupt, corrupt, reply]);
    expect(responses(events).map((e) => e.frame)).toEqual([reply]);
    expect(framer.stats.crcErrors).toBe(2);
    expectAccounted(framer);
  });

  it.each([
    ["wrong unit id", rtuRegisterReply(2, 3, [1, 2]), /unit id 2/],
    ["wrong function code", rtuRegisterReply(1, 4, [1, 2]), /function code 0x04/],
    ["byte count != 2 x quantity", rtuRegisterReply(1, 3, [1, 2, 3]), /byte count 6, expected 4/],
  ])("rejects a CRC-valid frame with a %s and keeps waiting", (_label, wrong, reason) => {
    const framer = framerFor();
    const events = framer.push(wrong);
    expect(events).toHaveLength(1);
    expect(events[0]?.type === "rejected" && events[0].reason).toMatch(reason);
    expect(framer.isWaiting).toBe(true);
    expect(responses(framer.push(reply))).toHaveLength(1);
    expectAccounted(framer);
  });

  it("skips the RS-485 local echo of the request, even split across chunks", () => {
    const framer = framerFor(request, true);
    const echo = encodeRtuRequest(request);
    const events = pushAll(framer, [
      echo.subarray(0, 3),
      concat(echo.subarray(3), reply.subarray(0, 2)),
      reply.subarray(2),
    ]);
    expect(responses(events).map((e) => e.frame)).toEqual([reply]);
    expect(framer.stats.echoBytes).toBe(8);
    expectAccounted(framer);
  });

  it("still finds the reply in echo mode when the adapter does not echo", () => {
    expect(responses(framerFor(request, true).push(reply))).toHaveLength(1);
  });

  it("never takes a late reply after abandon() for the next request", () => {
    const framer = framerFor();
    framer.push(reply.subarray(0, 4)); // the reply starts to arrive, then the timeout fires
    framer.abandon();
    framer.push(reply.subarray(4)); // the rest of the late reply, while nothing is outstanding
    expect(framer.stats.unsolicitedBytes).toBe(reply.length);

    const next: ReadRequest = { unitId: 1, functionCode: 3, address: 10, quantity: 1 };
    framer.expect(next);
    const late = rtuRegisterReply(1, 3, [0xdead, 0xbeef]); // late reply arriving after the next request
    const own = rtuRegisterReply(1, 3, [0x0042]);
    // Alone in the buffer it is reported as rejected (byte count 4, expected 2) ...
    expect(framer.push(late).map((e) => e.type)).toEqual(["rejected"]);
    // ... and when it shares a chunk with the real reply it is skipped as junk.
    const events = framer.push(concat(late, own));
    const got = responses(events);
    expect(got).toHaveLength(1);
    expect(got[0]?.request).toBe(next);
    expect(got[0]?.outcome).toEqual({ kind: "ok", registers: [0x0042] });
    expectAccounted(framer);
  });

  it("drops everything pushed while nothing is outstanding", () => {
    const framer = new RtuResponseFramer();
    expect(framer.push(reply)).toEqual([]);
    expect(framer.stats.unsolicitedBytes).toBe(reply.length);
  });

  it("keeps the buffer capped under 1 MB of junk and still finds the reply after it", () => {
    const framer = framerFor();
    const junk = new Uint8Array(1 << 20);
    let seed = 12345;
    for (let i = 0; i < junk.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      junk[i] = seed >>> 24;
    }
    for (let offset = 0; offset < junk.length; offset += 4096) {
      framer.push(junk.subarray(offset, offset + 4096));
      expect(framer.bufferedBytes).toBeLessThanOrEqual(RTU_BUFFER_BYTES);
    }
    expect(responses(framer.push(reply)).map((e) => e.frame)).toEqual([reply]);
    expectAccounted(framer);
  });

  it("fuzz: any chunking and junk around a valid frame yields exactly that frame", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 247 }),
        fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const),
        fc.integer({ min: 1, max: 40 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.boolean(),
        fc.boolean(),
        cutPoints,
        (unitId, functionCode, quantity, before, after, asException, echo, cuts) => {
          const req: ReadRequest = { unitId, functionCode, address: 0, quantity };
          const byteCount = functionCode <= 2 ? Math.ceil(quantity / 8) : 2 * quantity;
          const frame = asException
            ? rtuExceptionReply(unitId, functionCode, 4)
            : withCrc([
                unitId,
                functionCode,
                byteCount,
                ...Array.from({ length: byteCount }, (_, i) => i * 37),
              ]);
          const framer = framerFor(req, echo);
          const wire = concat(echo ? encodeRtuRequest(req) : new Uint8Array(0), before, frame, after);
          const got = responses(pushAll(framer, chunk(wire, cuts)));
          expect(got.map((e) => e.frame)).toEqual([frame]);
          expect(got[0]?.outcome.kind).toBe(asException ? "exception" : "ok");
          expectAccounted(framer);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("fuzz: arbitrary bytes never throw and never yield a frame with a bad CRC", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.uint8Array({ maxLength: 2000 }),
        cutPoints,
        fc.boolean(),
        (unitId, quantity, noise, cuts, echo) => {
          const framer = framerFor({ unitId, functionCode: 3, address: 0, quantity }, echo);
          for (const event of pushAll(framer, chunk(noise, cuts))) {
            expect(hasValidCrc(event.frame)).toBe(true);
          }
          expectAccounted(framer);
        },
      ),
      { numRuns: 500 },
    );
  });
});
