/**
 * A robust straight line y ~ a + b x for the gateway's own profile (issue #6 item 2): CPU against
 * the samples it polls, egress against what the uplink sends, temperature against CPU. Theil-Sen
 * (Sen, JASA 63, 1968: the slope is the median of pairwise slopes) on seeded random pairs, so a
 * few busy minutes in the history (a retrain, a log rotation) barely move it, then the high
 * quantile and robust spread of the residuals give the band above the line.
 */
import { MAD_TO_SIGMA, quantileSorted, sortedCopy } from "../power/robustStats.js";

export interface RobustLine {
  /**
   * theil-sen: fitted. proportional: training saw too little spread in x to fit a slope, so the
   * line runs through the origin and the medians: y grows in proportion to x, an upper bound
   * (a fixed share such as the OS's own CPU does not grow), so more work never reads as abuse.
   * constant: x was (nearly) always 0; y is its median.
   */
  readonly source: "theil-sen" | "proportional" | "constant";
  readonly intercept: number;
  /** Never negative: more workload never means less CPU, egress or heat. */
  readonly slope: number;
  /** p99.5 of the training residuals y - (a + b x). */
  readonly residualHigh: number;
  /** 1.4826 x MAD of the residuals, floored. */
  readonly residualSigma: number;
  readonly rows: number;
}

/** Pairs drawn for the Theil-Sen median: its standard error is then well below the noise. */
const MAX_PAIRS = 20_000;
/** x varies "too little" when its interquartile range is below this share of its median. */
const MIN_RELATIVE_SPREAD = 0.05;

/** The line's value at x. */
export function lineAt(line: RobustLine, x: number): number {
  return line.intercept + line.slope * x;
}

/** Fits y on x over paired finite values; `sigmaFloor` keeps the band open on quantised data. */
export function fitRobustLine(
  xs: readonly number[],
  ys: readonly number[],
  random: () => number,
  sigmaFloor: number,
): RobustLine {
  const n = xs.length;
  if (n < 2 || ys.length !== n) {
    throw new RangeError(`a robust line needs at least 2 paired values, got ${n}`);
  }
  const sx = sortedCopy(xs);
  const xMedian = quantileSorted(sx, 0.5);
  const xSpread = quantileSorted(sx, 0.75) - quantileSorted(sx, 0.25);
  const yMedian = quantileSorted(sortedCopy(ys), 0.5);
  let source: RobustLine["source"];
  let slope: number;
  if (xSpread > MIN_RELATIVE_SPREAD * Math.abs(xMedian) && xSpread > 0) {
    const slopes: number[] = [];
    const pairs = Math.min(MAX_PAIRS, (n * (n - 1)) / 2);
    const minDx = 1e-9 * xSpread;
    for (let p = 0; p < pairs; p++) {
      const i = Math.floor(random() * n);
      const j = Math.floor(random() * n);
      const dx = (xs[j] as number) - (xs[i] as number);
      if (Math.abs(dx) > minDx) {
        slopes.push(((ys[j] as number) - (ys[i] as number)) / dx);
      }
    }
    source = "theil-sen";
    slope = slopes.length > 0 ? Math.max(0, quantileSorted(sortedCopy(slopes), 0.5)) : 0;
  } else if (xMedian > 0) {
    source = "proportional";
    slope = Math.max(0, yMedian / xMedian);
  } else {
    source = "constant";
    slope = 0;
  }
  const offsets = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    offsets[i] = (ys[i] as number) - slope * (xs[i] as number);
  }
  offsets.sort();
  const intercept = source === "proportional" ? 0 : quantileSorted(offsets, 0.5);
  // Residuals are the offsets shifted by the intercept: still sorted.
  const residuals = offsets.map((o) => o - intercept);
  const median = quantileSorted(residuals, 0.5);
  const deviations = residuals.map((r) => Math.abs(r - median)).sort();
  return {
    source,
    intercept,
    slope,
    residualHigh: quantileSorted(residuals, 0.995),
    residualSigma: Math.max(sigmaFloor, MAD_TO_SIGMA * quantileSorted(deviations, 0.5)),
    rows: n,
  };
}
