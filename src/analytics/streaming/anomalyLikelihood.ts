/**
 * Numenta's anomaly likelihood (issue #6 item 1a: "a likelihood step that turns raw scores into a
 * probability of anomaly"), after S. Ahmad, A. Lavin, S. Purdy, Z. Agha, "Unsupervised real-time
 * anomaly detection for streaming data", Neurocomputing 262 (2017), section 4 ("Computing
 * anomaly likelihood"), and its reference code numenta/nupic `src/nupic/algorithms/
 * anomaly_likelihood.py` (AnomalyLikelihood.anomalyProbability, estimateAnomalyLikelihoods,
 * updateAnomalyLikelihoods, _filterLikelihoods, estimateNormal, tailProbability,
 * computeLogLikelihood):
 *
 * - a short moving average (`averagingWindow` scores, 10 in nupic) of the raw scores;
 * - a Gaussian fitted to the last `historicWindow` averages (8640 in nupic), re-fitted every
 *   `reestimationPeriod` scores (100 in nupic) once `estimationSamples` are held (100 in nupic),
 *   with nupic's floors mean >= 0.03 and variance >= 0.0003 against a too-narrow fit;
 * - the tail probability Q((avg - mean) / stdev) of the current average;
 * - nupic's red-zone filter: a tail <= 1e-5 right after another tail <= 1e-5 is reported as 1e-3,
 *   so that a sustained excursion reads high once (optional here, `redFilter`, off by default);
 * - (ours) `historyClip`: averages enter the history winsorised at mean + k stdev, so that one
 *   long fault does not widen the fitted Gaussian until the next fault goes unseen;
 * - reported on nupic's log scale, computeLogLikelihood: log(Q + 1e-10) / log(1e-10), in [0,1].
 *   NAB's numenta detector reports this value; on it the schema's thresholds read as tails:
 *   0.6 = 1e-6, 0.9 = 1e-9, so a stationary series crosses LOW about once in a million points.
 *
 * Differences from nupic, on purpose:
 * - The tail is one-sided: an average below the mean (the signal is quieter than usual) gives
 *   Q = 0.5, not the mirrored tail nupic returns, because a quieter signal is not a fault.
 * - The raw score is the surprise of a robust z-score (gaussianTail.ts), not an HTM prediction
 *   error; the detector skips the points of its learning period instead of nupic's skipRecords.
 * - The history is not kept value by value (8,640 doubles, 69 KB per tag in memory and on the
 *   SD card) but as summaries of blocks of `block` = gcd(historicWindow, reestimationPeriod)
 *   consecutive averages: each block's mean and sum of squared deviations (Welford), combined by
 *   Chan's pairwise formula at each estimate. The estimates run only at multiples of the
 *   re-estimation period (or, the first time, before the history is full), so the last
 *   historicWindow averages are then exactly whole blocks: the same window as nupic's, rounded
 *   differently in the last bits. With historicWindow a multiple of reestimationPeriod (the
 *   default) that is historicWindow / 100 blocks of 16 bytes.
 */

import { gaussianQ } from "./gaussianTail.js";
import { packFloat64, requireFinite, unpackFloat64 } from "./packedArray.js";

export interface LikelihoodOptions {
  readonly averagingWindow: number;
  readonly historicWindow: number;
  readonly estimationSamples: number;
  readonly reestimationPeriod: number;
  readonly redFilter: boolean;
  /** Averages enter the history clipped at mean + historyClip * stdev (0: no clipping). */
  readonly historyClip: number;
}

/** The saved likelihood (issue #6 item 5); arrays packed by packedArray.ts, oldest first. */
export interface LikelihoodState {
  /** The last min(iteration, averagingWindow) raw scores. */
  readonly recent: string;
  readonly recentTotal: number;
  /** Complete blocks of the history: their means and sums of squared deviations. */
  readonly blockMeans: string;
  readonly blockSquares: string;
  /** The block being filled (iteration mod block averages). */
  readonly partialMean: number;
  readonly partialSquares: number;
  readonly iteration: number;
  readonly distribution: { readonly mean: number; readonly stdev: number } | null;
  readonly previousTail: number;
}

export interface LikelihoodResult {
  /** The moving average of raw scores that was compared against the distribution. */
  readonly average: number;
  /** Gaussian tail of the average after the red-zone filter; null while estimating. */
  readonly tail: number | null;
  /** computeLogLikelihood of the tail, in [0,1]; 0 while estimating. */
  readonly likelihood: number;
}

/** nupic estimateNormal: floors against a degenerate fit. */
const MEAN_FLOOR = 0.03;
const VARIANCE_FLOOR = 0.0003;
/** nupic _filterLikelihoods: redThreshold 0.99999 and yellowThreshold 0.999, as tails. */
const RED_TAIL = 1e-5;
const YELLOW_TAIL = 1e-3;
/** nupic computeLogLikelihood: log(1.0000000001 - likelihood) / log(1 - 0.9999999999). */
const LOG_EPSILON = 1e-10;

export function logLikelihood(tail: number): number {
  return Math.min(1, Math.max(0, Math.log(tail + LOG_EPSILON) / Math.log(LOG_EPSILON)));
}

export class AnomalyLikelihood {
  private readonly recent: Float64Array;
  private recentHead = 0;
  private recentCount = 0;
  private recentTotal = 0;
  /** Averages per history block (a divisor of historicWindow and reestimationPeriod). */
  readonly block: number;
  private readonly blockMeans: Float64Array;
  private readonly blockSquares: Float64Array;
  private blockHead = 0;
  private blockCount = 0;
  private partialMean = 0;
  private partialSquares = 0;
  private iteration = 0;
  private distribution: { mean: number; stdev: number } | null = null;
  private previousTail = 1;

  constructor(readonly options: LikelihoodOptions) {
    this.recent = new Float64Array(options.averagingWindow);
    this.block = gcd(options.historicWindow, options.reestimationPeriod);
    this.blockMeans = new Float64Array(options.historicWindow / this.block);
    this.blockSquares = new Float64Array(options.historicWindow / this.block);
  }

  /** Averages in the history: the last historicWindow of them. */
  private get historyCount(): number {
    return Math.min(this.iteration, this.options.historicWindow);
  }

  update(score: number): LikelihoodResult {
    const average = this.movingAverage(score);
    const due = this.distribution === null || this.iteration % this.options.reestimationPeriod === 0;
    if (due && this.historyCount >= this.options.estimationSamples) {
      this.estimate();
    }
    let tail: number | null = null;
    if (this.distribution !== null) {
      const { mean, stdev } = this.distribution;
      const raw = average <= mean ? 0.5 : gaussianQ((average - mean) / stdev);
      tail = this.options.redFilter && raw <= RED_TAIL && this.previousTail <= RED_TAIL ? YELLOW_TAIL : raw;
      this.previousTail = raw;
    }
    const clip = this.options.historyClip;
    const d = this.distribution;
    this.pushHistory(clip > 0 && d !== null ? Math.min(average, d.mean + clip * d.stdev) : average);
    this.iteration++;
    return { average, tail, likelihood: tail === null ? 0 : logLikelihood(tail) };
  }

  toJSON(): LikelihoodState {
    return {
      recent: packFloat64(ringToArray(this.recent, this.recentHead, this.recentCount)),
      recentTotal: this.recentTotal,
      blockMeans: packFloat64(ringToArray(this.blockMeans, this.blockHead, this.blockCount)),
      blockSquares: packFloat64(ringToArray(this.blockSquares, this.blockHead, this.blockCount)),
      partialMean: this.partialMean,
      partialSquares: this.partialSquares,
      iteration: this.iteration,
      distribution: this.distribution === null ? null : { ...this.distribution },
      previousTail: this.previousTail,
    };
  }

  /** Restores toJSON output whose shape streamingState.ts validated; throws RangeError if it is inconsistent. */
  static fromJSON(options: LikelihoodOptions, state: LikelihoodState): AnomalyLikelihood {
    const likelihood = new AnomalyLikelihood(options);
    const { block } = likelihood;
    const capacity = likelihood.blockMeans.length;
    const recent = unpackFloat64(state.recent, options.averagingWindow);
    const means = unpackFloat64(state.blockMeans, capacity);
    const squares = unpackFloat64(state.blockSquares, capacity);
    // Every update adds one score and one average, so the counts follow from the iteration.
    const expectedBlocks = Math.min(Math.floor(state.iteration / block), capacity);
    if (recent.length !== Math.min(state.iteration, options.averagingWindow)) {
      throw new RangeError(`likelihood holds ${recent.length} recent scores at iteration ${state.iteration}`);
    }
    if (means.length !== expectedBlocks || squares.length !== expectedBlocks) {
      throw new RangeError(
        `likelihood holds ${means.length} block means and ${squares.length} block squares, expected ${expectedBlocks}`,
      );
    }
    if (state.iteration % block === 0 && (state.partialMean !== 0 || state.partialSquares !== 0)) {
      throw new RangeError("likelihood has an empty partial block with a mean or squares");
    }
    requireFinite(recent, "likelihood recent scores");
    requireFinite(means, "likelihood block means");
    requireFinite(squares, "likelihood block squares");
    likelihood.recent.set(recent);
    likelihood.recentCount = recent.length;
    likelihood.recentTotal = state.recentTotal;
    likelihood.blockMeans.set(means);
    likelihood.blockSquares.set(squares);
    likelihood.blockCount = expectedBlocks;
    likelihood.partialMean = state.partialMean;
    likelihood.partialSquares = state.partialSquares;
    likelihood.iteration = state.iteration;
    likelihood.distribution = state.distribution === null ? null : { ...state.distribution };
    likelihood.previousTail = state.previousTail;
    return likelihood;
  }

  /** nupic MovingAverage.compute: a running total over the last averagingWindow scores. */
  private movingAverage(score: number): number {
    const size = this.recent.length;
    if (this.recentCount === size) {
      this.recentTotal -= this.recent[this.recentHead] as number;
      this.recent[this.recentHead] = score;
      this.recentHead = (this.recentHead + 1) % size;
    } else {
      this.recent[(this.recentHead + this.recentCount) % size] = score;
      this.recentCount++;
    }
    this.recentTotal += score;
    return this.recentTotal / this.recentCount;
  }

  /**
   * Adds an average to the block being filled (Welford's update); a full block joins the ring of
   * complete blocks, pushing out the oldest once the ring holds historicWindow averages. Called
   * after `iteration` counted the averages before this one.
   */
  private pushHistory(average: number): void {
    const filled = (this.iteration % this.block) + 1;
    const d = average - this.partialMean;
    this.partialMean += d / filled;
    this.partialSquares += d * (average - this.partialMean);
    if (filled < this.block) {
      return;
    }
    const size = this.blockMeans.length;
    const at = (this.blockHead + this.blockCount) % size;
    this.blockMeans[at] = this.partialMean;
    this.blockSquares[at] = this.partialSquares;
    if (this.blockCount === size) {
      this.blockHead = (this.blockHead + 1) % size;
    } else {
      this.blockCount++;
    }
    this.partialMean = 0;
    this.partialSquares = 0;
  }

  /**
   * nupic estimateNormal over the history (population variance, as numpy.var): the blocks, oldest
   * first, then the partial block, merged by Chan et al.'s pairwise update ("Algorithms for
   * computing the sample variance", 1983), whatever the ring's layout, so a restored state
   * re-estimates to the same bits.
   */
  private estimate(): void {
    const size = this.blockMeans.length;
    let n = 0;
    let mean = 0;
    let squares = 0;
    const merge = (count: number, blockMean: number, blockSquares: number): void => {
      const total = n + count;
      const d = blockMean - mean;
      mean += (d * count) / total;
      squares += blockSquares + (d * d * n * count) / total;
      n = total;
    };
    for (let i = 0; i < this.blockCount; i++) {
      const at = (this.blockHead + i) % size;
      merge(this.block, this.blockMeans[at] as number, this.blockSquares[at] as number);
    }
    const partial = this.iteration % this.block;
    if (partial > 0) {
      merge(partial, this.partialMean, this.partialSquares);
    }
    const variance = Math.max(VARIANCE_FLOOR, squares / n);
    this.distribution = { mean: Math.max(MEAN_FLOOR, mean), stdev: Math.sqrt(variance) };
  }
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function ringToArray(ring: Float64Array, head: number, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    out[i] = ring[(head + i) % ring.length] as number;
  }
  return out;
}
