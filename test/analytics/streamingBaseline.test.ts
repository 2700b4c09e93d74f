import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EwmaBaseline } from "../../src/analytics/streaming/ewmaBaseline.js";
import { erfc, gaussianQ, surprise } from "../../src/analytics/streaming/gaussianTail.js";
import { SortedWindow, type SortedWindowOptions } from "../../src/analytics/streaming/sortedWindow.js";

/** The definitions, by brute force: sort a copy, take the middle (mean of the two middles). */
function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
function mad(values: readonly number[]): number {
  const m = median(values);
  return median(values.map((x) => Math.abs(x - m)));
}

/** A list model of the window's admission, capacity and expiry rules (sortedWindow.ts header). */
class ListModel {
  points: { ts: number; value: number }[] = [];
  private last: number | null = null;
  constructor(private readonly o: SortedWindowOptions) {}
  expire(ts: number): void {
    while (this.points.length > this.o.minPoints && (this.points[0]?.ts as number) < ts - this.o.windowMs) {
      this.points.shift();
    }
  }
  add(ts: number, value: number): void {
    if (this.last !== null && ts - this.last < this.o.minSpacingMs) {
      return;
    }
    this.last = ts;
    if (this.points.length === this.o.capacity) {
      this.points.shift();
    }
    this.points.push({ ts, value: value + 0 }); // the window keeps -0 as +0 (sortedWindow.ts add)
  }
}

const step = fc.record({
  gap: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 400 })),
  // Few distinct values as well as many, so ties and MAD = 0 are exercised.
  value: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.double({ min: -1e6, max: 1e6, noNaN: true })),
});

describe("SortedWindow", () => {
  it("gives the exact median and MAD of the points a list model keeps, on random irregular series", () => {
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 300 }),
        fc.record({
          windowMs: fc.integer({ min: 1, max: 500 }),
          capacity: fc.integer({ min: 1, max: 80 }),
          minSpacingMs: fc.integer({ min: 0, max: 3 }),
          minPoints: fc.integer({ min: 0, max: 10 }),
        }),
        (steps, options) => {
          const window = new SortedWindow(options);
          const model = new ListModel(options);
          let ts = 0;
          for (const { gap, value } of steps) {
            ts += gap;
            window.expire(ts);
            model.expire(ts);
            window.add(ts, value);
            model.add(ts, value);
            const values = model.points.map((p) => p.value);
            expect(window.count).toBe(values.length);
            // Exact, up to the sign of zero (+ 0 folds -0, which sorting may place either side of 0).
            expect(window.median() + 0).toBe(median(values) + 0);
            expect(window.mad() + 0).toBe(mad(values) + 0);
            // An empty window (all expired, the next point thinned) has no min or max: NaN, like its median.
            expect(window.min()).toBe(values.length === 0 ? Number.NaN : Math.min(...values));
            expect(window.max()).toBe(values.length === 0 ? Number.NaN : Math.max(...values));
          }
          const restored = SortedWindow.fromJSON(options, JSON.parse(JSON.stringify(window.toJSON())));
          expect(restored.median()).toBe(window.median());
          expect(restored.mad()).toBe(window.mad());
          expect(restored.toJSON()).toEqual(window.toJSON());
          expect(restored.points()).toEqual(window.points());
        },
      ),
      { numRuns: 200 },
    );
  });

  it("expires by time across irregular gaps, keeping the newest minPoints", () => {
    const w = new SortedWindow({ windowMs: 10_000, capacity: 100, minSpacingMs: 0, minPoints: 2 });
    for (const [ts, v] of [
      [0, 1],
      [1_000, 2],
      [2_000, 3],
      [9_000, 4],
    ] as const) {
      w.expire(ts);
      w.add(ts, v);
    }
    w.expire(11_500); // drops ts 0 and 1000 (older than 1500), keeps 2000
    expect(Array.from(w.points().values)).toEqual([3, 4]);
    w.expire(3_600_000); // a gap of an hour: everything is older, but minPoints stay
    expect(Array.from(w.points().values)).toEqual([3, 4]);
    w.add(3_600_000, 10);
    w.expire(3_600_001);
    expect(Array.from(w.points().values)).toEqual([4, 10]);
    expect(w.median()).toBe(7);
    expect(w.mad()).toBe(3);
  });

  it("thins points closer than minSpacingMs and evicts past capacity, counting both", () => {
    const w = new SortedWindow({ windowMs: 1e9, capacity: 3, minSpacingMs: 10, minPoints: 0 });
    for (let ts = 0; ts < 100; ts += 5) {
      w.add(ts, ts);
    }
    expect(w.thinned).toBe(10);
    expect(w.evicted).toBe(7);
    expect(Array.from(w.points().values)).toEqual([70, 80, 90]);
  });
});

describe("EwmaBaseline", () => {
  it("follows the hand-computed sequence when each gap is one half-life (weight 1/2)", () => {
    const h = 60_000;
    const e = new EwmaBaseline(h, 1);
    const seen: [number, number][] = [];
    for (const [ts, x] of [
      [0, 10],
      [h, 20],
      [2 * h, 15],
      [3 * h, 5],
    ] as const) {
      e.add(ts, x);
      seen.push([e.mean, e.variance]);
    }
    // d = x - mean; mean += d/2; var = (var + d*d/2) / 2
    expect(seen).toEqual([
      [10, 0],
      [15, 25],
      [15, 12.5],
      [10, 31.25],
    ]);
  });

  it("decays by elapsed time, and caps the weight so about minPoints samples are averaged", () => {
    const e = new EwmaBaseline(60_000, 1);
    expect(e.weight(120_000)).toBeCloseTo(0.75, 12);
    expect(e.weight(0)).toBe(0);
    const capped = new EwmaBaseline(60_000, 9);
    expect(capped.weight(3_600_000)).toBe(0.2);
    expect(EwmaBaseline.halfLifeForWindow(3_600_000)).toBeCloseTo(Math.LN2 * 1_800_000, 6);
  });
});

describe("Gaussian tails", () => {
  it("matches tabulated erfc and Q values within the Numerical Recipes bound (1.2e-7 relative)", () => {
    // Abramowitz & Stegun table 7.1 / standard normal tables.
    const table: [number, number][] = [
      [0, 1],
      [0.5, 0.4795001222],
      [1, 0.1572992071],
      [2, 0.004677734981],
      [3, 2.2090497e-5],
    ];
    for (const [x, want] of table) {
      expect(Math.abs(erfc(x) - want) / want).toBeLessThan(1.2e-7);
      expect(Math.abs(erfc(-x) - (2 - want))).toBeLessThan(1.2e-7);
    }
    expect(gaussianQ(1.959963985)).toBeCloseTo(0.025, 8);
    expect(surprise(0)).toBeCloseTo(0, 6);
    // z = 40: 2Q ~ 7e-350 underflows a double, the log form does not.
    expect(surprise(40)).toBeCloseTo(349.2, 0);
  });
});
