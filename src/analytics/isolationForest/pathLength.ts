/**
 * Path-length normalisation of Isolation Forest (issue #6 item 1b), as defined by Liu, Ting & Zhou,
 * "Isolation Forest", ICDM 2008, §2 (equation numbers below are the ICDM paper's), with the
 * special cases c(2) = 1 and c(n <= 1) = 0 of "Isolation-Based Anomaly Detection", ACM TKDD 6(1),
 * 2012.
 */

/** Euler-Mascheroni constant, for the harmonic-number estimate H(i) ≈ ln(i) + γ (ICDM §2). */
export const EULER_GAMMA = 0.5772156649;

/** H(i) ≈ ln(i) + γ, the papers' estimate of the harmonic number (not the exact sum). */
export function harmonicEstimate(i: number): number {
  return Math.log(i) + EULER_GAMMA;
}

/**
 * c(n), Equation 1: the average path length of an unsuccessful search in a binary search tree of
 * n points, c(n) = 2H(n-1) - 2(n-1)/n, used both to normalise E[h(x)] and, at an external node
 * that still holds n > 1 points (the height limit stopped it), as the estimate of the path length
 * of the subtree that was not built (Algorithm 3). c(n) = 0 for n <= 1 and c(2) = 1, as in the
 * TKDD paper (the formula with the estimate of H would give c(2) ≈ 0.15).
 */
export function averagePathLength(n: number): number {
  if (n <= 1) {
    return 0;
  }
  if (n === 2) {
    return 1;
  }
  return 2 * harmonicEstimate(n - 1) - (2 * (n - 1)) / n;
}

/**
 * s(x, n) = 2^(-E[h(x)] / c(n)), Equation 2, where n is the sub-sample size ψ the trees were grown
 * on. E[h(x)] -> 0 gives 1 (surely an anomaly); E[h(x)] = c(n) gives 0.5; E[h(x)] -> n - 1 gives
 * a score near 0 (surely normal). For a finite mean path the result lies in (0, 1].
 */
export function anomalyScore(meanPathLength: number, n: number): number {
  return 2 ** (-meanPathLength / averagePathLength(n));
}
