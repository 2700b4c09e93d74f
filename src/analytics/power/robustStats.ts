/**
 * Small robust statistics for the profiles of issue #6 item 2 (power states, the gateway's own
 * profile). Bands come from quantiles and spreads from the MAD, not from mean and standard
 * deviation, so that the odd spike or a fault left in the training history does not widen a
 * machine's normal band until real faults fit inside it.
 */

/** 1 / Phi^-1(3/4): makes the MAD a consistent estimator of a Gaussian's sigma. */
export const MAD_TO_SIGMA = 1.4826;

/**
 * The q-quantile (0..1) of sorted[from, to) by linear interpolation between order statistics
 * (Hyndman & Fan type 7, the default of R and NumPy). The range must be non-empty and ascending.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number, from = 0, to = sorted.length): number {
  const n = to - from;
  if (n <= 0) {
    throw new RangeError("quantile of an empty range");
  }
  const h = (n - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(h);
  const a = sorted[from + lo] as number;
  if (lo + 1 >= n) {
    return a;
  }
  const b = sorted[from + lo + 1] as number;
  return a + (h - lo) * (b - a);
}

/** Sorts a copy ascending (typed-array sort is numeric, unlike Array.prototype.sort). */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/**
 * sigma estimated as 1.4826 x MAD of sorted[from, to), floored at `floor` so that a constant
 * range (a meter that reads exactly 0.0 while off) still gives a usable, positive scale.
 */
export function robustSigma(sorted: ArrayLike<number>, floor: number, from = 0, to = sorted.length): number {
  const n = to - from;
  if (n <= 1) {
    return floor;
  }
  const median = quantileSorted(sorted, 0.5, from, to);
  const deviations = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    deviations[i] = Math.abs((sorted[from + i] as number) - median);
  }
  deviations.sort();
  return Math.max(floor, MAD_TO_SIGMA * quantileSorted(deviations, 0.5));
}

/** Keeps x within [lo, hi]. */
export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
