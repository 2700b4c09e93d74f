/**
 * A REFERENCE BASELINE for the NAB harness (issue #6 item 7), NOT the product detector: a rolling z-score
 * of each value against the previous `window` finite values, squashed into [0, 1] as |z| / (1 + |z|).
 * It exists so `npm run eval:nab` prints something comparable
 * (NAB's "Windowed Gaussian" is the same idea) until the streaming detector in src/analytics/ is plugged in.
 */

export interface RollingZScoreOptions {
  /** Number of previous values the mean and standard deviation are taken over. */
  readonly window: number;
  /** Rows with fewer previous values than this score 0. */
  readonly minHistory: number;
}

/**
 * |z| / (1 + |z|): monotone in |z|, so the threshold sweep sees the same ranking as a Gaussian tail
 * probability would give, but large deviations stay distinct (1 − 2·Q(|z|) rounds to exactly 1 from
 * z ≈ 8.3, which ties every large excursion at one threshold). z = 3 maps to 0.75.
 */
export function squashZ(z: number): number {
  const a = Math.abs(z);
  return a === Number.POSITIVE_INFINITY ? 1 : a / (1 + a);
}

/** Per-row scores in [0, 1]. Non-finite values score 0 and stay out of the window (issue #6 must-show). */
export function rollingZScore(values: readonly number[], options: RollingZScoreOptions): number[] {
  const { window, minHistory } = options;
  const ring = new Float64Array(window);
  let count = 0;
  let head = 0;
  // Sums are kept relative to the first finite value to limit cancellation, and recomputed from the
  // ring every `window` pushes so rounding cannot drift.
  let shift = Number.NaN;
  let sum = 0;
  let sumSq = 0;
  let pushes = 0;
  const scores: number[] = [];
  for (const x of values) {
    if (!Number.isFinite(x)) {
      scores.push(0);
      continue;
    }
    if (Number.isNaN(shift)) {
      shift = x;
    }
    let score = 0;
    if (count >= minHistory && count >= 2) {
      const mean = sum / count;
      const variance = Math.max(0, (sumSq - (sum * sum) / count) / (count - 1));
      const std = Math.sqrt(variance);
      const deviation = x - shift - mean;
      score = std > 0 ? squashZ(deviation / std) : deviation === 0 ? 0 : 1;
    }
    scores.push(score);

    const d = x - shift;
    if (count === window) {
      const old = ring[head]!;
      sum -= old;
      sumSq -= old * old;
    } else {
      count += 1;
    }
    ring[head] = d;
    sum += d;
    sumSq += d * d;
    head = (head + 1) % window;
    pushes += 1;
    if (pushes % window === 0) {
      sum = 0;
      sumSq = 0;
      for (let i = 0; i < count; i++) {
        const v = ring[i]!;
        sum += v;
        sumSq += v * v;
      }
    }
  }
  return scores;
}
