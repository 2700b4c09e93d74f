/**
 * The autoencoder's save format (issue #6 item 1c; item 5 stores it in the models directory with
 * its model card). A model file comes off disk and may be truncated, hand-edited or from another
 * version, so parseAutoencoderJson checks everything scoring relies on (layer shapes chain from
 * the features back to the features, every number finite, std positive, the quantile table
 * ordered) and says what is wrong. Parsing needs no TensorFlow.js: the daemon loads models
 * without initialising a backend.
 */
import * as z from "zod";
import { percentileFromTable, QUANTILE_STEPS } from "../isolationForest/scoreQuantiles.js";
import { parseSaved } from "../jsonProblems.js";
import type { AutoencoderModel } from "./autoencoderModel.js";
import { ACTIVATIONS, type DenseLayer } from "./denseNetwork.js";

export const AUTOENCODER_FORMAT = "edgewarden.autoencoder";
export const AUTOENCODER_FORMAT_VERSION = 1;
const SAVED_AUTOENCODER = { format: AUTOENCODER_FORMAT, version: AUTOENCODER_FORMAT_VERSION } as const;

/** Bounds on what a file may ask us to allocate (the config allows up to 4 layers of 256 units). */
const MAX_FEATURES = 1024;
const MAX_UNITS = 1024;
const MAX_LAYERS = 16;

/** A model load refused: the message says which field is wrong and how. */
export class AutoencoderFormatError extends Error {
  override readonly name = "AutoencoderFormatError";
  constructor(problem: string) {
    super(`autoencoder model: ${problem}`);
  }
}

const count = (min: number) => z.number().int().min(min);
// zod 4's z.number() refuses NaN and ±Infinity, so every number below is finite.
const numbers = (max: number) => z.array(z.number()).max(max);

const layerSchema = z.strictObject({
  inputs: count(1).max(MAX_UNITS),
  units: count(1).max(MAX_UNITS),
  activation: z.enum(ACTIVATIONS),
  /** inputs × units, row-major, as TensorFlow.js's dense kernel. */
  kernel: numbers(MAX_UNITS * MAX_UNITS),
  bias: numbers(MAX_UNITS),
});

const nonNegative = () => z.number().min(0);

const autoencoderJsonSchema = z.strictObject({
  format: z.literal(AUTOENCODER_FORMAT),
  version: z.literal(AUTOENCODER_FORMAT_VERSION),
  dims: count(1).max(MAX_FEATURES),
  features: z.array(z.string().min(1)).max(MAX_FEATURES),
  layers: z.array(layerSchema).min(2).max(MAX_LAYERS),
  standardisation: z.strictObject({
    mean: numbers(MAX_FEATURES),
    std: z.array(z.number().positive()).max(MAX_FEATURES),
  }),
  thresholdPercentile: z.number().min(0).max(100),
  threshold: nonNegative(),
  errorQuantiles: z.array(nonNegative()).length(QUANTILE_STEPS + 1),
  training: z.strictObject({
    finiteRows: count(1),
    skippedRows: count(0),
    fitRows: count(1),
    validationRows: count(1),
    maxRows: count(2),
    hiddenUnits: z.array(count(1).max(MAX_UNITS)).min(1).max(MAX_LAYERS),
    epochs: count(1),
    batchSize: count(1),
    learningRate: z.number().positive(),
    seed: z.number().int(),
    backend: z.string().min(1),
  }),
  validation: z.strictObject({
    trainLoss: nonNegative(),
    validationLoss: nonNegative(),
    errorPercentiles: z.strictObject({
      p50: nonNegative(),
      p90: nonNegative(),
      p99: nonNegative(),
      max: nonNegative(),
    }),
    aboveThreshold: z.number().min(0).max(1),
  }),
});

/** The JSON form of a model, as written by Autoencoder.toJSON(). */
export type AutoencoderJson = z.infer<typeof autoencoderJsonSchema>;

export function autoencoderToJson(model: AutoencoderModel): AutoencoderJson {
  return {
    format: AUTOENCODER_FORMAT,
    version: AUTOENCODER_FORMAT_VERSION,
    dims: model.dims,
    features: [...model.features],
    layers: model.layers.map((layer) => ({
      inputs: layer.inputs,
      units: layer.units,
      activation: layer.activation,
      kernel: Array.from(layer.kernel),
      bias: Array.from(layer.bias),
    })),
    standardisation: {
      mean: Array.from(model.standardisation.mean),
      std: Array.from(model.standardisation.std),
    },
    thresholdPercentile: model.thresholdPercentile,
    threshold: model.threshold,
    errorQuantiles: Array.from(model.errorQuantiles),
    training: { ...model.training, hiddenUnits: [...model.training.hiddenUnits] },
    validation: { ...model.validation, errorPercentiles: { ...model.validation.errorPercentiles } },
  };
}

/** The layers chain dims → ... → dims, and each holds exactly inputs × units weights and units biases. */
function checkLayers(json: AutoencoderJson): void {
  let width = json.dims;
  json.layers.forEach((layer, k) => {
    if (layer.inputs !== width) {
      const from = k === 0 ? `dims ${json.dims}` : `layers[${k - 1}].units ${width}`;
      throw new AutoencoderFormatError(`layers[${k}].inputs is ${layer.inputs}, expected ${from}`);
    }
    if (layer.kernel.length !== layer.inputs * layer.units) {
      throw new AutoencoderFormatError(
        `layers[${k}].kernel has ${layer.kernel.length} weights, expected inputs × units = ${layer.inputs * layer.units}`,
      );
    }
    if (layer.bias.length !== layer.units) {
      throw new AutoencoderFormatError(
        `layers[${k}].bias has ${layer.bias.length} entries, expected units = ${layer.units}`,
      );
    }
    width = layer.units;
  });
  if (width !== json.dims) {
    throw new AutoencoderFormatError(
      `the last layer has ${width} units, expected dims ${json.dims} (an autoencoder reconstructs its input)`,
    );
  }
}

function checkSummary(json: AutoencoderJson): void {
  const { features, standardisation, errorQuantiles: q } = json;
  for (const [key, length] of [
    ["features", features.length],
    ["standardisation.mean", standardisation.mean.length],
    ["standardisation.std", standardisation.std.length],
  ] as const) {
    if (length !== json.dims) {
      throw new AutoencoderFormatError(`${key} has ${length} entries, expected dims ${json.dims}`);
    }
  }
  for (let k = 1; k < q.length; k++) {
    if ((q[k] as number) < (q[k - 1] as number)) {
      throw new AutoencoderFormatError(
        `errorQuantiles[${k}] = ${q[k]} is below errorQuantiles[${k - 1}] = ${q[k - 1]}`,
      );
    }
  }
  // The threshold is read off the table; a file where they disagree was edited by hand or broken.
  const expected = percentileFromTable(Float64Array.from(q), json.thresholdPercentile);
  if (Math.abs(json.threshold - expected) > 1e-9 * Math.max(1, expected)) {
    throw new AutoencoderFormatError(
      `threshold ${json.threshold} is not errorQuantiles at ${json.thresholdPercentile} % (${expected})`,
    );
  }
}

/** Validates a parsed model file; throws AutoencoderFormatError naming the first problem found. */
export function parseAutoencoderJson(input: unknown): AutoencoderModel {
  const json = parseSaved(
    input,
    autoencoderJsonSchema,
    SAVED_AUTOENCODER,
    (problem) => new AutoencoderFormatError(problem),
  );
  checkLayers(json);
  checkSummary(json);
  const layers: DenseLayer[] = json.layers.map((layer) => ({
    inputs: layer.inputs,
    units: layer.units,
    activation: layer.activation,
    kernel: Float64Array.from(layer.kernel),
    bias: Float64Array.from(layer.bias),
  }));
  return {
    dims: json.dims,
    features: [...json.features],
    layers,
    standardisation: {
      mean: Float64Array.from(json.standardisation.mean),
      std: Float64Array.from(json.standardisation.std),
    },
    thresholdPercentile: json.thresholdPercentile,
    threshold: json.threshold,
    errorQuantiles: Float64Array.from(json.errorQuantiles),
    training: { ...json.training },
    validation: json.validation,
  };
}
