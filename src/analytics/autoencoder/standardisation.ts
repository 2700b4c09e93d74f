/**
 * Per-feature standardisation for the autoencoder (issue #6 item 1c). Tags of one machine differ
 * by orders of magnitude (400 V next to a 0.95 power factor); without scaling, the reconstruction
 * error would be the voltage's alone. Fitted on the training rows only, stored with the model.
 */
import type { Standardisation } from "./autoencoderModel.js";

/**
 * The smallest std, relative to max(1, |mean|). A constant feature (a setpoint, a flag that never
 * moved in training) would otherwise divide by zero; with the floor, a change in it still gives a
 * large error, which is right: it was never seen to move. 1e-6 sits well above float32 rounding
 * (about 6e-8 relative), so the noise of TensorFlow.js's float32 arithmetic is not magnified.
 */
export const RELATIVE_STD_FLOOR = 1e-6;

/** Mean and (population) std of each feature over `count` packed rows of `dims` finite values. */
export function fitStandardisation(values: Float64Array, dims: number, count: number): Standardisation {
  if (count < 1) {
    throw new RangeError("no rows to standardise");
  }
  const mean = new Float64Array(dims);
  const std = new Float64Array(dims);
  for (let r = 0; r < count; r++) {
    for (let f = 0; f < dims; f++) {
      mean[f] = (mean[f] as number) + (values[r * dims + f] as number);
    }
  }
  for (let f = 0; f < dims; f++) {
    mean[f] = (mean[f] as number) / count;
  }
  // Two passes (sum of squared deviations from the mean) rather than E[x²] - E[x]², which cancels
  // catastrophically for a large mean and small spread (a voltage of 400 ± 0.5).
  for (let r = 0; r < count; r++) {
    for (let f = 0; f < dims; f++) {
      const d = (values[r * dims + f] as number) - (mean[f] as number);
      std[f] = (std[f] as number) + d * d;
    }
  }
  for (let f = 0; f < dims; f++) {
    const floor = RELATIVE_STD_FLOOR * Math.max(1, Math.abs(mean[f] as number));
    std[f] = Math.max(Math.sqrt((std[f] as number) / count), floor);
  }
  return { mean, std };
}

/** Standardises `count` packed rows into float32, the input TensorFlow.js trains on. */
export function standardiseRows(
  values: Float64Array,
  dims: number,
  count: number,
  { mean, std }: Standardisation,
): Float32Array {
  const out = new Float32Array(count * dims);
  for (let r = 0; r < count; r++) {
    for (let f = 0; f < dims; f++) {
      const k = r * dims + f;
      out[k] = ((values[k] as number) - (mean[f] as number)) / (std[f] as number);
    }
  }
  return out;
}
