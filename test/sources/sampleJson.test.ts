/** Samples to JSON and back: bigint as decimal strings, non-finite numbers refused (FAULTS 8.7). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Sample, SampleValue, TagReading } from "../../src/records.js";
import { recordJsonReplacer, sampleFromJson, sampleToJson } from "../../src/sources/sampleJson.js";

const sample = (value: SampleValue, extra: Partial<TagReading> = {}): Sample => ({
  kind: "sample",
  device: "meter-1",
  group: "fast",
  ts: 1_700_000_000_000,
  clockSynced: true,
  values: { energy: { value, quality: "good", ...extra }, count: { value: 7, quality: "good" } },
});
const energy = (s: Sample): SampleValue => s.values.energy?.value ?? "missing";

describe("sampleToJson / sampleFromJson", () => {
  it("writes a bigint as a decimal string with valueKind and reads it back exactly", () => {
    const uint64Max = sample(18446744073709551615n, { unit: "Wh" });
    const json = sampleToJson(uint64Max);
    expect(JSON.parse(json)).toMatchObject({
      values: { energy: { value: "18446744073709551615", valueKind: "bigint" }, count: { value: 7 } },
    });
    expect(sampleFromJson(json)).toEqual(uint64Max);
    expect(energy(sampleFromJson(sampleToJson(sample(-(2n ** 63n)))))).toBe(-(2n ** 63n));
  });

  it("keeps a string that looks like a number a string", () => {
    expect(energy(sampleFromJson(sampleToJson(sample("123"))))).toBe("123");
  });

  it("round-trips bad samples with their reason", () => {
    const nan = sample(null, { quality: "bad", reason: "NaN" });
    expect(sampleFromJson(sampleToJson(nan))).toEqual(nan);
  });

  it("throws rather than write NaN or Infinity as null", () => {
    expect(() => sampleToJson(sample(Number.NaN))).toThrow(/non-finite/);
    expect(() => sampleToJson(sample(Number.POSITIVE_INFINITY))).toThrow(/non-finite/);
    expect(() => JSON.stringify({ details: { x: Number.NEGATIVE_INFINITY } }, recordJsonReplacer)).toThrow(
      /non-finite/,
    );
  });

  it("rejects JSON it could not have written", () => {
    expect(() => sampleFromJson('{"kind":"event"}')).toThrow();
    expect(() =>
      sampleFromJson('{"kind":"sample","device":"d","ts":1,"clockSynced":true,"values":[]}'),
    ).toThrow(/values is not an object/);
    expect(() =>
      sampleFromJson('{"kind":"sample","device":"d","ts":1,"clockSynced":true,"values":{"x":{"value":1}}}'),
    ).toThrow(/quality/);
    expect(() =>
      sampleFromJson(sampleToJson(sample("1.5")).replace('"value"', '"valueKind":"bigint","value"')),
    ).toThrow();
    expect(() =>
      sampleFromJson(sampleToJson(sample(1, { quality: "bad" })).replace('"bad"', '"meh"')),
    ).toThrow();
  });

  it("round-trips any value a sample can hold (property; -0 excluded: JSON has no negative zero)", () => {
    const value = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.string(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)),
      fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
    );
    fc.assert(
      fc.property(value, (v) => {
        expect(sampleFromJson(sampleToJson(sample(v)))).toEqual(sample(v));
      }),
    );
  });
});
