import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDuration, parseByteSize, parseDuration } from "../../src/config/schema/primitives.js";
import { closestMatch, editDistance } from "../../src/config/suggest.js";

describe("durations", () => {
  it.each([
    ["500ms", 500],
    ["1s", 1000],
    ["1.5s", 1500],
    ["5m", 300_000],
    ["1h30m", 5_400_000],
    ["7d", 604_800_000],
    ["0ms", 0],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["1000", "", "1 s", "s", "1sec", "-1s", "1x", "1h 30m", "ms"])("%j is not a duration", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it("formatDuration gives back a duration that parses to the same value", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 86_400_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });
});

describe("byte sizes", () => {
  it.each([
    ["512MiB", 512 * 1024 ** 2],
    ["2GB", 2e9],
    ["1 KiB", 1024],
    ["16B", 16],
  ])("%s is %d bytes", (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each(["1024", "1gb", "2 GiBs", ""])("%j is not a size", (text) => {
    expect(parseByteSize(text)).toBeUndefined();
  });
});

describe("did-you-mean", () => {
  it("edit distance is a metric on the strings it sees", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 12 }),
        fc.string({ maxLength: 12 }),
        fc.string({ maxLength: 12 }),
        (a, b, c) => {
          expect(editDistance(a, a)).toBe(0);
          expect(editDistance(a, b)).toBe(editDistance(b, a));
          expect(editDistance(a, c)).toBeLessThanOrEqual(editDistance(a, b) + editDistance(b, c));
        },
      ),
    );
  });

  it("counts an adjacent transposition as one edit", () => {
    expect(editDistance("pollInetrval", "pollInterval")).toBe(1);
  });

  it("suggests close keys and nothing for distant ones", () => {
    const keys = ["pollInterval", "port", "host", "timeout"];
    expect(closestMatch("pollIntervall", keys)).toBe("pollInterval");
    expect(closestMatch("Timeout", keys)).toBe("timeout");
    expect(closestMatch("hots", keys)).toBe("host");
    expect(closestMatch("baudRate", keys)).toBeUndefined();
  });
});
