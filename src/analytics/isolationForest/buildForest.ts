/**
 * Growing the isolation trees (issue #6 item 1b): Algorithms 1 (iForest) and 2 (iTree) of Liu,
 * Ting & Zhou, "Isolation Forest", ICDM 2008, §4, written into flat typed arrays so that scoring
 * is a tight loop over numbers (see ForestNodes).
 */
import { seededRandom } from "../random.js";
import { averagePathLength } from "./pathLength.js";
import type { FiniteRows } from "./trainingRows.js";

/**
 * All trees' nodes, tree after tree. Node i is internal when feature[i] >= 0: a point goes to
 * child[i] when x[feature[i]] < split[i] (Algorithm 2 sends q < p left) and to child[i] + 1
 * otherwise. At an external node feature[i] is -1 and split[i] holds c(size[i]), the estimated
 * path length of the subtree the height limit left unbuilt (Algorithm 3), so scoring adds it
 * without a branch. A child always has a higher index than its parent, which makes every walk
 * end; fromJSON checks that before it accepts a model.
 */
export interface ForestNodes {
  readonly feature: Int32Array;
  readonly split: Float64Array;
  readonly child: Int32Array;
  /** Training points that reached the node (|X| in Algorithm 2). */
  readonly size: Int32Array;
  /** Index of each tree's root node; tree t spans [roots[t], roots[t + 1]) (the last to the end). */
  readonly roots: Int32Array;
}

export const EXTERNAL = -1;

/** Growable node columns; a tree's size is not known until it is grown. */
class NodeColumns {
  feature: number[] = [];
  split: number[] = [];
  child: number[] = [];
  size: number[] = [];

  /** Appends `n` placeholder nodes and returns the index of the first. */
  allocate(n: number): number {
    const first = this.feature.length;
    for (let k = 0; k < n; k++) {
      this.feature.push(EXTERNAL);
      this.split.push(0);
      this.child.push(0);
      this.size.push(0);
    }
    return first;
  }
}

/**
 * p drawn uniformly between min and max of attribute q in X (Algorithm 2), for r in
 * [0, 1). When max - min overflows (values near ±1.8e308) the difference is Infinity and
 * min + r * Infinity would give ±Infinity or NaN, which no JSON file can hold; the weighted form
 * stays finite there. The clamp keeps rounding from leaving [min, max].
 */
export function splitBetween(min: number, max: number, r: number): number {
  const range = max - min;
  const p = Number.isFinite(range) ? min + r * range : min * (1 - r) + max * r;
  return Math.min(max, Math.max(min, p));
}

/** One tree's grower; reuses its scratch arrays across nodes and trees. */
class TreeGrower {
  readonly #data: Float64Array;
  readonly #dims: number;
  readonly #heightLimit: number;
  readonly #random: () => number;
  readonly #nodes: NodeColumns;
  /** Row indices of the current sub-sample, partitioned in place as the tree splits them. */
  readonly #rows: Int32Array;
  readonly #min: Float64Array;
  readonly #max: Float64Array;
  readonly #candidates: Int32Array;

  constructor(
    data: Float64Array,
    dims: number,
    sampleSize: number,
    heightLimit: number,
    random: () => number,
    nodes: NodeColumns,
  ) {
    this.#data = data;
    this.#dims = dims;
    this.#heightLimit = heightLimit;
    this.#random = random;
    this.#nodes = nodes;
    this.#rows = new Int32Array(sampleSize);
    this.#min = new Float64Array(dims);
    this.#max = new Float64Array(dims);
    this.#candidates = new Int32Array(dims);
  }

  get rows(): Int32Array {
    return this.#rows;
  }

  /** Grows one tree over the rows in this.rows; returns its root index. */
  grow(): number {
    const root = this.#nodes.allocate(1);
    this.#grow(root, 0, this.#rows.length, 0);
    return root;
  }

  /** Algorithm 2, iTree(X, e, l), for X = rows[lo, hi) at depth e. */
  #grow(node: number, lo: number, hi: number, depth: number): void {
    const nodes = this.#nodes;
    nodes.size[node] = hi - lo;
    // Stop at the height limit or when |X| <= 1 (Algorithm 2).
    if (depth >= this.#heightLimit || hi - lo <= 1) {
      nodes.split[node] = averagePathLength(hi - lo);
      return;
    }
    const candidates = this.#nonConstantFeatures(lo, hi);
    // All points in X are equal: they cannot be isolated, the node is external (ICDM 2008 §2,
    // stopping rule (iii), "all data in X have the same values"). A feature that is constant in X is never drawn: a split on it
    // would leave one side empty and isolate nothing.
    if (candidates === 0) {
      nodes.split[node] = averagePathLength(hi - lo);
      return;
    }
    const q = this.#candidates[Math.floor(this.#random() * candidates)] as number;
    const min = this.#min[q] as number;
    const max = this.#max[q] as number;
    const p = splitBetween(min, max, this.#random());
    const mid = this.#partition(lo, hi, q, p);
    const left = nodes.allocate(2);
    nodes.feature[node] = q;
    nodes.split[node] = p;
    nodes.child[node] = left;
    this.#grow(left, lo, mid, depth + 1);
    this.#grow(left + 1, mid, hi, depth + 1);
  }

  /** Fills #min/#max over rows[lo, hi) and #candidates with the features where they differ. */
  #nonConstantFeatures(lo: number, hi: number): number {
    const data = this.#data;
    const dims = this.#dims;
    this.#min.fill(Number.POSITIVE_INFINITY);
    this.#max.fill(Number.NEGATIVE_INFINITY);
    for (let i = lo; i < hi; i++) {
      const offset = (this.#rows[i] as number) * dims;
      for (let f = 0; f < dims; f++) {
        const v = data[offset + f] as number;
        if (v < (this.#min[f] as number)) {
          this.#min[f] = v;
        }
        if (v > (this.#max[f] as number)) {
          this.#max[f] = v;
        }
      }
    }
    let n = 0;
    for (let f = 0; f < dims; f++) {
      if ((this.#max[f] as number) > (this.#min[f] as number)) {
        this.#candidates[n++] = f;
      }
    }
    return n;
  }

  /** Reorders rows[lo, hi) so that those with x[q] < p come first; returns where the rest start. */
  #partition(lo: number, hi: number, q: number, p: number): number {
    const rows = this.#rows;
    const data = this.#data;
    const dims = this.#dims;
    let mid = lo;
    for (let i = lo; i < hi; i++) {
      const row = rows[i] as number;
      if ((data[row * dims + q] as number) < p) {
        rows[i] = rows[mid] as number;
        rows[mid] = row;
        mid++;
      }
    }
    return mid;
  }
}

export interface GrowOptions {
  readonly trees: number;
  /** ψ, already capped at the number of training rows. */
  readonly sampleSize: number;
  readonly heightLimit: number;
  readonly seed: number;
}

/**
 * Algorithm 1, iForest(X, t, ψ): each of t trees grows on its own sub-sample of ψ rows drawn
 * without replacement (ICDM 2008 §4: sub-sampling without replacement), with height limit
 * l = ceiling(log2 ψ). One seeded stream drives all draws, so a seed gives the same forest.
 */
export function growForest(rows: FiniteRows, options: GrowOptions): ForestNodes {
  const { trees, sampleSize, heightLimit, seed } = options;
  const random = seededRandom(seed);
  const nodes = new NodeColumns();
  const grower = new TreeGrower(rows.values, rows.dims, sampleSize, heightLimit, random, nodes);
  // A permutation of all rows; a partial Fisher-Yates shuffle of its first ψ places draws each
  // sub-sample (the shuffle keeps the array a permutation, so successive draws stay uniform).
  const permutation = new Int32Array(rows.count);
  for (let r = 0; r < rows.count; r++) {
    permutation[r] = r;
  }
  const roots = new Int32Array(trees);
  for (let t = 0; t < trees; t++) {
    for (let i = 0; i < sampleSize; i++) {
      const j = i + Math.floor(random() * (rows.count - i));
      const picked = permutation[j] as number;
      permutation[j] = permutation[i] as number;
      permutation[i] = picked;
    }
    grower.rows.set(permutation.subarray(0, sampleSize));
    roots[t] = grower.grow();
  }
  return {
    feature: Int32Array.from(nodes.feature),
    split: Float64Array.from(nodes.split),
    child: Int32Array.from(nodes.child),
    size: Int32Array.from(nodes.size),
    roots,
  };
}
