/**
 * What the benchmark sections of the per-device vector detectors share (issue #6 item 8: "µs per
 * sample per detector (single and batched), model load time"): best-and-median timing over
 * repeated runs (the machine is shared), seeded synthetic rows of two hidden causes, and scoring
 * the same rows one by one and in a batch. Used by analyticsIsolationForest.ts and
 * analyticsAutoencoder.ts.
 */
import { seededRandom } from "../../../src/analytics/random.js";

/** Timed repetitions of each measurement; the report gives the best and the median. */
export const RUNS = 9;

/** Best and median of repeated runs, ms. */
export interface Timing {
  readonly best: number;
  readonly median: number;
}

/** The scoring calls both detectors have. */
export interface VectorScorer {
  score(sample: Float64Array): number | undefined;
  scoreBatch(data: { values: Float64Array; dims: number }, out: Float64Array): unknown;
}

export const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** The seeded draws a row generator may make: uniform in [0, 1) and standard normal. */
export interface Draws {
  readonly random: () => number;
  readonly normal: () => number;
}

/**
 * `count` rows of `dims` features, flat and row-major: each row draws two hidden causes `a` and
 * `b` (standard normal), then `fill` writes its features from them (drawing noise from `draws`).
 */
export function twoCauseRows(
  count: number,
  dims: number,
  seed: number,
  fill: (row: Float64Array, a: number, b: number, draws: Draws) => void,
): Float64Array {
  const random = seededRandom(seed);
  // Box-Muller.
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const draws = { random, normal };
  const values = new Float64Array(count * dims);
  for (let r = 0; r < count; r++) {
    const a = normal();
    const b = normal();
    fill(values.subarray(r * dims, (r + 1) * dims), a, b, draws);
  }
  return values;
}

/** Times `runs` calls of `run`. */
export function timings(runs: number, run: () => unknown): Timing {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  times.sort((x, y) => x - y);
  return { best: times[0] ?? Number.NaN, median: times[times.length >> 1] ?? Number.NaN };
}

/** One warm-up call, then `runs` timed ones; rounded to 0.01 ms. */
export function warmTimings(runs: number, run: () => unknown): Timing {
  run();
  const t = timings(runs, run);
  return { best: round(t.best), median: round(t.median) };
}

/** A timing of `samples` samples as µs per sample, rounded to 0.01 µs. */
export function perSample(t: Timing, samples: number): Timing {
  return { best: round((t.best * 1000) / samples), median: round((t.median * 1000) / samples) };
}

/** Each row of a flat row-major matrix as a view (no copy), as the daemon passes samples. */
export function rowViews(flat: Float64Array, dims: number): Float64Array[] {
  return Array.from({ length: flat.length / dims }, (_, r) => flat.subarray(r * dims, (r + 1) * dims));
}

/**
 * µs per sample scoring the rows of `flat` one by one and in one batch (each warmed up first),
 * and the sum of what was scored, for a checksum that keeps the loops from being optimised away.
 */
export function scoringTimes(
  scorer: VectorScorer,
  flat: Float64Array,
  dims: number,
  runs: number,
): { single: Timing; batched: Timing; sink: number } {
  const samples = rowViews(flat, dims);
  const out = new Float64Array(samples.length);
  let sink = 0;
  const scoreOneByOne = () => {
    for (const sample of samples) {
      sink += scorer.score(sample) ?? 0;
    }
  };
  const scoreBatch = () => {
    scorer.scoreBatch({ values: flat, dims }, out);
    sink += out[0] ?? 0;
  };
  scoreOneByOne();
  scoreBatch();
  const single = timings(runs, scoreOneByOne);
  const batched = timings(runs, scoreBatch);
  return { single: perSample(single, samples.length), batched: perSample(batched, samples.length), sink };
}
