/** Seeded synthetic data for the isolation forest tests (issue #6: seeded generators in the tests). */
import { seededRandom } from "../../src/analytics/random.js";

/** Standard normal draws (Box-Muller) from a seeded stream. */
export function gaussian(seed: number): () => number {
  const random = seededRandom(seed);
  return () => {
    const u = 1 - random(); // (0, 1]: log(0) never happens
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
}

/** `n` points of a 2-D standard normal cluster centred on (cx, cy). */
export function cluster(n: number, seed: number, cx = 0, cy = 0): Float64Array[] {
  const normal = gaussian(seed);
  return Array.from({ length: n }, () => Float64Array.of(cx + normal(), cy + normal()));
}

/** Points far from a standard cluster at the origin (about 8 standard deviations out). */
export const FAR_OUTLIERS: readonly Float64Array[] = [
  Float64Array.of(8, 8),
  Float64Array.of(-9, 7),
  Float64Array.of(10, -1),
  Float64Array.of(-8, -8),
  Float64Array.of(0, -10),
];

export function median(values: ArrayLike<number>): number {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
