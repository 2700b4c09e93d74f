/**
 * The isolation forest section of the analytics benchmark (issue #6 item 8; budget: <= 50 µs per
 * sample). Fit time of the configuration defaults (100 trees of ψ = 256) on 8 features, µs per
 * sample scored one by one and in a batch, and the model's JSON size and load time (budget for a
 * model load: <= 300 ms). Data: a seeded, correlated 8-D Gaussian with 1 % far outliers mixed
 * into the scored set, so walks have the lengths real data gives.
 */
import { fitIsolationForest, IsolationForest } from "../../src/analytics/isolationForest/isolationForest.js";
import { RUNS, round, scoringTimes, twoCauseRows, warmTimings } from "./support/vectorDetectorBench.js";

const DIMS = 8;
const OPTIONS = { trees: 100, sampleSize: 256, seed: 1 };
const TRAIN_ROWS = [256, 10_000];
const SCORE_ROWS = 20_000;

/** Rows of a correlated 8-D Gaussian (feature f mixes two latent normals), `outlierShare` of them far out. */
function syntheticRows(count: number, seed: number, outlierShare: number): Float64Array {
  return twoCauseRows(count, DIMS, seed, (row, a, b, { random, normal }) => {
    const far = random() < outlierShare ? 8 : 0;
    for (let f = 0; f < DIMS; f++) {
      row[f] = 10 * f + a * Math.cos(f) + b * Math.sin(f) + 0.3 * normal() + far;
    }
  });
}

export function benchIsolationForest() {
  const fit: Record<string, { bestMs: number; medianMs: number }> = {};
  for (const rows of TRAIN_ROWS) {
    const data = { values: syntheticRows(rows, 11, 0), dims: DIMS };
    const t = warmTimings(Math.min(RUNS, 5), () => fitIsolationForest(data, OPTIONS));
    fit[`${rows}Rows`] = { bestMs: t.best, medianMs: t.median };
  }

  const forest = fitIsolationForest({ values: syntheticRows(10_000, 11, 0), dims: DIMS }, OPTIONS);
  const scored = scoringTimes(forest, syntheticRows(SCORE_ROWS, 12, 0.01), DIMS, RUNS);

  const text = JSON.stringify(forest);
  const load = warmTimings(RUNS, () => IsolationForest.fromJSON(JSON.parse(text)));

  return {
    options: { ...OPTIONS, dims: DIMS },
    fitMs: fit,
    scoreUsPerSample: {
      single: scored.single,
      batched: scored.batched,
      samples: SCORE_ROWS,
    },
    nodes: forest.toJSON().nodes.feature.length,
    modelJsonBytes: Buffer.byteLength(text),
    loadMs: load,
    target: { scoreUsPerSample: 50, loadMs: 300 },
    // Keeps the scoring loops from being optimised away.
    checksum: round(scored.sink, 3),
  };
}
