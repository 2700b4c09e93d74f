/**
 * Isolation Forest over per-device feature vectors (issue #6 item 1b), after Liu, Ting & Zhou,
 * "Isolation Forest", ICDM 2008 (Algorithms 1-3, Equations 1-2) and ACM TKDD 2012. Written here,
 * no library: small, seeded, the papers' path-length normalisation. A pure core: rows in, scores
 * out, toJSON()/fromJSON() for the model store; no I/O.
 *
 *   const forest = fitIsolationForest(rows, { trees: 100, sampleSize: 256, seed: 1 });
 *   forest.score(x)               // s(x, ψ) in (0, 1], or undefined when x is not scorable
 *   forest.scoreAtPercentile(99)  // a threshold from the training scores
 */
import { type ForestNodes, growForest } from "./buildForest.js";
import { forestToJson, type IsolationForestJson, parseForestJson } from "./forestJson.js";
import { type ForestModel, heightLimitFor, type TrainingSummary } from "./forestModel.js";
import { averagePathLength } from "./pathLength.js";
import { percentileFromTable, quantileTable } from "./scoreQuantiles.js";
import { finiteRows, isFlatRows, type Rows, rowShape } from "./trainingRows.js";

export interface IsolationForestOptions {
  /** t, the number of trees (config default 100). */
  readonly trees: number;
  /** ψ, the sub-sample size per tree (config default 256; the papers' default too). */
  readonly sampleSize: number;
  /** Seed of all random draws: the same rows, options and seed give the same model. */
  readonly seed: number;
}

export class IsolationForest {
  readonly dims: number;
  readonly trees: number;
  readonly sampleSize: number;
  readonly heightLimit: number;
  readonly seed: number;
  readonly training: TrainingSummary;
  readonly #model: ForestModel;
  // Columns held directly so the scoring loop reads them without a property chain.
  readonly #feature: Int32Array;
  readonly #split: Float64Array;
  readonly #child: Int32Array;
  readonly #roots: Int32Array;
  /** c(ψ), the normaliser of Equation 2. */
  readonly #normaliser: number;
  #unscored = 0;

  /** Use fitIsolationForest() or IsolationForest.fromJSON(); this takes a model already checked. */
  constructor(model: ForestModel) {
    this.#model = model;
    this.dims = model.dims;
    this.trees = model.trees;
    this.sampleSize = model.sampleSize;
    this.heightLimit = model.heightLimit;
    this.seed = model.seed;
    this.training = model.training;
    this.#feature = model.nodes.feature;
    this.#split = model.nodes.split;
    this.#child = model.nodes.child;
    this.#roots = model.nodes.roots;
    this.#normaliser = averagePathLength(model.sampleSize);
  }

  /** Loads a model written by toJSON(); throws ModelFormatError saying what is wrong with a bad one. */
  static fromJSON(json: unknown): IsolationForest {
    return new IsolationForest(parseForestJson(json));
  }

  /** The training rows' scores at 0, 0.1, ..., 100 % (1001 values; do not modify). */
  get scoreQuantiles(): Float64Array {
    return this.#model.scoreQuantiles;
  }

  /** Samples refused by score()/scoreBatch() because a value was NaN or ±Infinity. */
  get unscoredSamples(): number {
    return this.#unscored;
  }

  /**
   * E[h(x)] over the trees, by Algorithm 3 (PathLength): edges walked from the root, plus c(size)
   * at the external node reached (held in split[]). Reads x[offset, offset + dims); NaN if any of
   * those values is not finite (a NaN compares false and would silently go right).
   */
  #meanPathLength(x: Float64Array, offset: number): number {
    for (let f = 0; f < this.dims; f++) {
      if (!Number.isFinite(x[offset + f])) {
        return Number.NaN;
      }
    }
    const feature = this.#feature;
    const split = this.#split;
    const child = this.#child;
    const roots = this.#roots;
    let total = 0;
    for (let t = 0; t < roots.length; t++) {
      let node = roots[t] as number;
      let depth = 0;
      let f = feature[node] as number;
      while (f >= 0) {
        const left = child[node] as number;
        node = (x[offset + f] as number) < (split[node] as number) ? left : left + 1;
        depth++;
        f = feature[node] as number;
      }
      total += depth + (split[node] as number);
    }
    return total / roots.length;
  }

  #scoreAt(x: Float64Array, offset: number): number {
    const mean = this.#meanPathLength(x, offset);
    if (Number.isNaN(mean)) {
      this.#unscored++;
      return Number.NaN;
    }
    // s(x, ψ) = 2^(-E[h(x)] / c(ψ)), Equation 2.
    return 2 ** (-mean / this.#normaliser);
  }

  /**
   * The anomaly score of one feature vector, in (0, 1]: near 1 is anomalous, 0.5 or below is
   * normal (ICDM 2008 §2). `undefined` means "not scored": x holds a NaN or ±Infinity; the caller
   * records that, the model is unaffected. Throws RangeError if x is not `dims` long (a caller bug).
   */
  score(x: Float64Array): number | undefined {
    if (x.length !== this.dims) {
      throw new RangeError(`sample has ${x.length} values, the model has ${this.dims} features`);
    }
    const s = this.#scoreAt(x, 0);
    return Number.isNaN(s) ? undefined : s;
  }

  /**
   * Scores many rows into `out` (allocated when not given). A row that cannot be scored (a
   * non-finite value) gets NaN, which means "not scored", never an anomaly.
   */
  scoreBatch(rows: Rows, out?: Float64Array): Float64Array {
    const { dims, count } = rowShape(rows);
    if (count > 0 && dims !== this.dims) {
      throw new RangeError(`rows have ${dims} values, the model has ${this.dims} features`);
    }
    const scores = out ?? new Float64Array(count);
    if (scores.length < count) {
      throw new RangeError(`out holds ${scores.length} scores, ${count} rows given`);
    }
    if (isFlatRows(rows)) {
      for (let r = 0; r < count; r++) {
        scores[r] = this.#scoreAt(rows.values, r * dims);
      }
    } else {
      for (let r = 0; r < count; r++) {
        scores[r] = this.#scoreAt(rows[r] as Float64Array, 0);
      }
    }
    return scores;
  }

  /**
   * The score at `percentile` (0-100) of the training rows' scores, e.g. 99 for a threshold that
   * about 1 % of the training data exceeds (from a 1001-entry table; see scoreQuantiles.ts).
   */
  scoreAtPercentile(percentile: number): number {
    return percentileFromTable(this.#model.scoreQuantiles, percentile);
  }

  toJSON(): IsolationForestJson {
    return forestToJson(this.#model);
  }
}

function checkOptions(options: IsolationForestOptions): void {
  const { trees, sampleSize, seed } = options;
  if (!Number.isInteger(trees) || trees < 1) {
    throw new RangeError(`trees must be a positive integer, got ${trees}`);
  }
  if (!Number.isInteger(sampleSize) || sampleSize < 2) {
    throw new RangeError(`sampleSize must be an integer >= 2, got ${sampleSize}`);
  }
  if (!Number.isInteger(seed)) {
    throw new RangeError(`seed must be an integer, got ${seed}`);
  }
}

/**
 * Fits a forest (Algorithm 1) on the rows whose values are all finite; the others are skipped and
 * counted in `training.skippedRows`. With fewer rows than sampleSize, ψ is the number of rows.
 * Throws RangeError when fewer than 2 finite rows remain (nothing to isolate against).
 */
export function fitIsolationForest(rows: Rows, options: IsolationForestOptions): IsolationForest {
  checkOptions(options);
  const finite = finiteRows(rows);
  if (finite.count < 2) {
    throw new RangeError(
      `an isolation forest needs at least 2 finite rows, got ${finite.count} (${finite.skipped} skipped as non-finite)`,
    );
  }
  const sampleSize = Math.min(options.sampleSize, finite.count);
  const heightLimit = heightLimitFor(sampleSize);
  const nodes: ForestNodes = growForest(finite, {
    trees: options.trees,
    sampleSize,
    heightLimit,
    seed: options.seed,
  });
  const model: Omit<ForestModel, "scoreQuantiles"> = {
    dims: finite.dims,
    trees: options.trees,
    sampleSize,
    heightLimit,
    seed: options.seed,
    training: { rows: finite.count, skippedRows: finite.skipped, requestedSampleSize: options.sampleSize },
    nodes,
  };
  // Score the training rows once to keep their distribution for thresholds.
  const unthresholded = new IsolationForest({ ...model, scoreQuantiles: new Float64Array(1).fill(0.5) });
  const trainingScores = unthresholded.scoreBatch({ values: finite.values, dims: finite.dims });
  return new IsolationForest({ ...model, scoreQuantiles: quantileTable(trainingScores) });
}
