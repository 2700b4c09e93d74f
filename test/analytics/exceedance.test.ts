/**
 * From a vector model's raw score to an anomaly probability (src/analytics/machine/exceedance.ts;
 * issue #6 item 3: "thresholds per device in config" are probabilities): never an alert at or
 * below the threshold percentile, LOW .. HIGH between it and the training maximum, HIGH and
 * rising past the maximum, CRITICAL (0.98) about 2.3 threshold-to-maximum spans beyond it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { percentileFromTable } from "../../src/analytics/isolationForest/scoreQuantiles.js";
import { anomalyProbability, type ScoreDistribution } from "../../src/analytics/machine/exceedance.js";

/** A table of 1001 quantiles from f(k), k = 0 .. 1000 (k / 10 is the percentile). */
function table(f: (k: number) => number): Float64Array {
  return Float64Array.from({ length: 1001 }, (_, k) => f(k));
}

/** Linear scores 0 .. 1000: median 500, 99.5 % threshold 995, maximum 1000. */
const LINEAR: ScoreDistribution = { quantiles: table((k) => k), thresholdPercentile: 99.5 };
const MEDIAN = 500;
const THRESHOLD = 995;
const MAXIMUM = 1000;

/** 1001 ascending finite values from positive steps (ties allowed) and an offset. */
const quantileTable = fc
  .tuple(
    fc.double({ min: -1e3, max: 1e3, noNaN: true }),
    fc.array(fc.oneof(fc.constant(0), fc.double({ min: 1e-3, max: 10, noNaN: true })), {
      minLength: 1000,
      maxLength: 1000,
    }),
  )
  .map(([offset, steps]) => {
    const quantiles = new Float64Array(1001);
    quantiles[0] = offset;
    steps.forEach((step, i) => {
      quantiles[i + 1] = (quantiles[i] as number) + step;
    });
    return quantiles;
  });

describe("percentileFromTable", () => {
  it("returns the table's entries at 0.1 % steps and interpolates linearly between them", () => {
    const squares = table((k) => k * k);
    expect(percentileFromTable(squares, 0)).toBe(0);
    expect(percentileFromTable(squares, 50)).toBe(250_000);
    expect(percentileFromTable(squares, 100)).toBe(1_000_000);
    expect(percentileFromTable(squares, 0.05)).toBeCloseTo(0.5, 9); // halfway between 0 and 1
    expect(percentileFromTable(squares, 99.95)).toBeCloseTo((999 * 999 + 1_000_000) / 2, 3);
    expect(percentileFromTable(squares, 12.34)).toBeCloseTo(123 * 123 + 0.4 * (124 * 124 - 123 * 123), 6);
  });
});

describe("anomalyProbability", () => {
  it("stays at or below 0.5 up to the threshold, rising linearly from the median, and is 0.5 at it", () => {
    expect(anomalyProbability(-50, LINEAR)).toBe(0);
    expect(anomalyProbability(MEDIAN, LINEAR)).toBe(0);
    expect(anomalyProbability(MEDIAN + (THRESHOLD - MEDIAN) / 2, LINEAR)).toBeCloseTo(0.25, 12);
    expect(anomalyProbability(THRESHOLD, LINEAR)).toBeCloseTo(0.5, 12);
    let previous = -1;
    for (let s = 0; s <= THRESHOLD; s += 5) {
      const p = anomalyProbability(s, LINEAR);
      expect(p).toBeLessThanOrEqual(0.5);
      expect(p).toBeGreaterThanOrEqual(previous);
      previous = p;
    }
  });

  it("is in (0.5, 0.9] between the threshold and the training maximum, by how few rows scored higher", () => {
    // Half of the 0.5 % of rows above the threshold score above 997.5: halfway from 0.5 to 0.9.
    expect(anomalyProbability(997.5, LINEAR)).toBeCloseTo(0.7, 9);
    expect(anomalyProbability(THRESHOLD + 1e-6, LINEAR)).toBeGreaterThan(0.5);
    expect(anomalyProbability(MAXIMUM - 1e-9, LINEAR)).toBeCloseTo(0.9, 6);
    for (let s = THRESHOLD + 0.25; s < MAXIMUM; s += 0.25) {
      const p = anomalyProbability(s, LINEAR);
      expect(p).toBeGreaterThan(0.5);
      expect(p).toBeLessThanOrEqual(0.9);
    }
  });

  it("is HIGH (0.9) at the training maximum, CRITICAL (0.98) about 2.3 spans past it, and tends to 1", () => {
    const span = MAXIMUM - THRESHOLD;
    expect(anomalyProbability(MAXIMUM, LINEAR)).toBeCloseTo(0.9, 12);
    expect(anomalyProbability(MAXIMUM + 2.3 * span, LINEAR)).toBeCloseTo(0.98, 3);
    expect(anomalyProbability(MAXIMUM + Math.log2(5) * span, LINEAR)).toBeGreaterThanOrEqual(0.98 - 1e-12);
    expect(anomalyProbability(MAXIMUM + 2 * span, LINEAR)).toBeLessThan(0.98);
    let previous = 0.9;
    for (const k of [0.5, 1, 2, 5, 10, 50]) {
      const p = anomalyProbability(MAXIMUM + k * span, LINEAR);
      expect(p).toBeGreaterThan(previous);
      expect(p).toBeLessThanOrEqual(1);
      previous = p;
    }
    expect(anomalyProbability(MAXIMUM + 1_000 * span, LINEAR)).toBe(1);
    expect(anomalyProbability(Number.MAX_VALUE, LINEAR)).toBe(1);
  });

  it("with the threshold at the 100th percentile, is 0.5 at the training maximum and HIGH just past it", () => {
    const all: ScoreDistribution = { quantiles: LINEAR.quantiles, thresholdPercentile: 100 };
    expect(anomalyProbability(MAXIMUM, all)).toBeCloseTo(0.5, 12);
    expect(anomalyProbability(MEDIAN + (MAXIMUM - MEDIAN) / 2, all)).toBeCloseTo(0.25, 12);
    const past = anomalyProbability(MAXIMUM + 1e-6, all);
    expect(past).toBeGreaterThanOrEqual(0.9);
    expect(past).toBeLessThan(1);
    expect(anomalyProbability(MAXIMUM + 100, all)).toBeGreaterThan(past);
  });

  it("gives 0 for a non-finite score", () => {
    for (const score of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(anomalyProbability(score, LINEAR)).toBe(0);
    }
  });

  it("stays finite in [0, 1] on a table where every training row scored alike", () => {
    const flat: ScoreDistribution = { quantiles: table(() => 0.42), thresholdPercentile: 99.5 };
    for (const s of [-1, 0, 0.42, 0.420001, 0.5, 10, 1e300]) {
      const p = anomalyProbability(s, flat);
      expect(Number.isFinite(p)).toBe(true);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
    }
    expect(anomalyProbability(0.5, flat)).toBeGreaterThanOrEqual(0.9);
  });

  it("is monotone in the score and keeps its bands on any ascending table (property)", () => {
    fc.assert(
      fc.property(
        quantileTable,
        fc.double({ min: 50, max: 100, noNaN: true }),
        fc.double({ min: -0.1, max: 1.5, noNaN: true }),
        fc.double({ min: -0.1, max: 1.5, noNaN: true }),
        (quantiles, thresholdPercentile, u, v) => {
          const distribution = { quantiles, thresholdPercentile };
          const lo = quantiles[0] as number;
          const hi = quantiles[1000] as number;
          const at = (x: number) => lo + x * (hi - lo + 1);
          const [a, b] = [at(Math.min(u, v)), at(Math.max(u, v))];
          const pa = anomalyProbability(a, distribution);
          const pb = anomalyProbability(b, distribution);
          expect(pa).toBeLessThanOrEqual(pb);
          const threshold = percentileFromTable(quantiles, thresholdPercentile);
          for (const [s, p] of [
            [a, pa],
            [b, pb],
          ] as const) {
            expect(p).toBeGreaterThanOrEqual(0);
            expect(p).toBeLessThanOrEqual(1);
            if (s <= threshold) {
              expect(p).toBeLessThanOrEqual(0.5);
            } else if (s < hi) {
              expect(p).toBeGreaterThanOrEqual(0.5);
              expect(p).toBeLessThanOrEqual(0.9);
            } else {
              expect(p).toBeGreaterThanOrEqual(0.9);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
