/**
 * Training the dense autoencoder with TensorFlow.js (issue #6 item 1c; item 5 runs it off the poll
 * path in a worker thread and draws a progress bar from onEpoch). Rows with a non-finite value
 * are skipped and counted; the rest are sub-sampled (at most maxRows), split into fitted and
 * held-out rows, standardised, and fitted with Adam on the mean squared reconstruction error. The
 * weights are then copied out and the TensorFlow.js model disposed: the Autoencoder scores in
 * plain JavaScript. The threshold is the thresholdPercentile of the fitted rows' errors.
 *
 * TensorFlow.js is imported here only through loadTensorflow() (backend.ts), on the first call,
 * so importing this module costs nothing until a model is trained.
 */
import type { Tensor2D } from "@tensorflow/tfjs";
import { percentileFromTable, QUANTILE_STEPS, quantileTable } from "../isolationForest/scoreQuantiles.js";
import { finiteRows, type Rows } from "../isolationForest/trainingRows.js";
import { seededRandom } from "../random.js";
import { Autoencoder } from "./autoencoder.js";
import type { AutoencoderModel, AutoencoderValidation } from "./autoencoderModel.js";
import { type BackendChoice, loadTensorflow, type Tensorflow } from "./backend.js";
import type { DenseLayer } from "./denseNetwork.js";
import { fitStandardisation, standardiseRows } from "./standardisation.js";
import { buildTfModel, extractLayers, layerSpecs } from "./tfModel.js";
import { epochOrder, splitTrainingRows, type TrainingSplit } from "./trainingSet.js";

export interface AutoencoderOptions {
  /** Encoder widths; the decoder mirrors them (config default [8, 4]: 8-4-8). */
  readonly hiddenUnits?: readonly number[];
  /** Passes over the fitted rows (config default 50). */
  readonly epochs?: number;
  /** Percentile of the training errors that becomes the threshold (config default 99.5). */
  readonly thresholdPercentile?: number;
  /** Seed of the sample, the split, the initial weights and the epoch order. */
  readonly seed?: number;
  /** Config analytics.backend. */
  readonly backend?: BackendChoice;
  /** A name per feature (the configured tags); default "feature0", "feature1", ... */
  readonly features?: readonly string[];
  /** At most this many rows are used (a seeded sample), so training on a Pi stays in minutes. */
  readonly maxRows?: number;
  /** Share of the used rows held out for the validation figures. */
  readonly validationShare?: number;
  /** Rows per gradient step; default from the number of rows (see defaultBatchSize). */
  readonly batchSize?: number;
  /** Adam's step size. */
  readonly learningRate?: number;
}

export const AUTOENCODER_DEFAULTS = {
  hiddenUnits: [8, 4],
  epochs: 50,
  thresholdPercentile: 99.5,
  seed: 1,
  backend: "auto",
  maxRows: 50_000,
  validationShare: 0.1,
  // Larger than Adam's usual 0.001: the networks are tiny and the epochs few.
  learningRate: 0.01,
} as const;

/** Fewer finite rows than this are refused: too few to fit, hold out and set a percentile from. */
export const MIN_TRAINING_ROWS = 20;

export interface EpochProgress {
  /** 1-based. */
  readonly epoch: number;
  readonly epochs: number;
  /** Mean squared error over the fitted rows during this epoch (standardised units). */
  readonly loss: number;
  /** The same over the held-out rows after it. */
  readonly valLoss: number;
}

export interface TrainingHooks {
  /** Called after every epoch, e.g. to draw a progress bar. */
  readonly onEpoch?: (progress: EpochProgress) => void;
  /** Checked between epochs: an aborted signal stops training (the daemon is stopping). */
  readonly signal?: AbortSignal;
}

type Settings = Required<Omit<AutoencoderOptions, "features" | "batchSize">> & {
  readonly features: readonly string[] | undefined;
  readonly batchSize: number | undefined;
};

/**
 * About 100 gradient steps per epoch, in powers of two between 16 and 256: small sets still get
 * enough steps to converge in 50 epochs, large ones do not pay TensorFlow.js's per-step overhead
 * (about a millisecond on wasm) thousands of times per epoch.
 */
export function defaultBatchSize(rows: number): number {
  const power = 2 ** Math.round(Math.log2(Math.max(1, rows / 100)));
  return Math.min(256, Math.max(16, power));
}

function settings(options: AutoencoderOptions): Settings {
  const s: Settings = {
    ...AUTOENCODER_DEFAULTS,
    ...options,
    features: options.features,
    batchSize: options.batchSize,
  };
  const positiveInteger = (name: string, value: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isInteger(value) || value < 1 || value > max) {
      throw new RangeError(`${name} must be an integer in [1, ${max}], got ${value}`);
    }
  };
  if (s.hiddenUnits.length < 1) {
    throw new RangeError("hiddenUnits must name at least one layer");
  }
  for (const units of s.hiddenUnits) {
    positiveInteger("hiddenUnits", units, 1024);
  }
  positiveInteger("epochs", s.epochs);
  positiveInteger("maxRows", s.maxRows);
  if (s.batchSize !== undefined) {
    positiveInteger("batchSize", s.batchSize);
  }
  if (!Number.isInteger(s.seed)) {
    throw new RangeError(`seed must be an integer, got ${s.seed}`);
  }
  if (!(s.thresholdPercentile >= 0 && s.thresholdPercentile <= 100)) {
    throw new RangeError(`thresholdPercentile must be within [0, 100], got ${s.thresholdPercentile}`);
  }
  if (!(s.validationShare > 0 && s.validationShare < 1)) {
    throw new RangeError(`validationShare must be within (0, 1), got ${s.validationShare}`);
  }
  if (!(s.learningRate > 0 && Number.isFinite(s.learningRate))) {
    throw new RangeError(`learningRate must be a positive number, got ${s.learningRate}`);
  }
  return s;
}

/** Fits the network with TensorFlow.js and returns its weights; every tensor is disposed on the way out. */
async function fitNetwork(
  tf: Tensorflow,
  split: TrainingSplit,
  fitZ: Float32Array,
  validationZ: Float32Array,
  s: Settings & { readonly batchSize: number },
  random: () => number,
  hooks: TrainingHooks,
): Promise<DenseLayer[]> {
  const { dims } = split;
  const specs = layerSpecs(dims, s.hiddenUnits);
  const model = buildTfModel(tf, dims, specs, s.seed);
  const optimizer = tf.train.adam(s.learningRate);
  model.compile({ optimizer, loss: "meanSquaredError" });
  const xs = tf.tensor2d(fitZ, [split.fitCount, dims]);
  const xv = tf.tensor2d(validationZ, [split.validationCount, dims]);
  try {
    for (let epoch = 1; epoch <= s.epochs; epoch++) {
      hooks.signal?.throwIfAborted();
      // Our own seeded order each epoch: fit()'s shuffle draws from Math.random.
      const order = epochOrder(split.fitCount, random);
      const xe = tf.tidy(() => tf.gather(xs, tf.tensor1d(order, "int32"))) as Tensor2D;
      try {
        const history = await model.fit(xe, xe, {
          epochs: 1,
          batchSize: s.batchSize,
          shuffle: false,
          validationData: [xv, xv],
          verbose: 0,
        });
        const loss = Number(history.history.loss?.[0]);
        const valLoss = Number(history.history.val_loss?.[0]);
        hooks.onEpoch?.({ epoch, epochs: s.epochs, loss, valLoss });
      } finally {
        xe.dispose();
      }
    }
    return extractLayers(model, specs);
  } finally {
    tf.dispose([xs, xv]);
    model.dispose();
    // The model disposes an optimizer only when it made it from a name; this one is ours.
    optimizer.dispose();
  }
}

function mean(values: Float64Array): number {
  let sum = 0;
  for (const v of values) {
    sum += v;
  }
  return sum / values.length;
}

/**
 * Trains an autoencoder on `rows` (feature vectors of one device's normal operation). Throws
 * RangeError on bad options or fewer than MIN_TRAINING_ROWS finite rows, and the signal's reason
 * when aborted.
 */
export async function trainAutoencoder(
  rows: Rows,
  options: AutoencoderOptions = {},
  hooks: TrainingHooks = {},
): Promise<Autoencoder> {
  const s = settings(options);
  const finite = finiteRows(rows);
  if (finite.count < MIN_TRAINING_ROWS) {
    throw new RangeError(
      `an autoencoder needs at least ${MIN_TRAINING_ROWS} finite rows, got ${finite.count} (${finite.skipped} skipped as non-finite)`,
    );
  }
  const { dims } = finite;
  const features = s.features ?? Array.from({ length: dims }, (_, f) => `feature${f}`);
  if (features.length !== dims) {
    throw new RangeError(`features names ${features.length} features, the rows have ${dims}`);
  }
  const random = seededRandom(s.seed);
  const split = splitTrainingRows(finite, s.maxRows, s.validationShare, random);
  const standardisation = fitStandardisation(split.fit, dims, split.fitCount);
  const batchSize = s.batchSize ?? defaultBatchSize(split.fitCount);
  const { tf, selection } = await loadTensorflow(s.backend);
  const layers = await fitNetwork(
    tf,
    split,
    standardiseRows(split.fit, dims, split.fitCount, standardisation),
    standardiseRows(split.validation, dims, split.validationCount, standardisation),
    { ...s, batchSize },
    random,
    hooks,
  );

  const unthresholded: AutoencoderModel = {
    dims,
    features: [...features],
    layers,
    standardisation,
    thresholdPercentile: s.thresholdPercentile,
    threshold: 0,
    errorQuantiles: new Float64Array(QUANTILE_STEPS + 1),
    training: {
      finiteRows: finite.count,
      skippedRows: finite.skipped,
      fitRows: split.fitCount,
      validationRows: split.validationCount,
      maxRows: s.maxRows,
      hiddenUnits: [...s.hiddenUnits],
      epochs: s.epochs,
      batchSize,
      learningRate: s.learningRate,
      seed: s.seed,
      backend: selection.backend,
    },
    validation: {
      trainLoss: 0,
      validationLoss: 0,
      errorPercentiles: { p50: 0, p90: 0, p99: 0, max: 0 },
      aboveThreshold: 0,
    },
  };
  // Score the fitted and held-out rows with the plain forward pass that will score live data.
  const scorer = new Autoencoder(unthresholded);
  const fitErrors = scorer.scoreBatch({ values: split.fit, dims });
  const validationErrors = scorer.scoreBatch({ values: split.validation, dims });
  // Finite inputs give a NaN error only through a NaN weight: refuse to make a model that its
  // own loader (autoencoderJson.ts) would refuse.
  if (fitErrors.some((e) => !Number.isFinite(e))) {
    throw new Error(`training diverged (non-finite weights); try a learningRate below ${s.learningRate}`);
  }
  const errorQuantiles = quantileTable(fitErrors);
  const threshold = percentileFromTable(errorQuantiles, s.thresholdPercentile);
  const validationTable = quantileTable(validationErrors);
  const validation: AutoencoderValidation = {
    trainLoss: mean(fitErrors),
    validationLoss: mean(validationErrors),
    errorPercentiles: {
      p50: percentileFromTable(validationTable, 50),
      p90: percentileFromTable(validationTable, 90),
      p99: percentileFromTable(validationTable, 99),
      max: percentileFromTable(validationTable, 100),
    },
    aboveThreshold: validationErrors.filter((e) => e > threshold).length / split.validationCount,
  };
  return new Autoencoder({ ...unthresholded, threshold, errorQuantiles, validation });
}
