/**
 * The autoencoder section of the analytics benchmark (issue #6 item 8; budgets: <= 200 µs per
 * sample single, <= 20 µs batched, model load <= 300 ms). Training time of 10,000 rows × 6
 * features × 50 epochs on the wasm backend (the default where tfjs-node is not installed), µs per
 * sample of the plain-JavaScript forward pass that scores live data, the same through tfjs-wasm's
 * predict for comparison, and the time to load a saved model from a file (read, parse, check,
 * construct). Data: two hidden causes driving six tags (y = a·x + noise), 1 % of the scored rows
 * with one tag off its correlation.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Autoencoder } from "../../src/analytics/autoencoder/autoencoder.js";
import { parseAutoencoderJson } from "../../src/analytics/autoencoder/autoencoderJson.js";
import { loadTensorflow } from "../../src/analytics/autoencoder/backend.js";
import { tfModelFromLayers } from "../../src/analytics/autoencoder/tfModel.js";
import { trainAutoencoder } from "../../src/analytics/autoencoder/train.js";
import {
  perSample,
  RUNS,
  round,
  rowViews,
  scoringTimes,
  timings,
  twoCauseRows,
  warmTimings,
} from "./support/vectorDetectorBench.js";

const DIMS = 6;
const TRAIN_ROWS = 10_000;
const OPTIONS = { backend: "wasm", epochs: 50, hiddenUnits: [8, 4], seed: 1 } as const;
const SCORE_ROWS = 20_000;
/** tfjs predict one row at a time is slow: fewer rows keep the run short. */
const TFJS_SINGLE_ROWS = 2_000;

/** Six tags of two hidden causes; `brokenShare` of the rows have one tag off its correlation. */
function syntheticRows(count: number, seed: number, brokenShare: number): Float64Array {
  return twoCauseRows(count, DIMS, seed, (row, a, b, { random, normal }) => {
    const means = [10 + 2 * a, 400 - 3 * a, 0.9 + 0.02 * b, 3 * b + a, 50 + 4 * a + 2 * b, 20 * b];
    for (let f = 0; f < DIMS; f++) {
      row[f] = (means[f] as number) * (1 + 0.01 * normal());
    }
    if (random() < brokenShare) {
      const f = Math.floor(random() * DIMS);
      row[f] = (row[f] as number) * 1.2;
    }
  });
}

export async function benchAutoencoder() {
  const { tf, selection } = await loadTensorflow(OPTIONS.backend);
  const training = { values: syntheticRows(TRAIN_ROWS, 21, 0), dims: DIMS };
  const trainStart = performance.now();
  const model = await trainAutoencoder(training, OPTIONS);
  const trainMs = performance.now() - trainStart;

  const flat = syntheticRows(SCORE_ROWS, 22, 0.01);
  const scored = scoringTimes(model, flat, DIMS, RUNS);
  let sink = scored.sink;

  // The same errors through tfjs-wasm: standardise, predict, mean squared difference, read back.
  const json = model.toJSON();
  const tfModel = tfModelFromLayers(tf, parseAutoencoderJson(json).layers);
  const mean = tf.tensor1d(json.standardisation.mean);
  const std = tf.tensor1d(json.standardisation.std);
  const tfErrors = (values: Float64Array, rows: number): Float32Array =>
    tf.tidy(() => {
      const z = tf.tensor2d(Float32Array.from(values), [rows, DIMS]).sub(mean).div(std);
      const reconstruction = tfModel.predict(z) as typeof z;
      return reconstruction.sub(z).square().mean(1).dataSync() as Float32Array;
    });
  const tfSamples = rowViews(flat.subarray(0, TFJS_SINGLE_ROWS * DIMS), DIMS);
  const tfSingle = () => {
    for (const sample of tfSamples) {
      sink += tfErrors(sample, 1)[0] ?? 0;
    }
  };
  const tfBatch = () => {
    sink += tfErrors(flat, SCORE_ROWS)[0] ?? 0;
  };
  tfSingle();
  tfBatch();
  const tfjsSingle = timings(3, tfSingle);
  const tfjsBatched = timings(RUNS, tfBatch);
  tf.dispose([mean, std]);
  tfModel.dispose();

  // Load from a file, as the daemon does at start: read, parse, validate, construct.
  const dir = mkdtempSync(join(tmpdir(), "edgewarden-bench-autoencoder-"));
  const file = join(dir, "autoencoder.json");
  const text = JSON.stringify(model);
  writeFileSync(file, text);
  const loadMs = warmTimings(RUNS, () => Autoencoder.fromJSON(JSON.parse(readFileSync(file, "utf8"))));
  rmSync(dir, { recursive: true, force: true });

  const anomalous = model.scoreBatch({ values: flat, dims: DIMS }).filter((e) => e > model.threshold).length;
  return {
    options: { ...OPTIONS, dims: DIMS, rows: TRAIN_ROWS, batchSize: model.training.batchSize },
    backend: selection,
    trainMs: round(trainMs, 0),
    validation: model.validation,
    flaggedShareOfScored: round(anomalous / SCORE_ROWS, 4),
    scoreUsPerSample: {
      single: scored.single,
      batched: scored.batched,
      samples: SCORE_ROWS,
    },
    tfjsWasmPredictUsPerSample: {
      single: perSample(tfjsSingle, TFJS_SINGLE_ROWS),
      batched: perSample(tfjsBatched, SCORE_ROWS),
    },
    modelJsonBytes: Buffer.byteLength(text),
    loadMs,
    target: { singleUsPerSample: 200, batchedUsPerSample: 20, loadMs: 300 },
    // Keeps the scoring loops from being optimised away.
    checksum: round(sink, 3),
  };
}
