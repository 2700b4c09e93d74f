/**
 * From a model's raw score to the anomaly probability the thresholds apply to (issue #6 item 3:
 * "thresholds per device in config" are probabilities, LOW 0.6 ... CRITICAL 0.98 by default).
 *
 * A vector model (isolation forest, autoencoder) keeps the distribution of its training scores as
 * a table of 1001 quantiles (0, 0.1, ..., 100 %) and has a threshold at a configured percentile
 * (99.5 by default). The empirical CDF alone is no probability of anomaly (a training row at the
 * 60th percentile is normal, not "LOW"), so the mapping uses three anchors, the median m, the
 * threshold t and the training maximum M:
 *
 *   s <= t       p = 0.5 * clamp((s - m) / (t - m))                 never an alert
 *   t < s < M    p = 0.5 + 0.4 * (1 - tail(s) / tail(t))            LOW .. HIGH: how few training
 *                                                                   rows scored as high as s
 *   s >= M       p = 1 - 0.1 * 2^(-(s - M) / (M - t))               HIGH at M, CRITICAL (0.98) at
 *                                                                   M + 2.3 (M - t)
 *
 * where tail(s) is the fraction of training rows scoring above s (1 - the table's CDF,
 * isolationForest/scoreQuantiles.ts). Why not a distance from the
 * threshold alone: isolation-forest scores are bounded and saturate (a point outside every
 * training range scores about the same however far out: Liu et al. 2008, splits are drawn inside
 * the training range), so "beyond everything seen in training" must itself mean HIGH; the
 * autoencoder's errors are unbounded and keep rising with distance past M.
 */
import { cdfFromTable, percentileFromTable } from "../isolationForest/scoreQuantiles.js";

export interface ScoreDistribution {
  /** Training scores at 0, 0.1, ..., 100 %: 1001 ascending values. */
  readonly quantiles: Float64Array;
  /** The threshold's percentile (50-100). */
  readonly thresholdPercentile: number;
}

export function anomalyProbability(score: number, distribution: ScoreDistribution): number {
  if (!Number.isFinite(score)) {
    return 0;
  }
  const { quantiles, thresholdPercentile } = distribution;
  const median = percentileFromTable(quantiles, 50);
  const threshold = percentileFromTable(quantiles, thresholdPercentile);
  const maximum = quantiles[quantiles.length - 1] as number;
  const floor = Math.max(1e-12, Math.abs(threshold) * 1e-9);
  if (score <= threshold) {
    return 0.5 * Math.min(1, Math.max(0, (score - median) / Math.max(threshold - median, floor)));
  }
  if (score < maximum) {
    const thresholdTail = 1 - thresholdPercentile / 100;
    return thresholdTail <= 0
      ? 0.9
      : 0.5 + 0.4 * Math.max(0, 1 - (1 - cdfFromTable(quantiles, score)) / thresholdTail);
  }
  const spread = Math.max(maximum - threshold, Math.abs(maximum - median) * 0.01, floor);
  return 1 - 0.1 * 2 ** (-(score - maximum) / spread);
}
