/**
 * What a trained autoencoder consists of, whether trained here or loaded from JSON (issue #6 item
 * 1c), and the figures its model card reports (item 5: features, training window, threshold,
 * validation figures).
 */
import type { DenseLayer } from "./denseNetwork.js";

/** Per-feature centring and scaling fitted on the training rows: z = (x - mean) / std. */
export interface Standardisation {
  readonly mean: Float64Array;
  /** Always > 0: floored (see standardisation.ts) so a constant feature divides safely. */
  readonly std: Float64Array;
}

export interface AutoencoderTraining {
  /** Finite rows offered (after dropping non-finite ones). */
  readonly finiteRows: number;
  /** Rows left out because a value was NaN or ±Infinity. */
  readonly skippedRows: number;
  /** Rows the network was fitted on (a seeded sub-sample when more than maxRows were offered). */
  readonly fitRows: number;
  /** Rows held out for the validation figures. */
  readonly validationRows: number;
  /** The cap on fitRows + validationRows that kept training short on a Pi. */
  readonly maxRows: number;
  readonly hiddenUnits: readonly number[];
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly seed: number;
  /** The TensorFlow.js backend it was trained on ("wasm", "cpu", "tfjs-node"): results differ in the last bits. */
  readonly backend: string;
}

export interface AutoencoderValidation {
  /** Mean squared error (standardised units) over the fitted rows in the last epoch. */
  readonly trainLoss: number;
  /** The same over the held-out rows after the last epoch. */
  readonly validationLoss: number;
  /** Reconstruction errors of the held-out rows at these percentiles. */
  readonly errorPercentiles: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly max: number;
  };
  /** Share of held-out rows whose error is above the threshold: the false alarm rate to expect. */
  readonly aboveThreshold: number;
}

export interface AutoencoderModel {
  readonly dims: number;
  /** A name per feature (the configured tags), used by explain(). */
  readonly features: readonly string[];
  readonly layers: readonly DenseLayer[];
  readonly standardisation: Standardisation;
  /** Percentile of the training errors the threshold sits at (config default 99.5). */
  readonly thresholdPercentile: number;
  /** Reconstruction errors above this are anomalous. */
  readonly threshold: number;
  /** Training rows' reconstruction errors at 0, 0.1, ..., 100 percent (see scoreQuantiles.ts). */
  readonly errorQuantiles: Float64Array;
  readonly training: AutoencoderTraining;
  readonly validation: AutoencoderValidation;
}
