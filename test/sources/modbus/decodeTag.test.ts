/** A tag's share of a read to its published value: bits, strings, scale/offset, overrides (issue #4). */
import { describe, expect, it } from "vitest";
import { bad } from "../../../src/sources/modbus/decodeResult.js";
import { ROUNDED_64_BIT_REASON } from "../../../src/sources/modbus/decodeScale.js";
import { decodeRegisterString } from "../../../src/sources/modbus/decodeString.js";
import { type DecodableTag, decodeTagValue } from "../../../src/sources/modbus/decodeTag.js";

const holding = (type: DecodableTag["type"], extra: Partial<DecodableTag> = {}): DecodableTag => ({
  table: "holding",
  type,
  ...extra,
});

/** Registers holding `bytes` high byte first (ABCD string layout), padded with a NUL byte. */
function textRegisters(bytes: readonly number[]): number[] {
  const padded = bytes.length % 2 === 0 ? bytes : [...bytes, 0];
  const registers: number[] = [];
  for (let i = 0; i < padded.length; i += 2) {
    registers.push(((padded[i] ?? 0) << 8) | (padded[i + 1] ?? 0));
  }
  return registers;
}
const ascii = (text: string) => [...Buffer.from(text, "utf8")];

describe("bool", () => {
  it("reads coil and discrete bits as booleans or 0/1", () => {
    expect(decodeTagValue({ table: "coil", type: "bool" }, [true], "ABCD")).toEqual({
      quality: "good",
      value: true,
    });
    expect(decodeTagValue({ table: "discrete", type: "bool" }, [0], "ABCD")).toEqual({
      quality: "good",
      value: false,
    });
    expect(decodeTagValue({ table: "coil", type: "bool" }, [], "ABCD").quality).toBe("bad");
  });

  it("reads bit 0 as the least and bit 15 as the most significant bit of a register, in any order", () => {
    for (const order of ["ABCD", "DCBA"] as const) {
      expect(decodeTagValue(holding("bool", { bit: 0 }), [0x0001], order).value).toBe(true);
      expect(decodeTagValue(holding("bool", { bit: 15 }), [0x0001], order).value).toBe(false);
      expect(decodeTagValue(holding("bool", { bit: 15 }), [0x8000], order).value).toBe(true);
      expect(decodeTagValue(holding("bool", { bit: 0 }), [0x8000], order).value).toBe(false);
    }
  });

  it("never guesses a missing bit, and never reads a number from a bit table", () => {
    expect(decodeTagValue(holding("bool"), [1], "ABCD")).toEqual(bad("bool on a register needs bit"));
    expect(decodeTagValue({ table: "coil", type: "uint16" }, [true], "ABCD").quality).toBe("bad");
    expect(decodeTagValue(holding("uint16"), [true], "ABCD").quality).toBe("bad");
  });
});

describe("order", () => {
  it("uses the tag's order over the device's", () => {
    const cdab = [0x2000, 0x47f1]; // 123456.0 (libmodbus TEST FLOATS)
    expect(decodeTagValue(holding("float32", { order: "CDAB" }), cdab, "ABCD").value).toBe(123456);
    expect(decodeTagValue(holding("float32"), cdab, "CDAB").value).toBe(123456);
  });
});

describe("scale and offset", () => {
  it("turns integers into scaled floats and applies offset after scale", () => {
    expect(decodeTagValue(holding("int16", { scale: 0.1, offset: -40 }), [0xfc18], "ABCD").value).toBeCloseTo(
      -140,
      10,
    );
    expect(decodeTagValue(holding("uint16", { scale: 0.5 }), [3], "ABCD").value).toBe(1.5);
  });

  it("leaves an unscaled value alone: -0 stays -0, a bigint stays exact", () => {
    expect(decodeTagValue(holding("float32"), [0x8000, 0], "ABCD").value).toBe(-0);
    const uint64Max = decodeTagValue(
      holding("uint64", { scale: 1, offset: 0 }),
      [0xffff, 0xffff, 0xffff, 0xffff],
      "ABCD",
    );
    expect(uint64Max).toEqual({ quality: "good", value: 18446744073709551615n });
  });

  it("computes integer scale and offset on 64-bit values exactly", () => {
    // 2^53 + 1 Wh times 1000 plus 7: exact, never rounded.
    const registers = [0x0020, 0, 0, 1];
    expect(decodeTagValue(holding("uint64", { scale: 1000, offset: 7 }), registers, "ABCD")).toEqual({
      quality: "good",
      value: 9007199254740993007n,
    });
    // uint32 max times 10^7 passes 2^53: exact as a bigint too.
    expect(decodeTagValue(holding("uint32", { scale: 1e7 }), [0xffff, 0xffff], "ABCD").value).toBe(
      42949672950000000n,
    );
    // Back inside 2^53 after the offset: a plain number.
    expect(decodeTagValue(holding("int64", { offset: -1 }), [0x0020, 0, 0, 0], "ABCD").value).toBe(
      2 ** 53 - 1,
    );
  });

  it("marks a fractionally scaled 64-bit value beyond 2^53 uncertain, not good", () => {
    const result = decodeTagValue(holding("uint64", { scale: 0.001 }), [0x0020, 0, 0, 1], "ABCD");
    expect(result.quality).toBe("uncertain");
    expect(result).toMatchObject({ reason: ROUNDED_64_BIT_REASON });
    expect(result.value).toBeCloseTo(9007199254740.99, 1);
    expect(decodeTagValue(holding("int64", { scale: 0.5 }), [0, 0, 0, 3], "ABCD")).toEqual({
      quality: "good",
      value: 1.5,
    });
  });

  it("marks a scale that overflows to infinity bad", () => {
    const max = [0x7f7f, 0xffff]; // float32 max
    expect(decodeTagValue(holding("float32", { scale: 1e300 }), max, "ABCD")).toEqual(
      bad("+Inf after scale and offset"),
    );
    expect(decodeTagValue(holding("float32", { scale: 2 }), [0x7fc0, 0], "ABCD")).toEqual(bad("NaN"));
  });
});

describe("strings (FAULTS 8.7: NULs, invalid UTF-8)", () => {
  it("stops at the first NUL and trims trailing spaces", () => {
    expect(decodeRegisterString(textRegisters([...ascii("AB"), 0, ...ascii("CD")]), "ABCD")).toBe("AB");
    expect(decodeRegisterString(textRegisters(ascii("PUMP-7    ")), "ABCD")).toBe("PUMP-7");
    expect(
      decodeTagValue(holding("string", { length: 3 }), textRegisters(ascii("PUMP-7")), "ABCD").value,
    ).toBe("PUMP-7");
  });

  it("reads an odd number of characters padded with NUL", () => {
    expect(decodeRegisterString(textRegisters(ascii("ABC")), "CDAB")).toBe("ABC");
  });

  it("takes the low byte first in BADC and DCBA, keeping register order", () => {
    const swapped = [0x4241, 0x4443]; // "BA" "DC"
    expect(decodeRegisterString(swapped, "BADC")).toBe("ABCD");
    expect(decodeRegisterString(swapped, "DCBA")).toBe("ABCD");
    expect(decodeRegisterString(swapped, "ABCD")).toBe("BADC");
  });

  it("replaces invalid UTF-8, keeps valid multi-byte text and strips control characters", () => {
    expect(decodeRegisterString(textRegisters([0x41, 0xff, 0x42]), "ABCD")).toBe("A\uFFFDB");
    expect(decodeRegisterString(textRegisters(ascii("24°C")), "ABCD")).toBe("24°C");
    expect(decodeRegisterString(textRegisters([0x41, 0x1b, 0x5b, 0x07, 0x7f, 0x42]), "ABCD")).toBe("A[B");
  });

  it("rejects a reading of the wrong length", () => {
    expect(decodeTagValue(holding("string", { length: 4 }), [0x4142], "ABCD").quality).toBe("bad");
  });
});

describe("failed reads", () => {
  it("give every tag of the request quality bad with the reason", () => {
    expect(bad("timeout")).toEqual({ quality: "bad", value: null, reason: "timeout" });
  });
});
