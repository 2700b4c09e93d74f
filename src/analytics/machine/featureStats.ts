/**
 * Per-feature median and MAD of a training set, so a multivariate finding can name the tags that
 * drove it (issue #6 item 3: "explanation naming the tags"). An isolation forest says *that* a
 * vector is rare, not *which* value made it so; the robust distance of each value from its
 * training median is the usual, cheap attribution (and exact for the single-feature outlier).
 */
import type { TagContribution } from "../findings.js";

export interface FeatureStats {
  readonly medians: readonly number[];
  /** MAD scaled to sigma (x 1.4826), floored so a constant feature divides safely. */
  readonly scales: readonly number[];
}

const MAD_TO_SIGMA = 1.4826;

function median(sorted: Float64Array): number {
  const n = sorted.length;
  if (n === 0) {
    return 0;
  }
  const mid = n >> 1;
  return n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Stats of the columns of `rows` (flat, row-major, `dims` wide); non-finite values are left out. */
export function featureStats(rows: Float64Array, dims: number): FeatureStats {
  const count = Math.floor(rows.length / dims);
  const medians: number[] = [];
  const scales: number[] = [];
  for (let f = 0; f < dims; f++) {
    const column: number[] = [];
    for (let r = 0; r < count; r++) {
      const value = rows[r * dims + f] as number;
      if (Number.isFinite(value)) {
        column.push(value);
      }
    }
    const sorted = Float64Array.from(column).sort();
    const m = median(sorted);
    const deviations = sorted.map((value) => Math.abs(value - m)).sort();
    const floor = Math.max(1e-9, Math.abs(m) * 1e-6, ((sorted.at(-1) ?? 0) - (sorted[0] ?? 0)) * 1e-3);
    medians.push(m);
    scales.push(Math.max(MAD_TO_SIGMA * median(deviations), floor));
  }
  return { medians, scales };
}

/** Each tag's share of the vector's squared robust distance from the training medians, heaviest first. */
export function contributions(
  tags: readonly string[],
  row: Float64Array,
  stats: FeatureStats,
  limit = 5,
): TagContribution[] {
  const squared = tags.map((_, i) => {
    const z = ((row[i] as number) - (stats.medians[i] as number)) / (stats.scales[i] as number);
    return z * z;
  });
  const total = squared.reduce((sum, value) => sum + value, 0);
  return tags
    .map((tag, i) => ({
      tag,
      weight: total > 0 ? (squared[i] as number) / total : 1 / tags.length,
      value: row[i] as number,
      expected: stats.medians[i] as number,
    }))
    .sort((a, b) => b.weight - a.weight)
    .slice(0, limit);
}
