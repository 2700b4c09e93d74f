import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/analytics/random.js";
import {
  AnomalyLikelihood,
  type LikelihoodOptions,
} from "../../src/analytics/streaming/anomalyLikelihood.js";
import { gaussianQ } from "../../src/analytics/streaming/gaussianTail.js";
import { StreamingDetector, type StreamingDetectorConfig } from "../../src/analytics/streaming/index.js";
import { packFloat64, unpackFloat64 } from "../../src/analytics/streaming/packedArray.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function bits(values: ArrayLike<number>): string[] {
  const view = new DataView(new ArrayBuffer(8));
  return Array.from(values, (x) => {
    view.setFloat64(0, x);
    return view.getBigUint64(0).toString(16);
  });
}

describe("packed arrays", () => {
  it("restore every double bit for bit, with or without differences", () => {
    const anyDouble = fc.oneof(
      fc.double(),
      fc.integer({ min: 0, max: 2 ** 45 }),
      fc.constantFrom(-0, 0, Number.MIN_VALUE, Number.MAX_VALUE),
    );
    fc.assert(
      fc.property(fc.array(anyDouble, { maxLength: 200 }), fc.boolean(), (values, delta) => {
        const unpacked = unpackFloat64(packFloat64(values, delta), values.length);
        expect(bits(unpacked)).toEqual(bits(values));
      }),
      { numRuns: 300 },
    );
  });

  it("store regular timestamps as differences, a few bytes for an hour at 1 Hz", () => {
    const times = Array.from({ length: 3600 }, (_, i) => Date.UTC(2026, 0, 1) + 1000 * i);
    const delta = packFloat64(times, true);
    expect(delta.length).toBeLessThan(400);
    expect(packFloat64(times).length).toBeGreaterThan(10_000);
    expect(Array.from(unpackFloat64(delta, 3600))).toEqual(times);
  });

  it("refuse text that is not base64, not deflate, of an unknown coding, or longer than allowed", () => {
    expect(() => unpackFloat64("abc$", 10)).toThrow(/not base64/);
    expect(() => unpackFloat64(Buffer.from("plain text").toString("base64"), 10)).toThrow(/inflate/);
    expect(() => unpackFloat64(packFloat64([1, 2, 3]), 2)).toThrow(/within 2 values/);
    const bad = packFloat64([1]);
    const bytes = Buffer.from(bad, "base64");
    expect(() => unpackFloat64(bytes.subarray(0, bytes.length - 2).toString("base64"), 10)).toThrow(
      RangeError,
    );
  });
});

/** nupic's likelihood with the history value by value (the code before block summaries). */
class ReferenceLikelihood {
  private readonly recent: number[] = [];
  private recentTotal = 0;
  private readonly history: number[] = [];
  private iteration = 0;
  private distribution: { mean: number; stdev: number } | null = null;
  constructor(private readonly o: LikelihoodOptions) {}

  update(score: number): number {
    if (this.recent.length === this.o.averagingWindow) {
      this.recentTotal -= this.recent.shift() as number;
    }
    this.recent.push(score);
    this.recentTotal += score;
    const average = this.recentTotal / this.recent.length;
    const due = this.distribution === null || this.iteration % this.o.reestimationPeriod === 0;
    if (due && this.history.length >= this.o.estimationSamples) {
      const n = this.history.length;
      const mean = this.history.reduce((a, b) => a + b, 0) / n;
      const variance = this.history.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
      this.distribution = { mean: Math.max(0.03, mean), stdev: Math.sqrt(Math.max(0.0003, variance)) };
    }
    let likelihood = 0;
    const d = this.distribution;
    if (d !== null) {
      const tail = average <= d.mean ? 0.5 : gaussianQ((average - d.mean) / d.stdev);
      likelihood = Math.min(1, Math.max(0, Math.log(tail + 1e-10) / Math.log(1e-10)));
    }
    const clip = this.o.historyClip;
    this.history.push(clip > 0 && d !== null ? Math.min(average, d.mean + clip * d.stdev) : average);
    if (this.history.length > this.o.historicWindow) {
      this.history.shift();
    }
    this.iteration++;
    return likelihood;
  }
}

describe("AnomalyLikelihood with a block history", () => {
  const options = fc
    .record({
      averagingWindow: fc.integer({ min: 1, max: 12 }),
      historicWindow: fc.integer({ min: 1, max: 60 }),
      reestimationPeriod: fc.integer({ min: 1, max: 30 }),
      estimationFraction: fc.double({ min: 0, max: 1, noNaN: true }),
      historyClip: fc.constantFrom(0, 3),
    })
    .map(
      ({ estimationFraction, ...o }): LikelihoodOptions => ({
        ...o,
        estimationSamples: Math.max(1, Math.round(estimationFraction * o.historicWindow)),
        redFilter: false,
      }),
    );
  const scores = fc.array(fc.oneof(fc.double({ min: 0, max: 15, noNaN: true }), fc.constant(0.4)), {
    minLength: 1,
    maxLength: 400,
  });

  // Within 1e-6 (not exactly): the two sum in different orders, so an average equal to the mean
  // may fall on either side of it (tail 0.5 or Q(0+) = 0.5 (1 + 1.2e-7) by erfc's fit).
  it("gives nupic's likelihoods over the same window (within 1e-6) on random scores and windows", () => {
    fc.assert(
      fc.property(options, scores, (o, values) => {
        const blocks = new AnomalyLikelihood(o);
        const reference = new ReferenceLikelihood(o);
        for (const score of values) {
          expect(blocks.update(score).likelihood).toBeCloseTo(reference.update(score), 6);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("continues bit for bit after a save and restore at any point", () => {
    fc.assert(
      fc.property(options, scores, fc.nat(), (o, values, cut) => {
        const at = cut % (values.length + 1);
        const live = new AnomalyLikelihood(o);
        for (const score of values.slice(0, at)) {
          live.update(score);
        }
        const restored = AnomalyLikelihood.fromJSON(o, JSON.parse(JSON.stringify(live.toJSON())));
        for (const score of values.slice(at)) {
          expect(restored.update(score)).toEqual(live.update(score));
        }
        expect(restored.toJSON()).toEqual(live.toJSON());
      }),
      { numRuns: 200 },
    );
  });
});

describe("saved state size", () => {
  /** 50 + 10 sin(day) + N(0, 2), rounded to 0.1 as a scaled register would be. */
  function feed(config: StreamingDetectorConfig, stepMs: number, n: number, quantised: boolean): number {
    const next = seededRandom(17);
    const d = new StreamingDetector(config);
    for (let i = 0; i < n; i++) {
      const g = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
      const x = 50 + 10 * Math.sin((2 * Math.PI * i * stepMs) / (24 * HOUR)) + 2 * g;
      d.observe(Date.UTC(2026, 0, 5) + i * stepMs, quantised ? Math.round(x * 10) / 10 : x);
    }
    return JSON.stringify(d.toJSON()).length;
  }
  const base = { method: "median-mad", windowMs: HOUR, seasonality: "none" } as const;

  // Version 1 took 283 KB, 169 KB and 135 KB for these (noise); the bounds pin the packed format.
  it.each([
    ["1 Hz, 1 h window, after 3 h", base, 1000, 3 * 3600, 45_000, 14_000],
    ["1/min, 1 h window, after 7 days", base, MINUTE, 7 * 1440, 4_500, 4_000],
    [
      "1/min, daily seasonality, after 3 days",
      { ...base, seasonality: "daily" },
      MINUTE,
      3 * 1440,
      21_000,
      8_500,
    ],
  ] as const)("stays small: %s", (_, config, stepMs, n, noisyBound, quantisedBound) => {
    expect(feed(config, stepMs, n, false)).toBeLessThan(noisyBound);
    expect(feed(config, stepMs, n, true)).toBeLessThan(quantisedBound);
  });
});
