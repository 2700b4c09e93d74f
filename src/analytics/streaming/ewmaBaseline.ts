/**
 * Exponentially weighted mean and variance over time (issue #6 item 1a, method "ewma").
 *
 * The update is West's incremental form (D. H. D. West, "Updating mean and variance estimates: an
 * improved method", CACM 22(9), 1979; as written in T. Finch, "Incremental calculation of
 * weighted mean and variance", 2009, section 9):
 *   d = x - mean;  mean += a * d;  variance = (1 - a) * (variance + a * d * d)
 * with a per-sample weight a = 1 - 2^(-dt / halfLife) so that irregular gaps decay the history by
 * elapsed time, not by sample count. The half-life comes from the configured window as for a
 * pandas `ewm(span = N)`: the centre of mass (mean age) of the weights is window / 2, so
 * halfLife = ln 2 * window / 2. The first sample sets the mean (weight 1).
 *
 * As the median window keeps at least minPoints points, the weight is capped at 2 / (minPoints + 1)
 * (the pandas span form), so a window shorter than the sampling interval (the schema's default 1h
 * over an hourly series) still averages about minPoints samples instead of following each one.
 */

export interface EwmaState {
  readonly mean: number;
  readonly variance: number;
  readonly count: number;
  readonly lastTs: number | null;
}

export class EwmaBaseline {
  mean = 0;
  variance = 0;
  count = 0;
  private lastTs: number | null = null;

  private readonly maxWeight: number;

  constructor(
    readonly halfLifeMs: number,
    minPoints: number,
  ) {
    this.maxWeight = 2 / (Math.max(1, minPoints) + 1);
  }

  static halfLifeForWindow(windowMs: number): number {
    return (Math.LN2 * windowMs) / 2;
  }

  /** Weight of a sample arriving dtMs after the previous one. */
  weight(dtMs: number): number {
    return Math.min(this.maxWeight, 1 - 2 ** (-Math.max(0, dtMs) / this.halfLifeMs));
  }

  add(ts: number, x: number): void {
    if (this.lastTs === null) {
      this.mean = x;
      this.variance = 0;
    } else {
      const a = this.weight(ts - this.lastTs);
      const d = x - this.mean;
      this.mean += a * d;
      this.variance = (1 - a) * (this.variance + a * d * d);
    }
    this.lastTs = ts;
    this.count++;
  }

  std(): number {
    return Math.sqrt(this.variance);
  }

  toJSON(): EwmaState {
    return { mean: this.mean, variance: this.variance, count: this.count, lastTs: this.lastTs };
  }

  static fromJSON(halfLifeMs: number, minPoints: number, state: EwmaState): EwmaBaseline {
    const ewma = new EwmaBaseline(halfLifeMs, minPoints);
    ewma.mean = state.mean;
    ewma.variance = state.variance;
    ewma.count = state.count;
    ewma.lastTs = state.lastTs;
    return ewma;
  }
}
