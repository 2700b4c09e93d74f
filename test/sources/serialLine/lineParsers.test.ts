/** Sensor lines to tag values (issue: regex, CSV, key=value and JSON parsers; garbage skipped; FAULTS 8.7 no silent NaN). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bad, good } from "../../../src/sources/modbus/decodeResult.js";
import {
  createLineParser,
  type LineParserConfig,
  type LineTag,
} from "../../../src/sources/serialLine/lineParsers.js";
import { MAX_STRING_LENGTH } from "../../../src/sources/serialLine/lineValues.js";

const num = (name: string, extra: Partial<LineTag> = {}): LineTag => ({ name, type: "number", ...extra });

function valuesOf(config: LineParserConfig, tags: readonly LineTag[], line: string) {
  const result = createLineParser(config, tags).parse(line);
  if (!result.ok) {
    throw new Error(`expected a parsed line, got garbage: ${result.reason}`);
  }
  return Object.fromEntries(result.values);
}

describe("regex lines", () => {
  const config: LineParserConfig = {
    format: "regex",
    pattern: "^T=(?<temp>-?\\d+\\.\\d+)(?: H=(?<hum>\\S+))?$",
  };

  it("reads named groups; a group that did not take part is a missing field", () => {
    expect(valuesOf(config, [num("temp"), num("humidity", { field: "hum" })], "T=21.5 H=40")).toEqual({
      temp: good(21.5),
      humidity: good(40),
    });
    expect(valuesOf(config, [num("temp"), num("humidity", { field: "hum" })], "T=21.5")).toEqual({
      temp: good(21.5),
      humidity: bad("missing field hum"),
    });
  });

  it("a line that does not match is garbage", () => {
    expect(createLineParser(config, [num("temp")]).parse("ERR 42")).toEqual({
      ok: false,
      reason: "line does not match the pattern",
    });
  });
});

describe("CSV lines", () => {
  const config: LineParserConfig = { format: "csv", separator: ",", columns: ["id", "", "temp", "label"] };
  const tags: LineTag[] = [num("temp"), { name: "label", type: "string" }, { name: "id", type: "string" }];

  it("maps columns in order, skips unnamed ones, trims whitespace", () => {
    expect(valuesOf(config, tags, " s1 , ignored, 21.5 ,ok")).toEqual({
      temp: good(21.5),
      label: good("ok"),
      id: good("s1"),
    });
  });

  it('supports RFC 4180 quotes: separator and "" inside', () => {
    expect(valuesOf(config, tags, 's1,x,"1e3", "a, ""b"" c" ')).toEqual({
      temp: good(1000),
      label: good('a, "b" c'),
      id: good("s1"),
    });
  });

  it("a wrong column count or a broken quote is garbage", () => {
    const parser = createLineParser(config, tags);
    expect(parser.parse("s1,x,21.5")).toEqual({ ok: false, reason: "expected 4 columns, got 3" });
    expect(parser.parse("s1,x,21.5,ok,extra")).toEqual({ ok: false, reason: "expected 4 columns, got 5" });
    expect(parser.parse('s1,x,21.5,"ok')).toEqual({ ok: false, reason: "malformed quoted field" });
    expect(parser.parse('s1,x,"21"5,ok')).toEqual({ ok: false, reason: "malformed quoted field" });
  });

  it("works with a tab or multi-character separator", () => {
    const tab: LineParserConfig = { format: "csv", separator: "\t", columns: ["a", "b"] };
    expect(valuesOf(tab, [num("a"), num("b")], "1\t")).toEqual({
      a: good(1),
      b: bad('field b is not a number: ""'),
    });
    const multi: LineParserConfig = { format: "csv", separator: "::", columns: ["a", "b"] };
    expect(valuesOf(multi, [num("a"), num("b")], "1 :: 2")).toEqual({ a: good(1), b: good(2) });
  });
});

describe("key-value lines", () => {
  const config: LineParserConfig = { format: "key-value", pairSeparator: " ", keyValueSeparator: "=" };

  it("collapses runs of the pair separator, splits on the first key/value separator, ignores bare tokens", () => {
    const tags: LineTag[] = [num("T"), num("RH"), { name: "msg", type: "string" }];
    expect(valuesOf(config, tags, "S01  T=21.5   RH=40 msg=a=b")).toEqual({
      T: good(21.5),
      RH: good(40),
      msg: good("a=b"),
    });
  });

  it("a missing key is a bad tag; a line with no pairs is garbage", () => {
    expect(valuesOf(config, [num("T"), num("P")], "T=1")).toEqual({ T: good(1), P: bad("missing field P") });
    expect(createLineParser(config, [num("T")]).parse("hello world")).toEqual({
      ok: false,
      reason: "no key=value pairs",
    });
  });

  it("works with other separators", () => {
    const colon: LineParserConfig = { format: "key-value", pairSeparator: ";", keyValueSeparator: ":" };
    expect(valuesOf(colon, [num("a"), num("b")], "a: 1;;b :2;")).toEqual({ a: good(1), b: good(2) });
  });
});

describe("JSON lines", () => {
  const config: LineParserConfig = { format: "json" };

  it("follows dotted paths and array indices; a literal dotted key wins", () => {
    const tags: LineTag[] = [
      num("t", { field: "env.temp.value" }),
      num("first", { field: "list.0" }),
      num("dotted", { field: "a.b" }),
      { name: "ok", type: "bool" },
    ];
    const line = '{"env":{"temp":{"value":21.5}},"list":[7,8],"a.b":3,"a":{"b":4},"ok":true}';
    expect(valuesOf(config, tags, line)).toEqual({
      t: good(21.5),
      first: good(7),
      dotted: good(3),
      ok: good(true),
    });
  });

  it("missing, null, wrong-typed and prototype fields are bad, never inherited", () => {
    const tags: LineTag[] = [
      num("gone", { field: "a.x" }),
      num("nil"),
      num("obj", { field: "a" }),
      { name: "ctor", type: "string", field: "constructor" },
      { name: "proto", type: "string", field: "a.__proto__.toString" },
    ];
    expect(valuesOf(config, tags, '{"a":{"b":1},"nil":null}')).toEqual({
      gone: bad("missing field a.x"),
      nil: bad("field nil is null"),
      obj: bad("field a is not a number: object"),
      ctor: bad("missing field constructor"),
      proto: bad("missing field a.__proto__.toString"),
    });
  });

  it("a JSON number beyond float64 is bad, a quoted number is read strictly", () => {
    expect(valuesOf(config, [num("x"), num("y"), num("z")], '{"x":1e999,"y":"12.5","z":"12abc"}')).toEqual({
      x: bad("+Inf"),
      y: good(12.5),
      z: bad('field z is not a number: "12abc"'),
    });
  });

  it("invalid JSON or a non-object is garbage", () => {
    const parser = createLineParser(config, [num("x")]);
    for (const line of ['{"x":', "[1,2]", "42", "null", '"x"']) {
      expect(parser.parse(line).ok).toBe(false);
    }
  });
});

describe("values", () => {
  const kv: LineParserConfig = { format: "key-value", pairSeparator: " ", keyValueSeparator: "=" };

  it.each([
    ["12.5", good(12.5)],
    ["-3", good(-3)],
    ["+4", good(4)],
    ["1e3", good(1000)],
    ["-.5", good(-0.5)],
    ["7.", good(7)],
    ["1e400", bad('field v out of range: "1e400"')],
    ["12abc", bad('field v is not a number: "12abc"')],
    ["NaN", bad('field v is not a number: "NaN"')],
    ["Infinity", bad('field v is not a number: "Infinity"')],
    ["0x10", bad('field v is not a number: "0x10"')],
    ["1_000", bad('field v is not a number: "1_000"')],
    ["", bad('field v is not a number: ""')],
    [".", bad('field v is not a number: "."')],
  ])("number %j", (text, expected) => {
    expect(valuesOf(kv, [num("v")], `v=${text}`)).toEqual({ v: expected });
  });

  it.each([
    ["1", true],
    ["TRUE", true],
    ["On", true],
    ["yes", true],
    ["0", false],
    ["false", false],
    ["OFF", false],
    ["No", false],
  ])("bool word %j", (text, expected) => {
    expect(valuesOf(kv, [{ name: "b", type: "bool" }], `b=${text}`)).toEqual({ b: good(expected) });
  });

  it("rejects other bool words (sensor protocols, not YAML)", () => {
    expect(valuesOf(kv, [{ name: "b", type: "bool" }], "b=y")).toEqual({
      b: bad('field b is not a bool: "y"'),
    });
  });

  it("applies scale and offset to numbers only, and an overflow is bad", () => {
    const tags: LineTag[] = [
      num("v", { scale: 0.1, offset: -40 }),
      num("big", { scale: 1e300 }),
      { name: "s", type: "string", scale: 10 },
    ];
    expect(valuesOf(kv, tags, "v=650 big=1e10 s=12")).toEqual({
      v: good(650 * 0.1 - 40),
      big: bad("+Inf after scale and offset"),
      s: good("12"),
    });
  });

  it("strips control characters from strings and caps their length", () => {
    const json: LineParserConfig = { format: "json" };
    const long = "é".repeat(MAX_STRING_LENGTH + 10);
    const line = JSON.stringify({ s: "a\u0000b\u001bc\u0085d", l: long });
    expect(
      valuesOf(
        json,
        [
          { name: "s", type: "string" },
          { name: "l", type: "string" },
        ],
        line,
      ),
    ).toEqual({
      s: good("abcd"),
      l: good("é".repeat(MAX_STRING_LENGTH)),
    });
  });
});

describe("parse never throws (property)", () => {
  const tags: LineTag[] = [
    num("a"),
    { name: "b", type: "bool" },
    { name: "c", type: "string", field: "x.y" },
  ];
  const configs: LineParserConfig[] = [
    { format: "regex", pattern: "(?<a>[^,]*),(?<b>[^,]*),?(?<c>.*)" },
    { format: "csv", separator: ",", columns: ["a", "b", "c"] },
    { format: "csv", separator: '"', columns: ["a", "", "b"] },
    { format: "key-value", pairSeparator: " ", keyValueSeparator: "=" },
    { format: "json" },
  ];

  it("for arbitrary strings, JSON-ish text and every format", () => {
    const line = fc.oneof(
      fc.string({ unit: "binary", maxLength: 200 }),
      fc.string({ unit: fc.constantFrom('"', ",", "=", " ", "a", "1", ".", "{", "}", ":"), maxLength: 60 }),
      fc.json(),
    );
    fc.assert(
      fc.property(fc.constantFrom(...configs), line, (config, text) => {
        const result = createLineParser(config, tags).parse(text);
        if (result.ok) {
          for (const value of result.values.values()) {
            expect(value.quality === "bad" || value.value !== null).toBe(true);
            if (typeof value.value === "number") {
              expect(Number.isFinite(value.value)).toBe(true);
            }
          }
        } else {
          expect(typeof result.reason).toBe("string");
        }
      }),
      { numRuns: 2000 },
    );
  });
});
