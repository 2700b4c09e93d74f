/** fast-check arbitraries for the framer fuzz tests: random chunkings of a byte string. */
import fc from "fast-check";

/** Splits `bytes` at the given cut points (taken modulo its length). */
export function chunk(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % (bytes.length + 1))))].sort(
    (a, b) => a - b,
  );
  const parts: Uint8Array[] = [];
  let previous = 0;
  for (const point of [...points, bytes.length]) {
    parts.push(bytes.subarray(previous, point));
    previous = point;
  }
  return parts;
}

export const cutPoints = fc.array(fc.nat({ max: 10_000 }), { maxLength: 40 });
