/**
 * The isolation forest section of the analytics benchmark (issue #6 item 8; budget: <= 50 µs per
 * sample). Fit time of the configuration defaults (100 trees of ψ = 256) on 8 features, µs per
 * sample scored one by one and in a batch, and the model's JSON size and load time (budget for a
 * model load: <= 300 ms). Data: a seeded, correlated 8-D Gaussian with 1 % far outliers mixed
 * into the scored set, so walks have the lengths real data gives.
 */
import { fitIsolationForest, IsolationForest } from "../../src/analytics/isolationForest/isolationForest.js";
import { seededRandom } from "../../src/analytics/random.js";

const DIMS = 8;
const OPTIONS = { trees: 100, sampleSize: 256, seed: 1 };
const TRAIN_ROWS = [256, 10_000];
const SCORE_ROWS = 20_000;
/** Timed repetitions of each measurement; the report gives the best and the median. */
const RUNS = 9;

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Rows of a correlated 8-D Gaussian (feature f mixes two latent normals), `outlierShare` of them far out. */
function syntheticRows(count: number, seed: number, outlierShare: number): Float64Array {
  const random = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const values = new Float64Array(count * DIMS);
  for (let r = 0; r < count; r++) {
    const a = normal();
    const b = normal();
    const far = random() < outlierShare ? 8 : 0;
    for (let f = 0; f < DIMS; f++) {
      values[r * DIMS + f] = 10 * f + a * Math.cos(f) + b * Math.sin(f) + 0.3 * normal() + far;
    }
  }
  return values;
}

function timings(runs: number, run: () => void): { best: number; median: number } {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  times.sort((x, y) => x - y);
  return { best: times[0] ?? Number.NaN, median: times[times.length >> 1] ?? Number.NaN };
}

export function benchIsolationForest() {
  const fit: Record<string, { bestMs: number; medianMs: number }> = {};
  for (const rows of TRAIN_ROWS) {
    const data = { values: syntheticRows(rows, 11, 0), dims: DIMS };
    fitIsolationForest(data, OPTIONS); // warm-up
    const t = timings(Math.min(RUNS, 5), () => fitIsolationForest(data, OPTIONS));
    fit[`${rows}Rows`] = { bestMs: round(t.best), medianMs: round(t.median) };
  }

  const forest = fitIsolationForest({ values: syntheticRows(10_000, 11, 0), dims: DIMS }, OPTIONS);
  const flat = syntheticRows(SCORE_ROWS, 12, 0.01);
  const samples = Array.from({ length: SCORE_ROWS }, (_, r) => flat.subarray(r * DIMS, (r + 1) * DIMS));
  const out = new Float64Array(SCORE_ROWS);
  let sink = 0;
  const scoreOneByOne = () => {
    for (const sample of samples) {
      sink += forest.score(sample) ?? 0;
    }
  };
  const scoreBatch = () => {
    forest.scoreBatch({ values: flat, dims: DIMS }, out);
    sink += out[0] ?? 0;
  };
  scoreOneByOne();
  scoreBatch();
  const single = timings(RUNS, scoreOneByOne);
  const batched = timings(RUNS, scoreBatch);
  const perSample = (ms: number) => round((ms * 1000) / SCORE_ROWS);

  const text = JSON.stringify(forest);
  IsolationForest.fromJSON(JSON.parse(text)); // warm-up
  const load = timings(RUNS, () => IsolationForest.fromJSON(JSON.parse(text)));

  return {
    options: { ...OPTIONS, dims: DIMS },
    fitMs: fit,
    scoreUsPerSample: {
      single: { best: perSample(single.best), median: perSample(single.median) },
      batched: { best: perSample(batched.best), median: perSample(batched.median) },
      samples: SCORE_ROWS,
    },
    nodes: forest.toJSON().nodes.feature.length,
    modelJsonBytes: Buffer.byteLength(text),
    loadMs: { best: round(load.best), median: round(load.median) },
    target: { scoreUsPerSample: 50, loadMs: 300 },
    // Keeps the scoring loops from being optimised away.
    checksum: round(sink, 3),
  };
}
