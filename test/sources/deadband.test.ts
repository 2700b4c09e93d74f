/** The per-tag publish filter: deadband, heartbeat and quality changes with a fake clock (issue #4). */
import { describe, expect, it } from "vitest";
import type { SampleValue } from "../../src/records.js";
import { PublishFilter, type PublishFilterConfig } from "../../src/sources/deadband.js";

function harness(config: PublishFilterConfig) {
  let now = 0;
  const filter = new PublishFilter(config, { monotonicNow: () => now });
  return {
    filter,
    at(ms: number) {
      now = ms;
    },
    good: (value: SampleValue) => filter.shouldPublish({ value, quality: "good" }),
  };
}

describe("PublishFilter", () => {
  it("publishes every reading when neither deadband nor heartbeat is set", () => {
    const { good } = harness({});
    expect([good(1), good(1), good(1)]).toEqual([true, true, true]);
  });

  it("publishes on a change beyond an absolute deadband from the last published value", () => {
    const { good } = harness({ deadband: { kind: "absolute", value: 0.5 } });
    expect(good(10)).toBe(true);
    expect(good(10.4)).toBe(false);
    expect(good(10.5)).toBe(false); // not beyond
    expect(good(9.4)).toBe(true); // -0.6 from 10
    // Drift in small steps adds up against the last published value, not the last reading.
    expect([good(9.7), good(9.8), good(10)]).toEqual([false, false, true]);
  });

  it("measures a percent deadband against |last published|; from 0 any change publishes", () => {
    const { good } = harness({ deadband: { kind: "percent", value: 2 } });
    expect(good(-100)).toBe(true);
    expect(good(-101.9)).toBe(false);
    expect(good(-102.1)).toBe(true);
    const fromZero = harness({ deadband: { kind: "percent", value: 2 } });
    expect([fromZero.good(0), fromZero.good(0), fromZero.good(0.001)]).toEqual([true, false, true]);
  });

  it("compares bigints exactly, also across the 2^53 boundary", () => {
    const { good } = harness({ deadband: { kind: "absolute", value: 1.5 } });
    expect(good(2n ** 60n)).toBe(true);
    expect(good(2n ** 60n + 1n)).toBe(false);
    expect(good(2n ** 60n + 2n)).toBe(true);
    const boundary = harness({ deadband: { kind: "absolute", value: 0 } });
    expect([boundary.good(2 ** 53 - 1), boundary.good(2n ** 53n), boundary.good(2n ** 53n)]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it("publishes at the heartbeat even inside the deadband, counting from the last publish", () => {
    const h = harness({ deadband: { kind: "absolute", value: 5 }, heartbeat: 60_000 });
    expect(h.good(1)).toBe(true);
    h.at(59_999);
    expect(h.good(1)).toBe(false);
    h.at(60_000);
    expect(h.good(1)).toBe(true);
    h.at(100_000);
    expect(h.good(10)).toBe(true); // change beyond the deadband resets the heartbeat
    h.at(159_999);
    expect(h.good(10)).toBe(false);
    h.at(160_000);
    expect(h.good(10)).toBe(true);
  });

  it("with only a heartbeat, publishes on any change", () => {
    const { good } = harness({ heartbeat: 1000 });
    expect([good(1), good(1), good(1.000001)]).toEqual([true, false, true]);
  });

  it("publishes when quality or its reason changes, even with the value unchanged", () => {
    const { filter } = harness({ deadband: { kind: "absolute", value: 100 } });
    expect(filter.shouldPublish({ value: 1, quality: "good" })).toBe(true);
    expect(filter.shouldPublish({ value: null, quality: "bad", reason: "timeout" })).toBe(true);
    expect(filter.shouldPublish({ value: null, quality: "bad", reason: "timeout" })).toBe(false);
    expect(filter.shouldPublish({ value: null, quality: "bad", reason: "exception 02" })).toBe(true);
    expect(filter.shouldPublish({ value: 1, quality: "good" })).toBe(true);
  });

  it("publishes strings and booleans on change", () => {
    const { good } = harness({ deadband: { kind: "absolute", value: 1 } });
    expect([good("RUN"), good("RUN"), good("STOP"), good(true), good(true), good(false)]).toEqual([
      true,
      false,
      true,
      true,
      false,
      true,
    ]);
  });

  it("publishes the next reading after reset", () => {
    const { filter, good } = harness({ deadband: { kind: "absolute", value: 1 } });
    good(1);
    filter.reset();
    expect(good(1)).toBe(true);
  });
});
