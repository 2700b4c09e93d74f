/**
 * What decoding one tag yields: a value with its quality, never a bare number that might be NaN
 * (FAULTS 8.7: `JSON.stringify(NaN)` is `null`, so a non-finite value must not travel silently).
 * The shape matches the value/quality/reason fields of a Sample (src/records.ts).
 */

export type GoodValue = number | bigint | string | boolean;

export type DecodedValue =
  | { readonly quality: "good"; readonly value: GoodValue }
  /** A usable value that is known to be approximate; `reason` says why. */
  | { readonly quality: "uncertain"; readonly value: number; readonly reason: string }
  | { readonly quality: "bad"; readonly value: null; readonly reason: string };

export function good(value: GoodValue): DecodedValue {
  return { quality: "good", value };
}

/** Also what a failed read gives each of its tags (issue #4), e.g. bad("timeout"). */
export function bad(reason: string): DecodedValue {
  return { quality: "bad", value: null, reason };
}

/** The reason a number is not finite, as the Sample's reason field spells it. */
export function nonFiniteReason(value: number): "NaN" | "+Inf" | "-Inf" | undefined {
  if (Number.isNaN(value)) {
    return "NaN";
  }
  if (value === Number.POSITIVE_INFINITY) {
    return "+Inf";
  }
  return value === Number.NEGATIVE_INFINITY ? "-Inf" : undefined;
}

/** A float as a good value, or bad with "NaN" / "+Inf" / "-Inf". */
export function finiteOrBad(value: number): DecodedValue {
  const reason = nonFiniteReason(value);
  return reason === undefined ? good(value) : bad(reason);
}

/**
 * A 64-bit integer as a plain number when every integer up to it is exact in a double
 * (|v| <= 2^53 - 1), otherwise as the exact bigint: never rounded (FAULTS 8.7, Telegraf
 * overflow_issue_14387).
 */
export function exactInteger(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
}
