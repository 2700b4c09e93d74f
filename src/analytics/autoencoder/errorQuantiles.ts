/**
 * From a reconstruction error to a probability (issue #6 item 3: the ensemble's thresholds apply
 * to a probability in [0, 1]). The model keeps its training errors as a 1001-entry quantile table
 * (isolationForest/scoreQuantiles.ts); the empirical CDF read from that table says which share of
 * the training rows reconstructed better than this one.
 */

/**
 * P(training error <= error), linear between the table's entries: 0 below the smallest training
 * error, 1 at or above the largest. Among equal entries (many rows with the same error) it takes
 * the highest rank, as a CDF does. `table` is non-decreasing, with at least two entries.
 */
export function cdfFromTable(table: Float64Array, error: number): number {
  const last = table.length - 1;
  if (!(error >= (table[0] as number))) {
    return 0;
  }
  if (error >= (table[last] as number)) {
    return 1;
  }
  // The last k with table[k] <= error; table[0] <= error < table[last], so 0 <= k < last.
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if ((table[mid] as number) <= error) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  const below = table[lo] as number;
  const above = table[lo + 1] as number;
  return (lo + (error - below) / (above - below)) / last;
}
