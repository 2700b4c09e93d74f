/** Response PDUs checked against their request (issue #4, FAULTS 8.3; Application Protocol v1.1b3 §6.1-6.4, §7). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ReadRequest } from "../../../../src/sources/modbus/frames/readRequest.js";
import { decodeReadResponse } from "../../../../src/sources/modbus/frames/readResponse.js";

const holding: ReadRequest = { unitId: 7, functionCode: 3, address: 100, quantity: 2 };
const coils: ReadRequest = { unitId: 7, functionCode: 1, address: 0, quantity: 10 };

describe("decodeReadResponse", () => {
  it("decodes registers big-endian", () => {
    expect(decodeReadResponse(holding, 7, Uint8Array.from([3, 4, 0x12, 0x34, 0xff, 0xff]))).toEqual({
      kind: "ok",
      registers: [0x1234, 0xffff],
    });
  });

  it("decodes exactly `quantity` bits, LSB of the first byte first, ignoring padding", () => {
    // 0xCD = 1100 1101 -> bits 0..7: 1,0,1,1,0,0,1,1; 0xFF padding bits beyond 10 are ignored.
    const outcome = decodeReadResponse(coils, 7, Uint8Array.from([1, 2, 0xcd, 0xff]));
    expect(outcome).toEqual({
      kind: "ok",
      bits: [true, false, true, true, false, false, true, true, true, true],
    });
  });

  it.each([
    [0x01, "ILLEGAL FUNCTION"],
    [0x02, "ILLEGAL DATA ADDRESS"],
    [0x03, "ILLEGAL DATA VALUE"],
    [0x04, "SERVER DEVICE FAILURE"],
    [0x05, "ACKNOWLEDGE"],
    [0x06, "SERVER DEVICE BUSY"],
    [0x0a, "GATEWAY PATH UNAVAILABLE"],
    [0x0b, "GATEWAY TARGET DEVICE FAILED TO RESPOND"],
  ])("names exception %i as %s", (code, name) => {
    expect(decodeReadResponse(holding, 7, Uint8Array.from([0x83, code]))).toEqual({
      kind: "exception",
      code,
      name,
    });
  });

  it("still reports an unknown exception code, with a made-up name", () => {
    expect(decodeReadResponse(holding, 7, Uint8Array.from([0x83, 0x42]))).toEqual({
      kind: "exception",
      code: 0x42,
      name: "UNKNOWN EXCEPTION 0x42",
    });
  });

  it.each([
    ["wrong unit id", 8, [3, 4, 0, 1, 0, 2], /unit id 8/],
    ["wrong function code", 7, [4, 4, 0, 1, 0, 2], /function code 0x04/],
    ["exception for another fc", 7, [0x84, 2], /function code 0x84/],
    ["byte count != 2 x quantity", 7, [3, 2, 0, 1], /byte count 2, expected 4/],
    ["data shorter than byte count", 7, [3, 4, 0, 1, 0], /PDU of 5 bytes/],
    ["data longer than byte count", 7, [3, 4, 0, 1, 0, 2, 9], /PDU of 7 bytes/],
    ["exception without a code", 7, [0x83], /exception PDU/],
    ["empty PDU", 7, [], /empty/],
  ] as const)("rejects %s as invalid", (_label, unitId, pdu, reason) => {
    const outcome = decodeReadResponse(holding, unitId, Uint8Array.from(pdu));
    expect(outcome.kind).toBe("invalid");
    expect(outcome.kind === "invalid" && outcome.reason).toMatch(reason);
  });

  it("rejects a bit response whose byte count is not ceil(quantity / 8)", () => {
    expect(decodeReadResponse(coils, 7, Uint8Array.from([1, 1, 0xff])).kind).toBe("invalid");
  });

  it("never throws on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 255 }), (pdu, unitId) => {
        expect(["ok", "exception", "invalid"]).toContain(decodeReadResponse(holding, unitId, pdu).kind);
      }),
    );
  });
});
