import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/analytics/random.js";
import {
  STREAMING_DEFAULTS,
  StreamingDetector,
  type StreamingDetectorConfig,
  type StreamingScore,
} from "../../src/analytics/streaming/index.js";
import { packFloat64, unpackFloat64 } from "../../src/analytics/streaming/packedArray.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const LOW = 0.6; // the schema's default thresholds.low

/** Box-Muller over the seeded generator. */
function gaussian(seed: number): () => number {
  const next = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

const config: StreamingDetectorConfig = { method: "median-mad", windowMs: HOUR, seasonality: "none" };

function run(d: StreamingDetector, values: readonly number[], t0 = 0, stepMs = MINUTE): StreamingScore[] {
  return values.map((x, i) => d.observe(t0 + i * stepMs, x));
}

function noise(n: number, seed: number, level = 50, sigma = 2): number[] {
  const g = gaussian(seed);
  return Array.from({ length: n }, () => level + sigma * g());
}

describe.each(["median-mad", "ewma"] as const)("StreamingDetector (%s)", (method) => {
  const cfg = { ...config, method };

  it("keeps a stationary noisy series below LOW for at least 99% of points after learning", () => {
    for (const seed of [1, 2, 3]) {
      const d = new StreamingDetector(cfg);
      const scores = run(d, noise(5000, seed)).slice(STREAMING_DEFAULTS.learningSamples);
      const below = scores.filter((s) => s.likelihood < LOW).length;
      expect(below / scores.length).toBeGreaterThanOrEqual(0.99);
    }
  });

  it("detects a level shift and a spike with the likelihood above 0.9, one alarm per fault", () => {
    const values = noise(3000, 7);
    for (let i = 1500; i < 1560; i++) {
      values[i] = (values[i] as number) + 20; // level shift of 10 sigma for an hour, then back
    }
    values[2500] = (values[2500] as number) + 40; // a spike of 20 sigma
    const d = new StreamingDetector(cfg);
    const scores = run(d, values);
    const peak = (from: number, to: number) => Math.max(...scores.slice(from, to).map((s) => s.likelihood));
    expect(peak(1500, 1510)).toBeGreaterThan(0.9);
    expect(peak(2500, 2501)).toBeGreaterThan(0.9);
    const alarms = scores.flatMap((s, i) => (s.alarm ? [i] : []));
    const inShift = alarms.filter((i) => i >= 1500 && i < 1620);
    const atSpike = alarms.filter((i) => i >= 2500 && i < 2520);
    expect(inShift.length).toBe(1);
    expect(atSpike).toEqual([2500]);
    expect(alarms.length - inShift.length - atSpike.length).toBeLessThanOrEqual(1);
  });
});

describe("StreamingDetector", () => {
  it("scores 0 and never alarms during the learning period", () => {
    const d = new StreamingDetector({ ...config, tuning: { learningSamples: 500 } });
    const values = noise(500, 11);
    values[400] = 1e6;
    const scores = run(d, values);
    expect(scores.every((s) => s.status === "learning" && s.likelihood === 0 && !s.alarm)).toBe(true);
  });

  it("ignores NaN, Infinity, bad and uncertain quality and time going back: toJSON unchanged, counted", () => {
    const d = new StreamingDetector(config);
    run(d, noise(1000, 5));
    const before = JSON.stringify(d.toJSON());
    const t = 1000 * MINUTE;
    expect(d.observe(t, Number.NaN).skipped).toBe("non-finite");
    expect(d.observe(t, Number.POSITIVE_INFINITY).skipped).toBe("non-finite");
    expect(d.observe(t, Number.NEGATIVE_INFINITY).skipped).toBe("non-finite");
    expect(d.observe(Number.NaN, 50).skipped).toBe("non-finite");
    expect(d.observe(t, 1e9, "bad").skipped).toBe("bad-quality");
    expect(d.observe(t, 1e9, "uncertain").skipped).toBe("bad-quality");
    expect(d.observe(0, 50).skipped).toBe("out-of-order");
    expect(JSON.stringify(d.toJSON())).toBe(before);
    expect(d.stats()).toMatchObject({ skippedNonFinite: 4, skippedBadQuality: 2, skippedOutOfOrder: 1 });
    // And a detector that never saw them scores the rest identically.
    const clean = StreamingDetector.fromJSON(JSON.parse(before));
    const rest = noise(200, 6);
    expect(run(d, rest, t)).toEqual(run(clean, rest, t));
  });

  it.each([
    ["median-mad", "none"],
    ["ewma", "none"],
    ["median-mad", "daily"],
    ["ewma", "weekly"],
  ] as const)("continues identically after a JSON round trip (%s, %s)", (method, seasonality) => {
    const values = noise(6000, 21);
    values[4000] = 500;
    const a = new StreamingDetector({ method, windowMs: HOUR, seasonality });
    run(a, values.slice(0, 3000));
    const b = StreamingDetector.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    const t0 = 3000 * MINUTE;
    expect(run(b, values.slice(3000), t0)).toEqual(run(a, values.slice(3000), t0));
    expect(b.toJSON()).toEqual(a.toJSON());
  });

  it.each(["median-mad", "ewma"] as const)(
    "reports the centre and scale its z was measured against, null while there is no baseline (%s)",
    (method) => {
      const d = new StreamingDetector({ ...config, method });
      const values = noise(2000, 13);
      const scores = run(d, values);
      const minPoints = STREAMING_DEFAULTS.minBaselinePoints;
      expect(
        scores.slice(0, minPoints).every((s) => s.z === null && s.expected === null && s.scale === null),
      ).toBe(true);
      scores.slice(minPoints).forEach((s, i) => {
        expect(s.z).toBe(
          Math.abs((values[minPoints + i] as number) - (s.expected as number)) / (s.scale as number),
        );
      });
      const late = scores.slice(1000);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(mean(late.map((s) => s.expected as number))).toBeCloseTo(50, 0);
      expect(mean(late.map((s) => s.scale as number))).toBeGreaterThan(1.6);
      expect(mean(late.map((s) => s.scale as number))).toBeLessThan(2.4);
      expect(d.observe(3000 * MINUTE, Number.NaN)).toMatchObject({ expected: null, scale: null });
    },
  );

  it("refuses a state of another version or a malformed one, naming the problem", () => {
    const d = new StreamingDetector(config);
    run(d, noise(200, 3));
    const state = JSON.parse(JSON.stringify(d.toJSON()));
    expect(() => StreamingDetector.fromJSON({ ...state, version: 99 })).toThrow(/version 99/);
    expect(() => StreamingDetector.fromJSON({ ...state, version: 1 })).toThrow(/version 1 .*no longer read/);
    expect(() =>
      StreamingDetector.fromJSON({ ...state, likelihood: { ...state.likelihood, recentTotal: "x" } }),
    ).toThrow(/likelihood.recentTotal/);
    const times = Array.from(unpackFloat64(state.baseline.window.times, 4096)).reverse();
    const window = { ...state.baseline.window, times: packFloat64(times, true) };
    expect(() => StreamingDetector.fromJSON({ ...state, baseline: { ...state.baseline, window } })).toThrow(
      /baseline.window: window times are not ascending/,
    );
    const short = { ...state.baseline.window, values: packFloat64([1, 2, 3]) };
    expect(() =>
      StreamingDetector.fromJSON({ ...state, baseline: { ...state.baseline, window: short } }),
    ).toThrow(/baseline.window: window holds \d+ times and 3 values/);
    const nan = { ...state.likelihood, blockMeans: packFloat64([Number.NaN]) };
    expect(() => StreamingDetector.fromJSON({ ...state, likelihood: nan })).toThrow(
      /likelihood: .*non-finite/,
    );
    expect(() =>
      StreamingDetector.fromJSON({ ...state, likelihood: { ...state.likelihood, recent: "not base64!" } }),
    ).toThrow(/likelihood: packed array is not base64/);
    expect(() => StreamingDetector.fromJSON(null)).toThrow(/invalid/);
  });

  it("keeps memory bounded on a long window over a fast signal, counting what it thins", () => {
    const d = new StreamingDetector({ ...config, windowMs: 24 * HOUR, tuning: { maxBaselinePoints: 512 } });
    run(d, noise(20_000, 4), 0, 1000); // 1 Hz for 5.5 h into a 1-day window
    expect(d.stats().baselinePoints).toBeLessThanOrEqual(512);
    expect(d.stats().thinned).toBeGreaterThan(18_000);
  });
});

describe("StreamingDetector with daily seasonality", () => {
  /** 1/min: 50 + 10 sin(2 pi hour/24) + N(0, 0.5); 21 days and 18 hours, up to the trough. */
  const MINUTES = 21 * 1440 + 18 * 60;
  function dailySine(seed: number): number[] {
    const g = gaussian(seed);
    return Array.from(
      { length: MINUTES },
      (_, i) => 50 + 10 * Math.sin((2 * Math.PI * i) / 1440) + 0.5 * g(),
    );
  }
  /** The peak value, 60, for 30 minutes at hour 18 of day 21 (where 40 is expected). */
  const wrongHour = Array.from({ length: 30 }, () => 60);
  const seasonal: StreamingDetectorConfig = { method: "median-mad", windowMs: HOUR, seasonality: "daily" };

  it("does not flag the daily peaks once learnt, but flags a peak at the wrong hour", () => {
    const d = new StreamingDetector(seasonal);
    const scores = run(d, dailySine(9));
    // Days 7..20 (slots learnt after 3 days): the peaks (hour 6, sin = 1) stay quiet.
    const peaks = scores.filter((_, i) => i >= 7 * 1440 && Math.abs((i % 1440) - 360) < 30);
    expect(Math.max(...peaks.map((s) => s.likelihood))).toBeLessThan(LOW);
    expect(peaks.some((s) => s.alarm)).toBe(false);
    const wrong = run(d, wrongHour, MINUTES * MINUTE);
    expect(Math.max(...wrong.map((s) => s.likelihood))).toBeGreaterThan(0.9);
    expect(wrong.filter((s) => s.alarm).length).toBe(1);
  });

  it("would miss the wrong-hour peak without seasonality over a day-long window", () => {
    const d = new StreamingDetector({ ...seasonal, seasonality: "none", windowMs: 24 * HOUR });
    run(d, dailySine(9));
    const wrong = run(d, wrongHour, MINUTES * MINUTE);
    expect(Math.max(...wrong.map((s) => s.likelihood))).toBeLessThan(LOW);
  });
});
