/** The forwarder's figures (issue #5, item 7): bounded latency histograms and a windowed rate. */
import { describe, expect, it } from "vitest";
import { LatencyHistogram, RateMeter, RollingLatency } from "../../src/uplink/forwarderStats.js";

describe("LatencyHistogram", () => {
  it("gives quantiles within the bucket resolution (about 10%)", () => {
    const histogram = new LatencyHistogram();
    for (let ms = 1; ms <= 1000; ms++) {
      histogram.record(ms);
    }
    expect(histogram.count).toBe(1000);
    expect(histogram.quantile(0.5)).toBeGreaterThan(500 * 0.9);
    expect(histogram.quantile(0.5)).toBeLessThan(500 * 1.1);
    expect(histogram.quantile(0.99)).toBeGreaterThan(990 * 0.9);
    expect(histogram.quantile(0.99)).toBeLessThan(990 * 1.1);
  });

  it("is empty-safe and clamps extreme values into its range", () => {
    const histogram = new LatencyHistogram();
    expect(histogram.quantile(0.5)).toBeUndefined();
    histogram.record(0);
    histogram.record(10 * 3_600_000);
    expect(histogram.quantile(0)).toBeLessThan(0.1);
    expect(histogram.quantile(1)).toBeGreaterThan(500_000);
  });
});

describe("RollingLatency", () => {
  it("covers the last one to two windows and forgets older ones", () => {
    const rolling = new RollingLatency(60_000, 0);
    rolling.record(1000, 0);
    expect(rolling.quantile(0.5, 30_000)).toBeGreaterThan(900);
    rolling.record(1, 61_000); // a new window: the old one is still counted
    expect(rolling.quantile(0.99, 61_000)).toBeGreaterThan(900);
    expect(rolling.quantile(0.99, 125_000)).toBeLessThan(2); // two windows on: only the recent half
    expect(rolling.quantile(0.99, 300_000)).toBeUndefined();
  });
});

describe("RateMeter", () => {
  it("averages over the last ten whole seconds", () => {
    const meter = new RateMeter();
    for (let second = 0; second < 10; second++) {
      meter.add(100, second * 1000 + 500);
    }
    expect(meter.perSecond(10_000)).toBe(100);
    expect(meter.perSecond(15_000)).toBe(50);
    expect(meter.perSecond(60_000)).toBe(0);
  });
});
