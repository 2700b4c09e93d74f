/**
 * Which rows the autoencoder is fitted on and which it is validated on (issue #6 items 1c and 5:
 * "validation figures" in the model card). Seeded, so the same rows and seed give the same model.
 */
import type { FiniteRows } from "../isolationForest/trainingRows.js";

export interface TrainingSplit {
  readonly dims: number;
  /** Rows the network is fitted on, packed. */
  readonly fit: Float64Array;
  readonly fitCount: number;
  /** Held-out rows, packed; never seen by the optimiser. */
  readonly validation: Float64Array;
  readonly validationCount: number;
}

/**
 * A seeded random sample of at most `maxRows` rows (so that training on a Pi stays in minutes
 * however long the history is), of which a share `validationShare` (at least one row) is held
 * out. Random rather than "the last 10 %": the sample is random already, and a random hold-out
 * measures how well normal operation is reconstructed without depending on which day came last.
 */
export function splitTrainingRows(
  rows: FiniteRows,
  maxRows: number,
  validationShare: number,
  random: () => number,
): TrainingSplit {
  const { dims, values } = rows;
  const used = Math.min(rows.count, maxRows);
  const validationCount = Math.max(1, Math.round(used * validationShare));
  const fitCount = used - validationCount;
  if (fitCount < 1) {
    throw new RangeError(`${used} rows leave none to fit on after holding out ${validationCount}`);
  }
  // A partial Fisher-Yates shuffle: the first `used` places become a uniform sample without
  // replacement, in random order.
  const order = new Int32Array(rows.count);
  for (let r = 0; r < rows.count; r++) {
    order[r] = r;
  }
  for (let i = 0; i < used; i++) {
    const j = i + Math.floor(random() * (rows.count - i));
    const picked = order[j] as number;
    order[j] = order[i] as number;
    order[i] = picked;
  }
  const copy = (from: number, to: number): Float64Array => {
    const out = new Float64Array((to - from) * dims);
    for (let i = from; i < to; i++) {
      const r = order[i] as number;
      out.set(values.subarray(r * dims, (r + 1) * dims), (i - from) * dims);
    }
    return out;
  };
  return {
    dims,
    validation: copy(0, validationCount),
    validationCount,
    fit: copy(validationCount, used),
    fitCount,
  };
}

/** A seeded permutation of 0..count-1, the order of one training epoch. */
export function epochOrder(count: number, random: () => number): Int32Array {
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    order[i] = i;
  }
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const picked = order[j] as number;
    order[j] = order[i] as number;
    order[i] = picked;
  }
  return order;
}
