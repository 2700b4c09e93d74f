/**
 * The decoders against a third-party encoder: Debian's pymodbus 3.0 BinaryPayloadBuilder
 * (issue #4: "every type x order decodes to the value the server holds"). The register layouts
 * come from pymodbus, not from our byte-order table, so a mistake in that table shows here.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ByteOrder, RegisterType } from "../../../src/config/schema/tags.js";
import { decodeTagValue } from "../../../src/sources/modbus/decodeTag.js";

interface Case {
  readonly type: RegisterType;
  readonly value: string;
  readonly order: ByteOrder;
}

const ORDERS: readonly ByteOrder[] = ["ABCD", "CDAB", "BADC", "DCBA"];
const SCRIPT = join(import.meta.dirname, "..", "..", "fixtures", "pymodbus", "encode_payloads.py");

function encodeWithPymodbus(cases: readonly Case[]): number[][] {
  const result = spawnSync("/usr/bin/python3", [SCRIPT], { input: JSON.stringify(cases), encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`pymodbus encoder failed: ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as number[][];
}

function expected(c: Case): number | bigint | string {
  switch (c.type) {
    case "int64":
    case "uint64": {
      const big = BigInt(c.value);
      return big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER)
        ? Number(big)
        : big;
    }
    case "string":
      return c.value;
    case "float32":
      return Math.fround(Number(c.value));
    default:
      return Number(c.value);
  }
}

function checkAll(cases: readonly Case[]): void {
  const registers = encodeWithPymodbus(cases);
  cases.forEach((c, i) => {
    const raw = registers[i] ?? [];
    const tag = { table: "holding" as const, type: c.type, length: raw.length, order: c.order };
    const decoded = decodeTagValue(tag, raw, "ABCD");
    expect(decoded, `${c.type} ${c.value} ${c.order} registers ${JSON.stringify(raw)}`).toEqual({
      quality: "good",
      value: expected(c),
    });
  });
}

describe("decoding registers encoded by pymodbus 3.0", () => {
  it("decodes the edge values of every numeric type in every byte/word order", () => {
    const edges: Record<string, readonly string[]> = {
      int16: ["-32768", "-1", "0", "1", "32767"],
      uint16: ["0", "1", "65535", "4660"],
      int32: ["-2147483648", "-1", "0", "305419896", "2147483647"],
      uint32: ["0", "4294967295", "305419896"],
      int64: ["-9223372036854775808", "-1", "9007199254740993", "9223372036854775807"],
      uint64: ["0", "9007199254740992", "18446744073709551615", "1311768467463790320"],
      float32: ["123456.0", "-0.0", "1.401298464324817e-45", "3.4028234663852886e+38", "-1.5"],
      float64: ["123456.789", "-0.0", "5e-324", "1.7976931348623157e+308", "3.141592653589793"],
    };
    const cases: Case[] = [];
    for (const [type, values] of Object.entries(edges)) {
      for (const value of values) {
        for (const order of ORDERS) {
          cases.push({ type: type as RegisterType, value, order });
        }
      }
    }
    checkAll(cases);
  });

  it("decodes random values of every numeric type in every order (property, one pymodbus run)", () => {
    const cases: Case[] = [];
    const sample = <T>(arbitrary: fc.Arbitrary<T>) => fc.sample(arbitrary, { numRuns: 40, seed: 42 });
    const add = (type: RegisterType, values: readonly string[]) => {
      for (const value of values) {
        for (const order of ORDERS) {
          cases.push({ type, value, order });
        }
      }
    };
    add("int16", sample(fc.integer({ min: -32768, max: 32767 })).map(String));
    add("uint32", sample(fc.integer({ min: 0, max: 4294967295 })).map(String));
    add("int64", sample(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })).map(String));
    add("uint64", sample(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })).map(String));
    add(
      "float64",
      sample(fc.double({ noNaN: true, noDefaultInfinity: true })).map((v) =>
        Object.is(v, -0) ? "-0.0" : String(v),
      ),
    );
    add(
      "float32",
      sample(fc.float({ noNaN: true, noDefaultInfinity: true })).map((v) =>
        Object.is(v, -0) ? "-0.0" : String(v),
      ),
    );
    checkAll(cases);
  });

  it("decodes strings as pymodbus packs them: high byte first in every register (our ABCD and CDAB)", () => {
    // pymodbus 3.0 packs strings high byte first whatever its byteorder, so it cannot produce
    // the byte-swapped strings some devices send; those (our BADC/DCBA) are covered by the
    // table tests in decodeTag.test.ts.
    checkAll([
      { type: "string", value: "ABCD-12", order: "ABCD" },
      { type: "string", value: "PRESS2", order: "ABCD" },
      { type: "string", value: "PRESS2", order: "CDAB" },
    ]);
  });
});
