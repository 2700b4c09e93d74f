/** CRC-16/MODBUS vectors and read request encoding (issue #4; serial line v1.02 §2.5.1.2, TCP/IP v1.0b §3.1.3). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc16Modbus, hasValidCrc } from "../../../../src/sources/modbus/frames/crc16.js";
import {
  encodeRtuRequest,
  encodeTcpRequest,
  type ReadRequest,
  readRequestProblems,
} from "../../../../src/sources/modbus/frames/readRequest.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

describe("crc16Modbus", () => {
  it("matches the published vectors", () => {
    expect(crc16Modbus(Uint8Array.from([0x01, 0x03, 0x00, 0x00, 0x00, 0x0a]))).toBe(0xcdc5);
    // CRC-16/MODBUS check value over ASCII "123456789".
    expect(crc16Modbus(new TextEncoder().encode("123456789"))).toBe(0x4b37);
    expect(crc16Modbus(new Uint8Array(0))).toBe(0xffff);
  });

  it("accepts a frame ending in its own CRC and rejects any single bit flip", () => {
    const frame = Uint8Array.from([0x01, 0x03, 0x00, 0x00, 0x00, 0x0a, 0xc5, 0xcd]);
    expect(hasValidCrc(frame)).toBe(true);
    for (let bit = 0; bit < frame.length * 8; bit++) {
      const flipped = frame.slice();
      flipped[bit >>> 3] = (flipped[bit >>> 3] ?? 0) ^ (1 << (bit & 7));
      expect(hasValidCrc(flipped)).toBe(false);
    }
  });
});

describe("encodeRtuRequest", () => {
  it("encodes the spec example with the CRC low byte first", () => {
    expect(hex(encodeRtuRequest({ unitId: 1, functionCode: 3, address: 0, quantity: 10 }))).toBe(
      "01030000000ac5cd",
    );
  });

  it("round-trips every field and always carries a valid CRC", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 247 }),
        fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 1, max: 2000 }),
        (unitId, functionCode, address, rawQuantity) => {
          const max = functionCode <= 2 ? 2000 : 125;
          const quantity = Math.min(((rawQuantity - 1) % max) + 1, 0x10000 - address);
          const adu = Buffer.from(encodeRtuRequest({ unitId, functionCode, address, quantity }));
          expect(adu.length).toBe(8);
          expect([adu[0], adu[1], adu.readUInt16BE(2), adu.readUInt16BE(4)]).toEqual([
            unitId,
            functionCode,
            address,
            quantity,
          ]);
          expect(hasValidCrc(adu)).toBe(true);
        },
      ),
    );
  });
});

describe("encodeTcpRequest", () => {
  it("writes the MBAP header then the PDU", () => {
    const adu = encodeTcpRequest({ unitId: 0xff, functionCode: 4, address: 0x1234, quantity: 2 }, 0xbeef);
    expect(hex(adu)).toBe("beef00000006ff0412340002");
  });

  it("rejects transaction ids outside 0..65535", () => {
    const request: ReadRequest = { unitId: 1, functionCode: 3, address: 0, quantity: 1 };
    expect(() => encodeTcpRequest(request, 0x10000)).toThrow(RangeError);
    expect(() => encodeTcpRequest(request, -1)).toThrow(RangeError);
  });
});

describe("read request validation", () => {
  const base: ReadRequest = { unitId: 1, functionCode: 3, address: 0, quantity: 1 };

  it("holds the protocol limits (§6.1-6.4)", () => {
    expect(readRequestProblems({ ...base, quantity: 125 }, "rtu")).toEqual([]);
    expect(readRequestProblems({ ...base, quantity: 126 }, "rtu")).toHaveLength(1);
    expect(readRequestProblems({ ...base, functionCode: 1, quantity: 2000 }, "rtu")).toEqual([]);
    expect(readRequestProblems({ ...base, functionCode: 2, quantity: 2001 }, "rtu")).toHaveLength(1);
    expect(readRequestProblems({ ...base, quantity: 0 }, "rtu")).toHaveLength(1);
    expect(readRequestProblems({ ...base, address: 65535, quantity: 1 }, "rtu")).toEqual([]);
    expect(readRequestProblems({ ...base, address: 65535, quantity: 2 }, "rtu")).toHaveLength(1);
    expect(readRequestProblems({ ...base, address: 65536 }, "rtu")).toHaveLength(1);
    expect(readRequestProblems({ ...base, address: 1.5 }, "rtu")).toHaveLength(1);
  });

  it("bounds unit ids per transport: RTU 1..247 (0 is broadcast), TCP 0..255", () => {
    expect(readRequestProblems({ ...base, unitId: 0 }, "rtu")).toHaveLength(1);
    expect(readRequestProblems({ ...base, unitId: 247 }, "rtu")).toEqual([]);
    expect(readRequestProblems({ ...base, unitId: 248 }, "rtu")).toHaveLength(1);
    expect(readRequestProblems({ ...base, unitId: 0 }, "tcp")).toEqual([]);
    expect(readRequestProblems({ ...base, unitId: 255 }, "tcp")).toEqual([]);
    expect(readRequestProblems({ ...base, unitId: 256 }, "tcp")).toHaveLength(1);
  });

  it("makes encoding any function code other than 01-04 impossible (read-only toward PLCs)", () => {
    // @ts-expect-error 6 (Write Single Register) is not a ReadFunctionCode.
    const write: ReadRequest = { unitId: 1, functionCode: 6, address: 0, quantity: 1 };
    expect(() => encodeRtuRequest(write)).toThrow(RangeError);
    fc.assert(
      fc.property(
        fc.integer({ min: -1, max: 256 }).filter((code) => code < 1 || code > 4),
        (code) => {
          const request = {
            unitId: 1,
            functionCode: code,
            address: 0,
            quantity: 1,
          } as unknown as ReadRequest;
          expect(() => encodeRtuRequest(request)).toThrow(RangeError);
          expect(() => encodeTcpRequest(request, 1)).toThrow(RangeError);
        },
      ),
      { numRuns: 300 },
    );
  });
});
