/**
 * Registers to values for every type and order (issue #4, FAULTS 8.7 table and property tests).
 * The encoder below is independent of byteOrder.ts: Node's Buffer writes the big-endian value and
 * the wire layout comes from the spelled-out order names (Telegraf's 64-bit names), so the code is
 * checked against the documented table rather than against itself.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BYTE_ORDERS, type ByteOrder } from "../../../src/config/schema/tags.js";
import { registersFor, valueBytes } from "../../../src/sources/modbus/byteOrder.js";
import { decodeRegisters } from "../../../src/sources/modbus/decodeRegisters.js";
import { decodeAllOrders } from "../../../src/sources/modbus/decodeTag.js";

const LAYOUTS: Record<ByteOrder, Record<2 | 4 | 8, string>> = {
  ABCD: { 2: "AB", 4: "ABCD", 8: "ABCDEFGH" },
  CDAB: { 2: "AB", 4: "CDAB", 8: "GHEFCDAB" },
  BADC: { 2: "BA", 4: "BADC", 8: "BADCFEHG" },
  DCBA: { 2: "BA", 4: "DCBA", 8: "HGFEDCBA" },
};

type EncodableType = "int16" | "uint16" | "int32" | "uint32" | "int64" | "uint64" | "float32" | "float64";

function bigEndianBytes(type: EncodableType, value: number | bigint): Buffer {
  switch (type) {
    case "int16": {
      const b = Buffer.alloc(2);
      b.writeInt16BE(Number(value));
      return b;
    }
    case "uint16": {
      const b = Buffer.alloc(2);
      b.writeUInt16BE(Number(value));
      return b;
    }
    case "int32": {
      const b = Buffer.alloc(4);
      b.writeInt32BE(Number(value));
      return b;
    }
    case "uint32": {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(Number(value));
      return b;
    }
    case "float32": {
      const b = Buffer.alloc(4);
      b.writeFloatBE(Number(value));
      return b;
    }
    case "int64": {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(value));
      return b;
    }
    case "uint64": {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(BigInt(value));
      return b;
    }
    case "float64": {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(Number(value));
      return b;
    }
  }
}

/** Registers a device in `order` sends for these big-endian value bytes. */
function wireRegisters(valueBytes: Uint8Array, order: ByteOrder): number[] {
  const layout = LAYOUTS[order][valueBytes.length as 2 | 4 | 8];
  const wire = [...layout].map((letter) => valueBytes[letter.charCodeAt(0) - 65] ?? 0);
  const registers: number[] = [];
  for (let i = 0; i < wire.length; i += 2) {
    registers.push(((wire[i] ?? 0) << 8) | (wire[i + 1] ?? 0));
  }
  return registers;
}

function encode(type: EncodableType, value: number | bigint, order: ByteOrder): number[] {
  return wireRegisters(bigEndianBytes(type, value), order);
}

/** Big-endian bytes from a hex string such as "7FC00000". */
function hexBytes(hex: string): Buffer {
  return Buffer.from(hex, "hex");
}

const NUMERIC_TYPES: readonly EncodableType[] = [
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "uint64",
  "float32",
  "float64",
];

const good = (value: number | bigint) => ({ quality: "good", value });
const bad = (reason: string) => ({ quality: "bad", value: null, reason });

describe("byte and word order", () => {
  // libmodbus unit-test.h TEST FLOATS: 123456.0 as float32 is 0x47F12000.
  const libmodbus: Record<ByteOrder, number[]> = {
    ABCD: [0x47f1, 0x2000],
    CDAB: [0x2000, 0x47f1],
    BADC: [0xf147, 0x0020],
    DCBA: [0x0020, 0xf147],
  };

  it.each(BYTE_ORDERS)("decodes libmodbus's 123456.0 test float in %s", (order) => {
    expect(encode("float32", 123456, order)).toEqual(libmodbus[order]);
    expect(decodeRegisters("float32", libmodbus[order], order)).toEqual(good(123456));
  });

  it.each(BYTE_ORDERS)("lays out 64-bit values in %s as the Telegraf names say", (order) => {
    const bytes = hexBytes("0102030405060708");
    expect(registersFor(bytes, order)).toEqual(wireRegisters(bytes, order));
    expect([...valueBytes(wireRegisters(bytes, order), order)]).toEqual([...bytes]);
  });

  it("swaps the bytes of 16-bit values in BADC and DCBA only", () => {
    expect(decodeRegisters("uint16", [0x1234], "ABCD")).toEqual(good(0x1234));
    expect(decodeRegisters("uint16", [0x1234], "CDAB")).toEqual(good(0x1234));
    expect(decodeRegisters("uint16", [0x1234], "BADC")).toEqual(good(0x3412));
    expect(decodeRegisters("uint16", [0x1234], "DCBA")).toEqual(good(0x3412));
  });

  it("shows every order side by side for poll --decode-all", () => {
    const all = decodeAllOrders("float32", libmodbus.CDAB);
    expect(all.CDAB).toEqual(good(123456));
    expect(all.ABCD).not.toEqual(good(123456));
    expect(Object.keys(all)).toEqual([...BYTE_ORDERS]);
  });
});

interface BitPatternCase {
  readonly name: string;
  readonly type: EncodableType;
  readonly hex: string;
  readonly expected: ReturnType<typeof good> | ReturnType<typeof bad>;
}

const BIT_PATTERNS: readonly BitPatternCase[] = [
  { name: "float32 quiet NaN", type: "float32", hex: "7FC00000", expected: bad("NaN") },
  { name: "float32 signalling NaN", type: "float32", hex: "7F800001", expected: bad("NaN") },
  { name: "float32 +Inf", type: "float32", hex: "7F800000", expected: bad("+Inf") },
  { name: "float32 -Inf", type: "float32", hex: "FF800000", expected: bad("-Inf") },
  { name: "float32 -0", type: "float32", hex: "80000000", expected: good(-0) },
  { name: "float32 smallest denormal", type: "float32", hex: "00000001", expected: good(2 ** -149) },
  {
    name: "float32 largest denormal",
    type: "float32",
    hex: "007FFFFF",
    expected: good(2 ** -126 - 2 ** -149),
  },
  { name: "float32 max", type: "float32", hex: "7F7FFFFF", expected: good((2 - 2 ** -23) * 2 ** 127) },
  { name: "float64 NaN", type: "float64", hex: "7FF8000000000000", expected: bad("NaN") },
  { name: "float64 +Inf", type: "float64", hex: "7FF0000000000000", expected: bad("+Inf") },
  { name: "float64 -Inf", type: "float64", hex: "FFF0000000000000", expected: bad("-Inf") },
  { name: "float64 -0", type: "float64", hex: "8000000000000000", expected: good(-0) },
  { name: "float64 smallest denormal", type: "float64", hex: "0000000000000001", expected: good(5e-324) },
  { name: "float64 1.5", type: "float64", hex: "3FF8000000000000", expected: good(1.5) },
  { name: "int16 min", type: "int16", hex: "8000", expected: good(-32768) },
  { name: "int16 -1", type: "int16", hex: "FFFF", expected: good(-1) },
  { name: "uint16 max", type: "uint16", hex: "FFFF", expected: good(65535) },
  { name: "int32 min", type: "int32", hex: "80000000", expected: good(-(2 ** 31)) },
  { name: "int32 max", type: "int32", hex: "7FFFFFFF", expected: good(2 ** 31 - 1) },
  { name: "uint32 max", type: "uint32", hex: "FFFFFFFF", expected: good(4294967295) },
  { name: "int64 min", type: "int64", hex: "8000000000000000", expected: good(-(2n ** 63n)) },
  { name: "int64 max", type: "int64", hex: "7FFFFFFFFFFFFFFF", expected: good(2n ** 63n - 1n) },
  { name: "int64 -1", type: "int64", hex: "FFFFFFFFFFFFFFFF", expected: good(-1) },
  { name: "int64 -(2^53-1)", type: "int64", hex: "FFE0000000000001", expected: good(-(2 ** 53 - 1)) },
  { name: "int64 -2^53", type: "int64", hex: "FFE0000000000000", expected: good(-(2n ** 53n)) },
  { name: "uint64 max", type: "uint64", hex: "FFFFFFFFFFFFFFFF", expected: good(18446744073709551615n) },
  { name: "uint64 2^53-1", type: "uint64", hex: "001FFFFFFFFFFFFF", expected: good(9007199254740991) },
  { name: "uint64 2^53", type: "uint64", hex: "0020000000000000", expected: good(9007199254740992n) },
  { name: "uint64 2^53+1", type: "uint64", hex: "0020000000000001", expected: good(9007199254740993n) },
];

describe("bit patterns in every order (FAULTS 8.7)", () => {
  const cases = BIT_PATTERNS.flatMap((pattern) => BYTE_ORDERS.map((order) => ({ ...pattern, order })));
  it.each(cases)("$name in $order", ({ type, hex, order, expected }) => {
    const registers = wireRegisters(hexBytes(hex), order);
    expect(decodeRegisters(type, registers, order)).toEqual(expected);
  });

  it("rejects the wrong register count and values that are not 16-bit words", () => {
    expect(decodeRegisters("float32", [0x47f1], "ABCD")).toEqual(
      bad("expected 2 registers for float32, got 1"),
    );
    expect(decodeRegisters("uint16", [70000], "ABCD").quality).toBe("bad");
    expect(decodeRegisters("uint16", [-1], "ABCD").quality).toBe("bad");
  });
});

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const exact = (value: bigint) => (value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : value);
const expectedFloat = (value: number) =>
  Number.isNaN(value) ? bad("NaN") : Number.isFinite(value) ? good(value) : bad(value > 0 ? "+Inf" : "-Inf");

const ARBITRARIES: Record<EncodableType, fc.Arbitrary<{ raw: number | bigint; expected: object }>> = {
  int16: fc.integer({ min: -32768, max: 32767 }).map((raw) => ({ raw, expected: good(raw) })),
  uint16: fc.integer({ min: 0, max: 65535 }).map((raw) => ({ raw, expected: good(raw) })),
  int32: fc.integer().map((raw) => ({ raw, expected: good(raw) })),
  uint32: fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((raw) => ({ raw, expected: good(raw) })),
  int64: fc
    .bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
    .map((raw) => ({ raw, expected: good(exact(raw)) })),
  uint64: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((raw) => ({ raw, expected: good(exact(raw)) })),
  float32: fc.float().map((raw) => ({ raw, expected: expectedFloat(raw) })),
  float64: fc.double().map((raw) => ({ raw, expected: expectedFloat(raw) })),
};

describe("decode(encode(x, order), order) = x (property)", () => {
  const cases = NUMERIC_TYPES.flatMap((type) => BYTE_ORDERS.map((order) => ({ type, order })));
  it.each(cases)("$type in $order", ({ type, order }) => {
    fc.assert(
      fc.property(ARBITRARIES[type], ({ raw, expected }) => {
        expect(decodeRegisters(type, encode(type, raw, order), order)).toEqual(expected);
      }),
    );
  });

  it.each(BYTE_ORDERS)("valueBytes inverts registersFor in %s for any even byte string", (order) => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 8 }), (bytes) => {
        const even = bytes.length % 2 === 0 ? bytes : bytes.subarray(1);
        expect([...valueBytes(registersFor(even, order), order)]).toEqual([...even]);
      }),
    );
  });
});
