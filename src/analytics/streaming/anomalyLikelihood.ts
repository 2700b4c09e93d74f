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
 * - The history is a ring of fixed capacity (Float64Array) and the state serialises to JSON.
 */

import { gaussianQ } from "./gaussianTail.js";

export interface LikelihoodOptions {
  readonly averagingWindow: number;
  readonly historicWindow: number;
  readonly estimationSamples: number;
  readonly reestimationPeriod: number;
  readonly redFilter: boolean;
  /** Averages enter the history clipped at mean + historyClip * stdev (0: no clipping). */
  readonly historyClip: number;
}

export interface LikelihoodState {
  readonly recent: number[];
  readonly recentTotal: number;
  readonly history: number[];
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
  private readonly history: Float64Array;
  private historyHead = 0;
  private historyCount = 0;
  private iteration = 0;
  private distribution: { mean: number; stdev: number } | null = null;
  private previousTail = 1;

  constructor(readonly options: LikelihoodOptions) {
    this.recent = new Float64Array(options.averagingWindow);
    this.history = new Float64Array(options.historicWindow);
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
      recent: ringToArray(this.recent, this.recentHead, this.recentCount),
      recentTotal: this.recentTotal,
      history: ringToArray(this.history, this.historyHead, this.historyCount),
      iteration: this.iteration,
      distribution: this.distribution === null ? null : { ...this.distribution },
      previousTail: this.previousTail,
    };
  }

  static fromJSON(options: LikelihoodOptions, state: LikelihoodState): AnomalyLikelihood {
    const likelihood = new AnomalyLikelihood(options);
    if (state.recent.length > options.averagingWindow || state.history.length > options.historicWindow) {
      throw new RangeError("likelihood state is larger than its configured windows");
    }
    likelihood.recent.set(state.recent);
    likelihood.recentCount = state.recent.length;
    likelihood.recentHead = 0;
    likelihood.recentTotal = state.recentTotal;
    likelihood.history.set(state.history);
    likelihood.historyCount = state.history.length;
    likelihood.historyHead = 0;
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

  private pushHistory(average: number): void {
    const size = this.history.length;
    if (this.historyCount === size) {
      this.history[this.historyHead] = average;
      this.historyHead = (this.historyHead + 1) % size;
    } else {
      this.history[(this.historyHead + this.historyCount) % size] = average;
      this.historyCount++;
    }
  }

  /**
   * nupic estimateNormal over the history (population variance, as numpy.var). Summed oldest
   * first, whatever the ring's layout, so a restored state re-estimates to the same bits.
   */
  private estimate(): void {
    const n = this.historyCount;
    const size = this.history.length;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      sum += this.history[(this.historyHead + i) % size] as number;
    }
    const mean = sum / n;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const d = (this.history[(this.historyHead + i) % size] as number) - mean;
      squares += d * d;
    }
    const variance = Math.max(VARIANCE_FLOOR, squares / n);
    this.distribution = { mean: Math.max(MEAN_FLOOR, mean), stdev: Math.sqrt(variance) };
  }
}

function ringToArray(ring: Float64Array, head: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    out.push(ring[(head + i) % ring.length] as number);
  }
  return out;
}
