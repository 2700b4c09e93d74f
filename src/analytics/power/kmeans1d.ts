/**
 * One-dimensional k-means for a machine's operating states (issue #6 item 2: "learn the machine's
 * operating states (off / idle / loaded ...) by clustering"), and the choice of k.
 *
 * In one dimension the clusters of a k-means solution are contiguous runs of the sorted data, so
 * each Lloyd step is k binary searches and prefix sums: O(k log n) per iteration after one sort.
 * Seeding is k-means++ (Arthur & Vassilvitskii, "k-means++: the advantages of careful seeding",
 * SODA 2007) from the seeded generator, best of a few restarts by within-cluster sum of squares.
 *
 * Choosing k (1..maxK): the largest k whose states are all well separated and all real.
 *  - separated: adjacent clusters' centres lie at least `minSeparation` x (sigma_i + sigma_j)
 *    apart, sigma being 1.4826 x MAD of each cluster. With the default 2 this is a robust form of
 *    Ashman's D >= 2 (Ashman, Bird & Zepf, AJ 108, 1994), the usual bar for two clean modes, but
 *    with MAD sigmas it also refuses a hard split of one Gaussian (its halves sit 1.6 sigma apart
 *    with MAD sigmas of about 0.6 each: 1.3 < 2), which the plain D does not (2.65 > 2).
 *  - real: every cluster holds at least `minShare` of the readings and `minCount` readings, so a
 *    few start-up spikes in the history do not become a "peak" state whose band hides overloads.
 * BIC and the silhouette were the alternatives; both compare fit quality rather than ask "are
 * these states distinct", and on hours of slowly drifting load BIC keeps splitting the loaded
 * state, while the mean silhouette is dominated by the largest gap and merges off with idle.
 */
import { quantileSorted, robustSigma } from "./robustStats.js";

export interface Clustering1D {
  readonly k: number;
  /** Cluster means, ascending. */
  readonly centres: Float64Array;
  /** One past the last sorted index of each cluster: cluster i is sorted[ends[i-1] ?? 0, ends[i]). */
  readonly ends: Int32Array;
  readonly sse: number;
}

export interface StateChoiceOptions {
  readonly maxK: number;
  readonly minSeparation: number;
  readonly minShare: number;
  readonly minCount: number;
  readonly restarts: number;
}

export const STATE_CHOICE_DEFAULTS: StateChoiceOptions = {
  maxK: 5,
  minSeparation: 2,
  minShare: 0.01,
  minCount: 20,
  restarts: 4,
};

/** What was tried for each k, kept in the model so a technician can see why k was chosen. */
export interface KTrial {
  readonly k: number;
  /** Smallest adjacent separation, (c_j+1 - c_j) / (sigma_j + sigma_j+1); null for k = 1. */
  readonly minSeparation: number | null;
  /** Smallest cluster's share of the readings. */
  readonly minShare: number;
  readonly accepted: boolean;
}

export interface StateChoice {
  readonly clustering: Clustering1D;
  /** Robust sigma of each chosen cluster (in the clustered scale). */
  readonly sigmas: Float64Array;
  readonly trials: readonly KTrial[];
}

const MAX_ITERATIONS = 100;

/** First index in sorted[from, to) whose value is >= x. */
function lowerBound(sorted: Float64Array, x: number, from: number, to: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < x) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

function seedCentres(sorted: Float64Array, k: number, random: () => number): Float64Array {
  const n = sorted.length;
  const centres = new Float64Array(k);
  centres[0] = sorted[Math.min(n - 1, Math.floor(random() * n))] as number;
  const nearest = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  for (let c = 1; c < k; c++) {
    const last = centres[c - 1] as number;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const d = (sorted[i] as number) - last;
      const d2 = Math.min(nearest[i] as number, d * d);
      nearest[i] = d2;
      total += d2;
    }
    // D^2 sampling; when every point already sits on a centre, fall back to a uniform draw.
    let pick = Math.min(n - 1, Math.floor(random() * n));
    if (total > 0) {
      let target = random() * total;
      for (let i = 0; i < n; i++) {
        target -= nearest[i] as number;
        if (target < 0) {
          pick = i;
          break;
        }
      }
    }
    centres[c] = sorted[pick] as number;
  }
  return centres.sort();
}

/** The data and its prefix sums, taken relative to `shift` (see kmeans1d). */
interface Prefixed {
  readonly sorted: Float64Array;
  readonly shift: number;
  readonly prefix: Float64Array;
  readonly prefix2: Float64Array;
}

/** Lloyd's iterations from the given centres; null when a cluster empties (a failed restart). */
function lloyd(data: Prefixed, start: Float64Array): Clustering1D | null {
  const { sorted, shift, prefix, prefix2 } = data;
  const n = sorted.length;
  const k = start.length;
  const centres = Float64Array.from(start);
  const ends = new Int32Array(k);
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    let changed = false;
    let from = 0;
    for (let c = 0; c < k; c++) {
      const end =
        c === k - 1
          ? n
          : lowerBound(sorted, ((centres[c] as number) + (centres[c + 1] as number)) / 2, from, n);
      if (end <= from) {
        return null;
      }
      if (end !== ends[c]) {
        changed = true;
        ends[c] = end;
      }
      centres[c] = shift + ((prefix[end] as number) - (prefix[from] as number)) / (end - from);
      from = end;
    }
    if (!changed) {
      break;
    }
  }
  let sse = 0;
  let from = 0;
  for (let c = 0; c < k; c++) {
    const end = ends[c] as number;
    const m = end - from;
    const sum = (prefix[end] as number) - (prefix[from] as number);
    sse += Math.max(0, (prefix2[end] as number) - (prefix2[from] as number) - (sum * sum) / m);
    from = end;
  }
  return { k, centres, ends, sse };
}

/**
 * k-means of ascending `sorted` into k contiguous clusters, best of `restarts` k-means++ seedings.
 * Throws RangeError when k exceeds the number of distinct values.
 */
export function kmeans1d(sorted: Float64Array, k: number, random: () => number, restarts = 4): Clustering1D {
  const n = sorted.length;
  // Prefix sums of values centred on the median keep the SSE's cancellation small.
  const shift = n > 0 ? quantileSorted(sorted, 0.5) : 0;
  const prefix = new Float64Array(n + 1);
  const prefix2 = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const x = (sorted[i] as number) - shift;
    prefix[i + 1] = (prefix[i] as number) + x;
    prefix2[i + 1] = (prefix2[i] as number) + x * x;
  }
  const data: Prefixed = { sorted, shift, prefix, prefix2 };
  let best: Clustering1D | null = null;
  for (let r = 0; r < Math.max(1, restarts); r++) {
    const result = lloyd(data, seedCentres(sorted, k, random));
    if (result !== null && (best === null || result.sse < best.sse)) {
      best = result;
    }
  }
  if (best === null) {
    throw new RangeError(`cannot form ${k} non-empty clusters from ${n} values`);
  }
  return best;
}

function distinctCount(sorted: Float64Array, atMost: number): number {
  let count = sorted.length > 0 ? 1 : 0;
  for (let i = 1; i < sorted.length && count < atMost; i++) {
    if ((sorted[i] as number) !== (sorted[i - 1] as number)) {
      count++;
    }
  }
  return count;
}

/** Clusters ascending `sorted` for k = 1..maxK and keeps the largest k that passes (see top). */
export function chooseStates(
  sorted: Float64Array,
  random: () => number,
  options: StateChoiceOptions = STATE_CHOICE_DEFAULTS,
): StateChoice {
  const n = sorted.length;
  if (n === 0) {
    throw new RangeError("no values to cluster");
  }
  const range = (sorted[n - 1] as number) - (sorted[0] as number);
  // A sigma floor from the data's range: a state that reads one constant value still has a width.
  const floor = Math.max(1e-3 * range, 1e-12);
  const maxK = Math.min(options.maxK, distinctCount(sorted, options.maxK));
  const trials: KTrial[] = [];
  let chosen: StateChoice | null = null;
  for (let k = 1; k <= maxK; k++) {
    let clustering: Clustering1D;
    try {
      clustering = kmeans1d(sorted, k, random, options.restarts);
    } catch {
      trials.push({ k, minSeparation: null, minShare: 0, accepted: false });
      continue;
    }
    const sigmas = new Float64Array(k);
    let minCount = n;
    let from = 0;
    for (let c = 0; c < k; c++) {
      const end = clustering.ends[c] as number;
      sigmas[c] = robustSigma(sorted, floor, from, end);
      minCount = Math.min(minCount, end - from);
      from = end;
    }
    let minSeparation = Number.POSITIVE_INFINITY;
    for (let c = 0; c + 1 < k; c++) {
      const gap = (clustering.centres[c + 1] as number) - (clustering.centres[c] as number);
      minSeparation = Math.min(minSeparation, gap / ((sigmas[c] as number) + (sigmas[c + 1] as number)));
    }
    const accepted =
      k === 1 ||
      (minSeparation >= options.minSeparation &&
        minCount >= options.minCount &&
        minCount / n >= options.minShare);
    trials.push({ k, minSeparation: k === 1 ? null : minSeparation, minShare: minCount / n, accepted });
    if (accepted) {
      chosen = { clustering, sigmas, trials };
    }
  }
  if (chosen === null) {
    throw new RangeError("no clustering found"); // unreachable: k = 1 is always accepted
  }
  return { ...chosen, trials };
}
