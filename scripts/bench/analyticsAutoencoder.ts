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
import { seededRandom } from "../../src/analytics/random.js";

const DIMS = 6;
const TRAIN_ROWS = 10_000;
const OPTIONS = { backend: "wasm", epochs: 50, hiddenUnits: [8, 4], seed: 1 } as const;
const SCORE_ROWS = 20_000;
/** tfjs predict one row at a time is slow: fewer rows keep the run short. */
const TFJS_SINGLE_ROWS = 2_000;
/** Timed repetitions of each measurement; the report gives the best and the median. */
const RUNS = 9;

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Six tags of two hidden causes; `brokenShare` of the rows have one tag off its correlation. */
function syntheticRows(count: number, seed: number, brokenShare: number): Float64Array {
  const random = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const values = new Float64Array(count * DIMS);
  for (let r = 0; r < count; r++) {
    const a = normal();
    const b = normal();
    const row = [10 + 2 * a, 400 - 3 * a, 0.9 + 0.02 * b, 3 * b + a, 50 + 4 * a + 2 * b, 20 * b];
    for (let f = 0; f < DIMS; f++) {
      values[r * DIMS + f] = (row[f] as number) * (1 + 0.01 * normal());
    }
    if (random() < brokenShare) {
      const f = Math.floor(random() * DIMS);
      values[r * DIMS + f] = (values[r * DIMS + f] as number) * 1.2;
    }
  }
  return values;
}

async function timings(runs: number, run: () => unknown): Promise<{ best: number; median: number }> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((x, y) => x - y);
  return { best: times[0] ?? Number.NaN, median: times[times.length >> 1] ?? Number.NaN };
}

const perSample = (t: { best: number; median: number }, samples: number) => ({
  best: round((t.best * 1000) / samples),
  median: round((t.median * 1000) / samples),
});

export async function benchAutoencoder() {
  const { tf, selection } = await loadTensorflow(OPTIONS.backend);
  const training = { values: syntheticRows(TRAIN_ROWS, 21, 0), dims: DIMS };
  const trainStart = performance.now();
  const model = await trainAutoencoder(training, OPTIONS);
  const trainMs = performance.now() - trainStart;

  const flat = syntheticRows(SCORE_ROWS, 22, 0.01);
  const samples = Array.from({ length: SCORE_ROWS }, (_, r) => flat.subarray(r * DIMS, (r + 1) * DIMS));
  const out = new Float64Array(SCORE_ROWS);
  let sink = 0;
  const scoreOneByOne = () => {
    for (const sample of samples) {
      sink += model.score(sample) ?? 0;
    }
  };
  const scoreBatch = () => {
    model.scoreBatch({ values: flat, dims: DIMS }, out);
    sink += out[0] ?? 0;
  };
  scoreOneByOne();
  scoreBatch();
  const single = await timings(RUNS, scoreOneByOne);
  const batched = await timings(RUNS, scoreBatch);

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
  const tfSingle = () => {
    for (let r = 0; r < TFJS_SINGLE_ROWS; r++) {
      sink += tfErrors(samples[r] as Float64Array, 1)[0] ?? 0;
    }
  };
  const tfBatch = () => {
    sink += tfErrors(flat, SCORE_ROWS)[0] ?? 0;
  };
  tfSingle();
  tfBatch();
  const tfjsSingle = await timings(3, tfSingle);
  const tfjsBatched = await timings(RUNS, tfBatch);
  tf.dispose([mean, std]);
  tfModel.dispose();

  // Load from a file, as the daemon does at start: read, parse, validate, construct.
  const dir = mkdtempSync(join(tmpdir(), "edgewarden-bench-autoencoder-"));
  const file = join(dir, "autoencoder.json");
  const text = JSON.stringify(model);
  writeFileSync(file, text);
  const load = () => Autoencoder.fromJSON(JSON.parse(readFileSync(file, "utf8")));
  load(); // warm-up
  const loadTimes = await timings(RUNS, load);
  rmSync(dir, { recursive: true, force: true });

  const anomalous = model.scoreBatch({ values: flat, dims: DIMS }).filter((e) => e > model.threshold).length;
  return {
    options: { ...OPTIONS, dims: DIMS, rows: TRAIN_ROWS, batchSize: model.training.batchSize },
    backend: selection,
    trainMs: round(trainMs, 0),
    validation: model.validation,
    flaggedShareOfScored: round(anomalous / SCORE_ROWS, 4),
    scoreUsPerSample: {
      single: perSample(single, SCORE_ROWS),
      batched: perSample(batched, SCORE_ROWS),
      samples: SCORE_ROWS,
    },
    tfjsWasmPredictUsPerSample: {
      single: perSample(tfjsSingle, TFJS_SINGLE_ROWS),
      batched: perSample(tfjsBatched, SCORE_ROWS),
    },
    modelJsonBytes: Buffer.byteLength(text),
    loadMs: { best: round(loadTimes.best), median: round(loadTimes.median) },
    target: { singleUsPerSample: 200, batchedUsPerSample: 20, loadMs: 300 },
    // Keeps the scoring loops from being optimised away.
    checksum: round(sink, 3),
  };
}
