/**
 * A rolling window over time with an exact median and MAD (issue #6 item 1a: "a robust rolling
 * baseline"). The window covers `windowMs` of time, not a fixed count, because samples arrive
 * irregularly (NAB's ambient-temperature file has gaps of days).
 *
 * Design, measured by scripts/bench/analyticsStreaming.ts:
 * - Values are kept twice: in arrival order (a ring of times and values, for expiry) and in a
 *   sorted Float64Array. Insertion and removal are a binary search plus one `copyWithin` (a native
 *   memmove): O(n) bytes moved but no allocation and no per-element JS work; at n = 3600 that
 *   costs well under a microsecond, cheaper in practice than two heaps with lazy deletion, which
 *   also could not answer the MAD.
 * - The MAD needs no second structure: around the median m, the deviations m - x of the values
 *   below m, read leftwards, and x - m of the values from m, read rightwards, are two sorted runs,
 *   so the k-th smallest deviation is a k-th-of-two-sorted-arrays search, O(log n). The result is
 *   exact: each deviation is the same IEEE subtraction a brute-force |x - m| does.
 * - Memory is bounded: at most `capacity` points (arrays grow by doubling up to it). A point is
 *   admitted only if `minSpacingMs` has passed since the last admitted one, so a long window over
 *   a fast signal keeps an evenly thinned sample of its span (counted in `thinned`) instead of
 *   only its newest part; if the cap is still reached the oldest point goes (counted in `evicted`).
 * - `minPoints` newest points are kept even when older than the window, so a window shorter than
 *   the sampling interval (the schema's default 1h over an hourly series) still has a baseline.
 */

import { packFloat64, requireFinite, unpackFloat64 } from "./packedArray.js";

export interface SortedWindowOptions {
  readonly windowMs: number;
  readonly capacity: number;
  readonly minSpacingMs: number;
  readonly minPoints: number;
}

/** The saved window: points in arrival order, packed (packedArray.ts; times as differences). */
export interface SortedWindowState extends WindowCounters {
  readonly times: string;
  readonly values: string;
}

/** What a window remembers besides its points. */
export interface WindowCounters {
  readonly lastAdmittedTs: number | null;
  readonly thinned: number;
  readonly evicted: number;
}

const INITIAL_SIZE = 64;

export class SortedWindow {
  private times: Float64Array;
  private values: Float64Array;
  private sorted: Float64Array;
  private head = 0;
  private size = 0;
  private lastAdmittedTs: number | null = null;
  /** Points not admitted because they came within minSpacingMs of the previous one. */
  thinned = 0;
  /** Points pushed out by the capacity before they expired. */
  evicted = 0;

  constructor(readonly options: SortedWindowOptions) {
    const initial = Math.min(INITIAL_SIZE, options.capacity);
    this.times = new Float64Array(initial);
    this.values = new Float64Array(initial);
    this.sorted = new Float64Array(initial);
  }

  get count(): number {
    return this.size;
  }

  /** Drops points older than ts - windowMs, keeping at least minPoints. */
  expire(ts: number): void {
    const oldest = ts - this.options.windowMs;
    const cap = this.times.length;
    while (this.size > this.options.minPoints && (this.times[this.head] as number) < oldest) {
      this.removeSorted(this.values[this.head] as number);
      this.head = (this.head + 1) % cap;
      this.size--;
    }
  }

  /** Adds a point (ts not before the last one; the caller enforces order). */
  add(ts: number, rawValue: number): void {
    // -0 becomes +0: insertion places -0 and +0 in arrival order, a restored window sorts -0
    // first, so with both kept a restored window could answer -0 where the live one answered +0.
    const value = rawValue + 0;
    if (this.lastAdmittedTs !== null && ts - this.lastAdmittedTs < this.options.minSpacingMs) {
      this.thinned++;
      return;
    }
    this.lastAdmittedTs = ts;
    if (this.size === this.times.length) {
      if (this.size < this.options.capacity) {
        this.grow(Math.min(this.options.capacity, this.size * 2));
      } else {
        this.removeSorted(this.values[this.head] as number);
        this.head = (this.head + 1) % this.times.length;
        this.size--;
        this.evicted++;
      }
    }
    const tail = (this.head + this.size) % this.times.length;
    this.times[tail] = ts;
    this.values[tail] = value;
    this.insertSorted(value);
    this.size++;
  }

  median(): number {
    const n = this.size;
    const s = this.sorted;
    if (n === 0) {
      return Number.NaN;
    }
    const mid = n >> 1;
    return n % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  }

  /** Median absolute deviation from the median (unscaled), exact. */
  mad(): number {
    const n = this.size;
    if (n === 0) {
      return Number.NaN;
    }
    const m = this.median();
    const split = this.lowerBound(m);
    const mid = n >> 1;
    if (n % 2 === 1) {
      return this.kthDeviation(m, split, mid);
    }
    return (this.kthDeviation(m, split, mid - 1) + this.kthDeviation(m, split, mid)) / 2;
  }

  min(): number {
    return this.size === 0 ? Number.NaN : (this.sorted[0] as number);
  }

  max(): number {
    return this.size === 0 ? Number.NaN : (this.sorted[this.size - 1] as number);
  }

  /** Copies of the points in arrival order (oldest first). */
  points(): { times: Float64Array; values: Float64Array } {
    const times = new Float64Array(this.size);
    const values = new Float64Array(this.size);
    const cap = this.times.length;
    for (let i = 0; i < this.size; i++) {
      const at = (this.head + i) % cap;
      times[i] = this.times[at] as number;
      values[i] = this.values[at] as number;
    }
    return { times, values };
  }

  counters(): WindowCounters {
    return { lastAdmittedTs: this.lastAdmittedTs, thinned: this.thinned, evicted: this.evicted };
  }

  toJSON(): SortedWindowState {
    const { times, values } = this.points();
    return { times: packFloat64(times, true), values: packFloat64(values), ...this.counters() };
  }

  /** Restores toJSON output whose shape streamingState.ts validated; throws RangeError if its points are not. */
  static fromJSON(options: SortedWindowOptions, state: SortedWindowState): SortedWindow {
    const times = unpackFloat64(state.times, options.capacity);
    const values = unpackFloat64(state.values, options.capacity);
    return SortedWindow.fromPoints(options, times, values, state);
  }

  /** A window holding these points (arrival order); throws RangeError if they break its rules. */
  static fromPoints(
    options: SortedWindowOptions,
    times: Float64Array,
    values: Float64Array,
    counters: WindowCounters,
  ): SortedWindow {
    const n = values.length;
    if (n > options.capacity || times.length !== n) {
      throw new RangeError(
        `window holds ${times.length} times and ${n} values, capacity ${options.capacity}`,
      );
    }
    requireFinite(times, "window times");
    requireFinite(values, "window values");
    for (let i = 1; i < n; i++) {
      if ((times[i] as number) < (times[i - 1] as number)) {
        throw new RangeError("window times are not ascending");
      }
    }
    const window = new SortedWindow(options);
    let size = INITIAL_SIZE;
    while (size < n) {
      size *= 2;
    }
    window.grow(Math.min(options.capacity, Math.max(size, window.times.length)));
    window.times.set(times);
    window.values.set(values);
    window.sorted.set(values);
    window.sorted.subarray(0, n).sort();
    window.size = n;
    window.lastAdmittedTs = counters.lastAdmittedTs;
    window.thinned = counters.thinned;
    window.evicted = counters.evicted;
    return window;
  }

  /**
   * The (k+1)-th smallest of the deviations: left run L[j] = m - s[split-1-j] (j < split), right
   * run R[j] = s[split+j] - m. Binary search on how many of the k+1 smallest come from the left.
   */
  private kthDeviation(m: number, split: number, k: number): number {
    const s = this.sorted;
    const nLeft = split;
    const nRight = this.size - split;
    const want = k + 1;
    let lo = Math.max(0, want - nRight);
    let hi = Math.min(want, nLeft);
    const left = (j: number) =>
      j < 0 ? -Infinity : j >= nLeft ? Infinity : m - (s[split - 1 - j] as number);
    const right = (j: number) => (j < 0 ? -Infinity : j >= nRight ? Infinity : (s[split + j] as number) - m);
    while (lo <= hi) {
      const i = (lo + hi) >> 1;
      const j = want - i;
      if (i < hi && left(i) < right(j - 1)) {
        lo = i + 1;
      } else if (i > lo && left(i - 1) > right(j)) {
        hi = i - 1;
      } else {
        return Math.max(left(i - 1), right(j - 1));
      }
    }
    /* c8 ignore next -- unreachable: the search always lands on a valid partition */
    throw new Error("kthDeviation: no partition found");
  }

  /** First index whose value is >= x. */
  private lowerBound(x: number): number {
    let lo = 0;
    let hi = this.size;
    const s = this.sorted;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((s[mid] as number) < x) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  private insertSorted(x: number): void {
    const at = this.lowerBound(x);
    this.sorted.copyWithin(at + 1, at, this.size);
    this.sorted[at] = x;
  }

  private removeSorted(x: number): void {
    const at = this.lowerBound(x);
    this.sorted.copyWithin(at, at + 1, this.size);
  }

  private grow(to: number): void {
    const cap = this.times.length;
    const times = new Float64Array(to);
    const values = new Float64Array(to);
    for (let i = 0; i < this.size; i++) {
      const at = (this.head + i) % cap;
      times[i] = this.times[at] as number;
      values[i] = this.values[at] as number;
    }
    const sorted = new Float64Array(to);
    sorted.set(this.sorted.subarray(0, this.size));
    this.times = times;
    this.values = values;
    this.sorted = sorted;
    this.head = 0;
  }
}
