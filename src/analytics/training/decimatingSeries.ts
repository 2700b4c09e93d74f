/**
 * A bounded, time-ordered training series (issue #6 item 5: "last N days" of history on a Pi with
 * 1 GB): 14 days of a 1 s poll are 1.2 million vectors, more than a model needs and more than the
 * memory budget. The series keeps at most `capacity` rows; when full it drops every other row and
 * from then on keeps every 2nd (then 4th, ...) row offered. The result covers the whole window
 * evenly and in order (power profiles need order for dwell times and transitions), deterministic,
 * with no seed, in one flat Float64Array.
 */
export class DecimatingSeries {
  readonly values: Float64Array;
  readonly ts: Float64Array;
  #count = 0;
  #stride = 1;
  #offered = 0;
  #firstTs = Number.NaN;
  #lastTs = Number.NaN;

  constructor(
    readonly dims: number,
    readonly capacity: number,
  ) {
    if (!Number.isInteger(dims) || dims < 1 || !Number.isInteger(capacity) || capacity < 2) {
      throw new RangeError(`bad series shape: dims ${dims}, capacity ${capacity}`);
    }
    this.values = new Float64Array(dims * capacity);
    this.ts = new Float64Array(capacity);
  }

  /** Rows held now. */
  get count(): number {
    return this.#count;
  }

  /** Rows offered in all (held or decimated away). */
  get offered(): number {
    return this.#offered;
  }

  /** Time of the first and last row offered (NaN when none). */
  get span(): { from: number; to: number } {
    return { from: this.#firstTs, to: this.#lastTs };
  }

  push(ts: number, row: ArrayLike<number>): void {
    if (this.#offered === 0) {
      this.#firstTs = ts;
    }
    this.#lastTs = ts;
    const index = this.#offered++;
    if (index % this.#stride !== 0) {
      return;
    }
    if (this.#count === this.capacity) {
      this.#halve();
      if (index % this.#stride !== 0) {
        return;
      }
    }
    const base = this.#count * this.dims;
    for (let i = 0; i < this.dims; i++) {
      this.values[base + i] = row[i] as number;
    }
    this.ts[this.#count] = ts;
    this.#count++;
  }

  /** The held rows, row-major, as a new array of exactly count x dims. */
  rows(): Float64Array {
    return this.values.slice(0, this.#count * this.dims);
  }

  times(): Float64Array {
    return this.ts.slice(0, this.#count);
  }

  #halve(): void {
    // Keep rows whose offer index is a multiple of the doubled stride: held row k has offer index
    // k * stride, so those are the even rows.
    const dims = this.dims;
    let kept = 0;
    for (let k = 0; k < this.#count; k += 2) {
      this.values.copyWithin(kept * dims, k * dims, (k + 1) * dims);
      this.ts[kept] = this.ts[k] as number;
      kept++;
    }
    this.#count = kept;
    this.#stride *= 2;
  }
}
