/**
 * Streaming detector benchmark (issue #6 budget: "streaming detector <= 5 us per tag value").
 * ns per observed value for each method and seasonality, in steady state (window full), over two
 * window shapes: 1 h at 1 Hz (3600 points in the median window) and 1 day at 1/min (1440 points).
 * Daily seasonality runs twice, in UTC and in Europe/Berlin (the time-zone lookups are cached per
 * span of constant offset, zoneOffset.ts). Also the saved state's size and the time to save
 * (toJSON + stringify) and restore (parse + fromJSON) it. A section of `npm run bench:analytics`.
 * The machine is shared: each figure is the best and the median of ROUNDS timed rounds.
 */
import { seededRandom } from "../../src/analytics/random.js";
import { StreamingDetector, type StreamingDetectorConfig } from "../../src/analytics/streaming/index.js";

const ROUNDS = 9;
const TIMED_VALUES = 20_000;

interface Shape {
  readonly name: string;
  readonly windowMs: number;
  readonly stepMs: number;
}

const SHAPES: readonly Shape[] = [
  { name: "1h@1Hz", windowMs: 3_600_000, stepMs: 1000 },
  { name: "1d@1/min", windowMs: 86_400_000, stepMs: 60_000 },
];

interface Case {
  readonly method: StreamingDetectorConfig["method"];
  readonly seasonality: StreamingDetectorConfig["seasonality"];
  readonly timeZone: string;
}

const CASES: readonly Case[] = [
  { method: "median-mad", seasonality: "none", timeZone: "UTC" },
  { method: "ewma", seasonality: "none", timeZone: "UTC" },
  { method: "median-mad", seasonality: "daily", timeZone: "UTC" },
  { method: "median-mad", seasonality: "daily", timeZone: "Europe/Berlin" },
  { method: "median-mad", seasonality: "weekly", timeZone: "UTC" },
];

function series(n: number, seed: number): Float64Array {
  const next = seededRandom(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const g = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    out[i] = 50 + 2 * g + (i % 997 === 0 ? 30 : 0);
  }
  return out;
}

/** Median of `rounds` timings of fn, in ms. */
function medianMs(rounds: number, fn: () => void): number {
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return Math.round((times[rounds >> 1] as number) * 100) / 100;
}

function measure(shape: Shape, c: Case) {
  const { method, seasonality, timeZone } = c;
  const detector = new StreamingDetector({
    method,
    seasonality,
    windowMs: shape.windowMs,
    tuning: { timeZone },
  });
  // Warm up past the learning period and past two full windows (the median window is full).
  const warm = Math.max(2 * Math.ceil(shape.windowMs / shape.stepMs), 5000);
  const values = series(warm + ROUNDS * TIMED_VALUES, 42);
  // A Monday in March: the timed rounds of the 1/min shape cross Berlin's change to summer time.
  let ts = Date.UTC(2026, 2, 2);
  let i = 0;
  for (; i < warm; i++) {
    detector.observe(ts, values[i] as number);
    ts += shape.stepMs;
  }
  const rounds: number[] = [];
  let alarms = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    for (let k = 0; k < TIMED_VALUES; k++, i++) {
      if (detector.observe(ts, values[i] as number).alarm) {
        alarms++;
      }
      ts += shape.stepMs;
    }
    rounds.push(Number(process.hrtime.bigint() - start) / TIMED_VALUES);
  }
  rounds.sort((a, b) => a - b);
  const json = JSON.stringify(detector.toJSON());
  const stats = detector.stats();
  return {
    shape: shape.name,
    ...c,
    nsPerValueBest: Math.round(rounds[0] as number),
    nsPerValueMedian: Math.round(rounds[ROUNDS >> 1] as number),
    windowPoints: method === "median-mad" ? stats.baselinePoints : null,
    seasonalPoints: stats.seasonalPoints,
    stateJsonBytes: json.length,
    saveMs: medianMs(ROUNDS, () => JSON.stringify(detector.toJSON())),
    loadMs: medianMs(ROUNDS, () => StreamingDetector.fromJSON(JSON.parse(json))),
    alarms,
  };
}

/** The streaming section of scripts/bench/analytics.ts. */
export function benchStreaming() {
  return {
    note: `best and median of ${ROUNDS} rounds of ${TIMED_VALUES} values each`,
    budgetNsPerValue: 5000,
    results: SHAPES.flatMap((shape) => CASES.map((c) => measure(shape, c))),
  };
}
