/**
 * The distribution of the training rows' scores, kept with a model so a threshold can be set as
 * "the score at percentile P of training" (issue #6 item 3: severity from per-device thresholds;
 * the autoencoder does the same with its training errors). A fixed table of 1001 quantiles keeps
 * the model's size independent of the number of training rows.
 */

/** The table holds quantiles at every 100 / QUANTILE_STEPS percent: 0, 0.1, ..., 100. */
export const QUANTILE_STEPS = 1000;

/** Quantile q in [0, 1] of sorted values, interpolating linearly between ranks (Hyndman & Fan type 7). */
function sortedQuantile(sorted: Float64Array, q: number): number {
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const lower = sorted[below] as number;
  const upper = sorted[Math.min(below + 1, sorted.length - 1)] as number;
  return lower + (position - below) * (upper - lower);
}

/** The quantile table of finite, non-empty `values` (not modified). */
export function quantileTable(values: Float64Array): Float64Array {
  if (values.length === 0) {
    throw new RangeError("no values to take quantiles of");
  }
  const sorted = Float64Array.from(values).sort();
  const table = new Float64Array(QUANTILE_STEPS + 1);
  for (let k = 0; k <= QUANTILE_STEPS; k++) {
    table[k] = sortedQuantile(sorted, k / QUANTILE_STEPS);
  }
  return table;
}

/**
 * The value at `percentile` (0-100) of the distribution the table was made from: exact (type 7)
 * at multiples of 0.1 %, linear between the neighbouring table entries otherwise.
 */
export function percentileFromTable(table: Float64Array, percentile: number): number {
  if (!(percentile >= 0 && percentile <= 100)) {
    throw new RangeError(`percentile must be within [0, 100], got ${percentile}`);
  }
  return sortedQuantile(table, percentile / 100);
}

/**
 * P(training score <= score), linear between the table's entries: 0 below the smallest training
 * score, 1 at or above the largest. Among equal entries (many rows with the same score) it takes
 * the highest rank, as a CDF does. `table` is non-decreasing, with at least two entries. The
 * autoencoder's probability(error) and the detectors' calibration (machine/exceedance.ts) read
 * their tables with it.
 */
export function cdfFromTable(table: Float64Array, score: number): number {
  const last = table.length - 1;
  if (!(score >= (table[0] as number))) {
    return 0;
  }
  if (score >= (table[last] as number)) {
    return 1;
  }
  // The last k with table[k] <= score; table[0] <= score < table[last], so 0 <= k < last.
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if ((table[mid] as number) <= score) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  const below = table[lo] as number;
  const above = table[lo + 1] as number;
  return (lo + (score - below) / (above - below)) / last;
}
