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
