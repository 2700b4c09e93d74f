/**
 * Streaming detector benchmark (issue #6 budget: "streaming detector <= 5 us per tag value").
 * ns per observed value for each method and seasonality, in steady state (window full), over two
 * window shapes: 1 h at 1 Hz (3600 points in the median window) and 1 day at 1/min (1440 points).
 * A section of `npm run bench:analytics`. The machine is shared: each figure is the best and the
 * median of ROUNDS timed rounds.
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

const CASES: readonly Pick<StreamingDetectorConfig, "method" | "seasonality">[] = [
  { method: "median-mad", seasonality: "none" },
  { method: "ewma", seasonality: "none" },
  { method: "median-mad", seasonality: "daily" },
  { method: "median-mad", seasonality: "weekly" },
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

function measure(shape: Shape, c: (typeof CASES)[number]) {
  const detector = new StreamingDetector({ ...c, windowMs: shape.windowMs });
  // Warm up past the learning period and past two full windows (the median window is full).
  const warm = Math.max(2 * Math.ceil(shape.windowMs / shape.stepMs), 5000);
  const values = series(warm + ROUNDS * TIMED_VALUES, 42);
  let ts = 0;
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
  const state = detector.toJSON();
  return {
    shape: shape.name,
    ...c,
    nsPerValueBest: Math.round(rounds[0] as number),
    nsPerValueMedian: Math.round(rounds[ROUNDS >> 1] as number),
    windowPoints: state.baseline.window?.values.length ?? null,
    stateJsonBytes: JSON.stringify(state).length,
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
