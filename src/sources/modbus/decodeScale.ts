/**
 * Scale and offset of a decoded value (issue #4: published = raw * scale + offset).
 *
 * The 64-bit rule (FAULTS 8.7 "values > 2^53; scale overflow"), decided here once:
 * - no scale and no offset (or 1 and 0): the value is untouched, so a bigint stays exact and -0
 *   stays -0;
 * - an integer type with an integer scale and an integer offset is computed exactly in bigint and
 *   comes back as a number when |result| <= 2^53 - 1, else as a bigint: a Wh counter times 1000
 *   is never rounded, whatever its width;
 * - an integer type with a fractional scale or offset becomes a float, as scaling means; when the
 *   raw value was already beyond 2^53 (a bigint) that float cannot be exact, so the result is
 *   quality "uncertain" with a reason rather than a silently rounded "good" value;
 * - floats are scaled as floats; a result that overflows to ±Inf is bad, never published.
 */
import type { RegisterType } from "../../config/schema/tags.js";
import { bad, type DecodedValue, exactInteger, good, nonFiniteReason } from "./decodeResult.js";

export interface Scaling {
  readonly scale?: number | undefined;
  readonly offset?: number | undefined;
}

export const ROUNDED_64_BIT_REASON = "64-bit value beyond 2^53 scaled by a fraction: float64 approximation";

const INTEGER_TYPES: ReadonlySet<RegisterType> = new Set([
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "uint64",
]);

export function applyScaling(
  decoded: DecodedValue,
  type: RegisterType,
  { scale = 1, offset = 0 }: Scaling,
): DecodedValue {
  if (decoded.quality !== "good" || (scale === 1 && offset === 0)) {
    return decoded;
  }
  const raw = decoded.value;
  if (typeof raw === "string" || typeof raw === "boolean") {
    return decoded; // scale and offset mean nothing for text or bits
  }
  if (INTEGER_TYPES.has(type) && Number.isInteger(scale) && Number.isInteger(offset)) {
    return good(exactInteger(BigInt(raw) * BigInt(scale) + BigInt(offset)));
  }
  const scaled = Number(raw) * scale + offset;
  const overflow = nonFiniteReason(scaled);
  if (overflow !== undefined) {
    return bad(`${overflow} after scale and offset`);
  }
  return typeof raw === "bigint"
    ? { quality: "uncertain", value: scaled, reason: ROUNDED_64_BIT_REASON }
    : good(scaled);
}
