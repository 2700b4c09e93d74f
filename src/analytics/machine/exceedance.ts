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
 * where tail(s) is the fraction of training rows scoring above s. Why not a distance from the
 * threshold alone: isolation-forest scores are bounded and saturate (a point outside every
 * training range scores about the same however far out: Liu et al. 2008, splits are drawn inside
 * the training range), so "beyond everything seen in training" must itself mean HIGH; the
 * autoencoder's errors are unbounded and keep rising with distance past M.
 */
const STEPS = 1000;

export interface ScoreDistribution {
  /** Training scores at 0, 0.1, ..., 100 %: 1001 ascending values. */
  readonly quantiles: Float64Array;
  /** The threshold's percentile (50-100). */
  readonly thresholdPercentile: number;
}

/** The value at `percentile` of the table (linear between the 0.1 % steps). */
export function quantileAt(quantiles: Float64Array, percentile: number): number {
  const position = (percentile / 100) * STEPS;
  const below = Math.min(STEPS, Math.max(0, Math.floor(position)));
  const lower = quantiles[below] as number;
  const upper = quantiles[Math.min(below + 1, STEPS)] as number;
  return lower + (position - below) * (upper - lower);
}

/** Fraction of training rows scoring above `score` (0 at or above the maximum). */
function tail(quantiles: Float64Array, score: number): number {
  let low = 0;
  let high = STEPS;
  if (score >= (quantiles[STEPS] as number)) {
    return 0;
  }
  if (score < (quantiles[0] as number)) {
    return 1;
  }
  // Largest k with quantiles[k] <= score.
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((quantiles[mid] as number) <= score) {
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  const lower = quantiles[low] as number;
  const upper = quantiles[low + 1] as number;
  const within = upper > lower ? (score - lower) / (upper - lower) : 0;
  return 1 - (low + within) / STEPS;
}

export function anomalyProbability(score: number, distribution: ScoreDistribution): number {
  if (!Number.isFinite(score)) {
    return 0;
  }
  const { quantiles, thresholdPercentile } = distribution;
  const median = quantileAt(quantiles, 50);
  const threshold = quantileAt(quantiles, thresholdPercentile);
  const maximum = quantiles[STEPS] as number;
  const floor = Math.max(1e-12, Math.abs(threshold) * 1e-9);
  if (score <= threshold) {
    return 0.5 * Math.min(1, Math.max(0, (score - median) / Math.max(threshold - median, floor)));
  }
  if (score < maximum) {
    const thresholdTail = 1 - thresholdPercentile / 100;
    return thresholdTail <= 0 ? 0.9 : 0.5 + 0.4 * Math.max(0, 1 - tail(quantiles, score) / thresholdTail);
  }
  const spread = Math.max(maximum - threshold, Math.abs(maximum - median) * 0.01, floor);
  return 1 - 0.1 * 2 ** (-(score - maximum) / spread);
}
