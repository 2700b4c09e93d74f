/**
 * A trained dense autoencoder over per-device feature vectors (issue #6 item 1c). A row that the
 * network, trained on normal history, cannot reconstruct is a combination of tags not seen in
 * training. Scoring is plain JavaScript over the extracted weights (denseNetwork.ts), so this
 * module does not import TensorFlow.js: trainAutoencoder() (train.ts) makes a model, fromJSON()
 * loads one, and neither score() nor fromJSON() needs a backend.
 *
 *   const model = await trainAutoencoder(rows, { hiddenUnits: [8, 4], epochs: 50, seed: 1 });
 *   const error = model.score(x);          // reconstruction error, or undefined if x is not finite
 *   model.probability(error)               // share of training rows reconstructed better
 *   error > model.threshold                // anomalous at the configured percentile
 *   model.explain(x)                       // which features the error came from
 */
import type { TagContribution } from "../findings.js";
import { cdfFromTable, percentileFromTable } from "../isolationForest/scoreQuantiles.js";
import { isFlatRows, type Rows, rowShape } from "../isolationForest/trainingRows.js";
import { type AutoencoderJson, autoencoderToJson, parseAutoencoderJson } from "./autoencoderJson.js";
import type { AutoencoderModel, AutoencoderTraining, AutoencoderValidation } from "./autoencoderModel.js";
import { DenseNetwork } from "./denseNetwork.js";

/** Standardised values are clamped to ±Z_LIMIT before the network (see #reconstruct). */
const Z_LIMIT = 1e9;

/** What drove one row's reconstruction error. */
export interface AutoencoderExplanation {
  /** The reconstruction error, as score() gives it. */
  readonly error: number;
  /**
   * One entry per feature, heaviest first: weight is the feature's share of the squared error
   * (the weights sum to 1), value the input, expected the network's reconstruction of it.
   */
  readonly tags: readonly TagContribution[];
}

export class Autoencoder {
  readonly dims: number;
  readonly features: readonly string[];
  readonly thresholdPercentile: number;
  /** Reconstruction errors above this are anomalous (the thresholdPercentile of training errors). */
  readonly threshold: number;
  readonly training: AutoencoderTraining;
  readonly validation: AutoencoderValidation;
  readonly #model: AutoencoderModel;
  readonly #network: DenseNetwork;
  readonly #mean: Float64Array;
  readonly #std: Float64Array;
  /** The standardised input of the row being scored; reused, scoring is synchronous. */
  readonly #z: Float64Array;
  #unscored = 0;

  /** Use trainAutoencoder() or Autoencoder.fromJSON(); this takes a model already checked. */
  constructor(model: AutoencoderModel) {
    this.#model = model;
    this.dims = model.dims;
    this.features = model.features;
    this.thresholdPercentile = model.thresholdPercentile;
    this.threshold = model.threshold;
    this.training = model.training;
    this.validation = model.validation;
    this.#network = new DenseNetwork(model.layers);
    this.#mean = model.standardisation.mean;
    this.#std = model.standardisation.std;
    this.#z = new Float64Array(model.dims);
  }

  /** Loads a model written by toJSON(); throws AutoencoderFormatError saying what is wrong with a bad one. */
  static fromJSON(json: unknown): Autoencoder {
    return new Autoencoder(parseAutoencoderJson(json));
  }

  /** The training rows' errors at 0, 0.1, ..., 100 % (1001 values; do not modify). */
  get errorQuantiles(): Float64Array {
    return this.#model.errorQuantiles;
  }

  /** Samples refused by score()/scoreBatch()/explain() because a value was NaN or ±Infinity. */
  get unscoredSamples(): number {
    return this.#unscored;
  }

  /**
   * Standardises x[offset, offset + dims) into #z and runs the network; the reconstruction, or
   * undefined (counted) when a value is not finite: a NaN would come out as a NaN error, which
   * compares false against every threshold and would read as "normal".
   */
  #reconstruct(x: Float64Array, offset: number): Float64Array | undefined {
    const z = this.#z;
    for (let f = 0; f < this.dims; f++) {
      const v = x[offset + f] as number;
      if (!Number.isFinite(v)) {
        this.#unscored++;
        return undefined;
      }
      const zf = (v - (this.#mean[f] as number)) / (this.#std[f] as number);
      // Clamped so that the arithmetic stays finite for any finite input (a value near ±1.8e308
      // would overflow to ±Infinity and then to NaN in the first layer); a billion standard
      // deviations out is as anomalous as further out.
      z[f] = zf > Z_LIMIT ? Z_LIMIT : zf < -Z_LIMIT ? -Z_LIMIT : zf;
    }
    return this.#network.forward(z);
  }

  /** Mean squared error in standardised units; NaN when the row is not scorable. */
  #errorAt(x: Float64Array, offset: number): number {
    const out = this.#reconstruct(x, offset);
    if (out === undefined) {
      return Number.NaN;
    }
    const z = this.#z;
    let sum = 0;
    for (let f = 0; f < this.dims; f++) {
      const d = (out[f] as number) - (z[f] as number);
      sum += d * d;
    }
    return sum / this.dims;
  }

  #checkWidth(length: number): void {
    if (length !== this.dims) {
      throw new RangeError(`sample has ${length} values, the model has ${this.dims} features`);
    }
  }

  /**
   * The reconstruction error of one feature vector: the mean squared difference between the
   * standardised input and its reconstruction, >= 0. `undefined` means "not scored": x holds a
   * NaN or ±Infinity; it is counted and the model is unaffected. Throws RangeError if x is not
   * `dims` long (a caller bug).
   */
  score(x: Float64Array): number | undefined {
    this.#checkWidth(x.length);
    const error = this.#errorAt(x, 0);
    return Number.isNaN(error) ? undefined : error;
  }

  /**
   * Scores many rows into `out` (allocated when not given). A row that cannot be scored (a
   * non-finite value) gets NaN, which means "not scored", never an anomaly.
   */
  scoreBatch(rows: Rows, out?: Float64Array): Float64Array {
    const { dims, count } = rowShape(rows);
    if (count > 0) {
      this.#checkWidth(dims);
    }
    const errors = out ?? new Float64Array(count);
    if (errors.length < count) {
      throw new RangeError(`out holds ${errors.length} scores, ${count} rows given`);
    }
    if (isFlatRows(rows)) {
      for (let r = 0; r < count; r++) {
        errors[r] = this.#errorAt(rows.values, r * dims);
      }
    } else {
      for (let r = 0; r < count; r++) {
        errors[r] = this.#errorAt(rows[r] as Float64Array, 0);
      }
    }
    return errors;
  }

  /**
   * Which features the error of x came from, for the ensemble's explanation (issue #6 item 3:
   * "naming the tags that drove it"). undefined (counted) when x is not finite.
   *
   * Each feature's share is how much of the error goes away when that feature alone is repaired:
   * its value replaced by what the network expects given the others (the reconstruction, iterated
   * REPAIR_STEPS times to a fixed point). The per-feature squared residual is no attribution: a
   * network with a narrow bottleneck spreads one broken value's error over the features it
   * correlates with, and the broken one often came out last (a broken temperature ranked last in
   * 10 of 10 findings on the 5-tag fixture). Costs dims x REPAIR_STEPS forward passes, and only
   * for a reading already found anomalous.
   */
  explain(x: Float64Array): AutoencoderExplanation | undefined {
    this.#checkWidth(x.length);
    const network = this.#reconstruct(x, 0);
    if (network === undefined) {
      return undefined;
    }
    // Copies: forward() returns a buffer the next call overwrites.
    const out = Float64Array.from(network);
    const z = Float64Array.from(this.#z);
    const error = squaredDistance(out, z) / this.dims;
    const drops = new Float64Array(this.dims);
    const repaired = new Float64Array(this.dims);
    let total = 0;
    for (let f = 0; f < this.dims; f++) {
      const trial = Float64Array.from(z);
      let reconstruction: Float64Array = out;
      for (let step = 0; step < REPAIR_STEPS; step++) {
        trial[f] = reconstruction[f] as number;
        reconstruction = this.#network.forward(trial);
      }
      repaired[f] = trial[f] as number;
      const drop = Math.max(0, error - squaredDistance(reconstruction, trial) / this.dims);
      drops[f] = drop;
      total += drop;
    }
    const tags: TagContribution[] = [];
    for (let f = 0; f < this.dims; f++) {
      tags.push({
        tag: this.features[f] as string,
        // Nothing repairs a perfect reconstruction: share it equally so the weights still sum to 1.
        weight: total > 0 ? (drops[f] as number) / total : 1 / this.dims,
        value: x[f] as number,
        expected: (this.#mean[f] as number) + (repaired[f] as number) * (this.#std[f] as number),
      });
    }
    tags.sort((a, b) => b.weight - a.weight);
    return { error, tags };
  }

  /**
   * The empirical CDF of the training errors at `error`, in [0, 1]: the share of training rows
   * that reconstructed at least as well. NaN (an unscored row) gives 0.
   */
  probability(error: number): number {
    return cdfFromTable(this.#model.errorQuantiles, error);
  }

  /** The training error at `percentile` (0-100), e.g. to set another threshold than the stored one. */
  errorAtPercentile(percentile: number): number {
    return percentileFromTable(this.#model.errorQuantiles, percentile);
  }

  toJSON(): AutoencoderJson {
    return autoencoderToJson(this.#model);
  }
}

/** Fixed-point steps when repairing one feature in explain(): 3 settle a 1-4 unit bottleneck. */
const REPAIR_STEPS = 3;

function squaredDistance(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    sum += d * d;
  }
  return sum;
}
