/**
 * The two shapes feature vectors arrive in (one Float64Array per row, or one flat array with a row
 * width), and the fit-time filter that keeps non-finite rows out of a model (issue #6 must-show:
 * "non-finite or bad-quality values never poison a detector's state").
 */

/** Rows packed one after another: row r is values[r * dims, (r + 1) * dims). */
export interface FlatRows {
  readonly values: Float64Array;
  readonly dims: number;
}

/** Feature vectors, all of one width. */
export type Rows = readonly Float64Array[] | FlatRows;

/** The finite rows of a training set, packed, and how many rows were dropped. */
export interface FiniteRows {
  readonly values: Float64Array;
  readonly dims: number;
  readonly count: number;
  /** Rows left out because a value was NaN or ±Infinity. */
  readonly skipped: number;
}

export function isFlatRows(rows: Rows): rows is FlatRows {
  return !Array.isArray(rows);
}

/** Width and number of rows; throws on ragged input (a caller bug, not bad data). */
export function rowShape(rows: Rows): { dims: number; count: number } {
  if (isFlatRows(rows)) {
    const { values, dims } = rows;
    if (!Number.isInteger(dims) || dims < 1) {
      throw new RangeError(`dims must be a positive integer, got ${dims}`);
    }
    if (values.length % dims !== 0) {
      throw new RangeError(`flat rows: ${values.length} values are not a whole number of rows of ${dims}`);
    }
    return { dims, count: values.length / dims };
  }
  const dims = rows[0]?.length ?? 0;
  for (let r = 0; r < rows.length; r++) {
    if (rows[r]?.length !== dims) {
      throw new RangeError(`row ${r} has ${rows[r]?.length} values, row 0 has ${dims}`);
    }
  }
  if (rows.length > 0 && dims < 1) {
    throw new RangeError("rows have no values");
  }
  return { dims, count: rows.length };
}

function allFinite(values: Float64Array, offset: number, dims: number): boolean {
  for (let f = 0; f < dims; f++) {
    if (!Number.isFinite(values[offset + f])) {
      return false;
    }
  }
  return true;
}

/** Copies the rows whose values are all finite into one packed array, counting the others. */
export function finiteRows(rows: Rows): FiniteRows {
  const { dims, count } = rowShape(rows);
  const packed = new Float64Array(count * dims);
  let kept = 0;
  for (let r = 0; r < count; r++) {
    const source = isFlatRows(rows) ? rows.values : (rows[r] as Float64Array);
    const offset = isFlatRows(rows) ? r * dims : 0;
    if (allFinite(source, offset, dims)) {
      packed.set(source.subarray(offset, offset + dims), kept * dims);
      kept++;
    }
  }
  return { values: packed.subarray(0, kept * dims), dims, count: kept, skipped: count - kept };
}
