/**
 * Gaussian tail probabilities for the streaming detector (issue #6 item 1a), without a math
 * library: JavaScript has no erfc.
 *
 * erfc by the Chebyshev fit of Numerical Recipes in C, 2nd ed., section 6.2 (`erfcc`), fractional
 * error below 1.2e-7 everywhere. Its form t * exp(-x^2 + poly(t)) gives ln erfc(x) directly, so
 * tails far past the double range (z = 40 has Q ~ 1e-350) stay finite in the log domain.
 */

const COEFFS = [
  -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
  -0.82215223, 0.17087277,
] as const;

/** ln erfc(x) for x >= 0. */
export function lnErfc(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  let poly = 0;
  for (let i = COEFFS.length - 1; i >= 0; i--) {
    poly = poly * t + (COEFFS[i] as number);
  }
  return Math.log(t) - x * x + poly;
}

/** erfc(x) for any real x. */
export function erfc(x: number): number {
  const ans = Math.exp(lnErfc(Math.abs(x)));
  return x >= 0 ? ans : 2 - ans;
}

/** Q(z) = P(N(0,1) > z), the Gaussian upper tail (Numenta's `tailProbability` for z >= 0). */
export function gaussianQ(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/**
 * -log10 of the two-sided tail 2 Q(z) = erfc(z / sqrt 2) of a z-score z >= 0: how surprising the
 * point is, in decimal digits of improbability. Under Gaussian noise 2 Q(z) is uniform, so this is
 * Exp(1) / ln 10 (mean 0.434); averaging it over a few points is Fisher's method of combining
 * p-values, which is why the likelihood step averages it rather than z itself.
 */
export function surprise(z: number): number {
  return -lnErfc(z / Math.SQRT2) / Math.LN10;
}
