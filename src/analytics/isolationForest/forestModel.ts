/** What a fitted isolation forest consists of, whether grown here or loaded from JSON (issue #6 item 1b). */
import type { ForestNodes } from "./buildForest.js";

export interface TrainingSummary {
  /** Finite rows the forest was fitted on (and whose scores make the quantile table). */
  readonly rows: number;
  /** Rows left out because a value was NaN or ±Infinity. */
  readonly skippedRows: number;
  /** The sub-sample size asked for; sampleSize is smaller when there were fewer rows. */
  readonly requestedSampleSize: number;
}

export interface ForestModel {
  readonly dims: number;
  readonly trees: number;
  /** ψ, the sub-sample size each tree was grown on; c(ψ) normalises scores (Equation 2). */
  readonly sampleSize: number;
  /** l = ceiling(log2 ψ) (Algorithm 1). */
  readonly heightLimit: number;
  readonly seed: number;
  readonly training: TrainingSummary;
  readonly nodes: ForestNodes;
  /** Scores of the training rows at 0, 0.1, ..., 100 percent (see scoreQuantiles.ts). */
  readonly scoreQuantiles: Float64Array;
}

/** l = ceiling(log2 ψ), the height limit of Algorithm 1 (about the average tree height). */
export function heightLimitFor(sampleSize: number): number {
  return Math.ceil(Math.log2(sampleSize));
}
