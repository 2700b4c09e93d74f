/**
 * One field of a sensor line to a tag's value (issue: serial-line parsers). Text from a serial
 * line is read strictly: a number that is not entirely a decimal number is bad with a reason,
 * never a silent NaN (FAULTS 8.7), and bool words are the ones sensor protocols use, not YAML's.
 */
import { bad, type DecodedValue, finiteOrBad, good } from "../modbus/decodeResult.js";
import { applyScaling, type Scaling } from "../modbus/decodeScale.js";

export type LineTagType = "number" | "string" | "bool";

export interface LineTagConversion extends Scaling {
  readonly type: LineTagType;
}

/** Longest string value kept, in code points; a sensor's text field is a status word, not a log. */
export const MAX_STRING_LENGTH = 256;

/** Optional sign, digits with an optional fraction (or a bare fraction), optional exponent. */
const DECIMAL_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const TRUE_WORDS: ReadonlySet<string> = new Set(["1", "true", "on", "yes"]);
const FALSE_WORDS: ReadonlySet<string> = new Set(["0", "false", "off", "no"]);
// C0 and C1 controls and DEL (FAULTS 8.7 "strings with NULs": sanitised).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * `raw` is what the parser found: a string from regex, CSV and key-value lines, any JSON value
 * from JSON lines, undefined when the field is absent.
 */
export function convertField(raw: unknown, field: string, tag: LineTagConversion): DecodedValue {
  if (raw === undefined) {
    return bad(`missing field ${field}`);
  }
  if (raw === null) {
    return bad(`field ${field} is null`);
  }
  switch (tag.type) {
    case "number": {
      const value = toNumber(raw, field);
      // "float64": text numbers are doubles, so scaling is float arithmetic with an overflow check.
      return applyScaling(value, "float64", tag);
    }
    case "bool":
      return toBool(raw, field);
    case "string":
      return toText(raw, field);
  }
}

function toNumber(raw: unknown, field: string): DecodedValue {
  if (typeof raw === "number") {
    return finiteOrBad(raw); // JSON.parse("1e999") is Infinity
  }
  if (typeof raw !== "string") {
    return bad(`field ${field} is not a number: ${describe(raw)}`);
  }
  const text = raw.trim();
  if (!DECIMAL_NUMBER.test(text)) {
    return bad(`field ${field} is not a number: ${quote(text)}`);
  }
  const value = finiteOrBad(Number(text));
  return value.quality === "good" ? value : bad(`field ${field} out of range: ${quote(text)}`);
}

function toBool(raw: unknown, field: string): DecodedValue {
  if (typeof raw === "boolean") {
    return good(raw);
  }
  if (raw === 0 || raw === 1) {
    return good(raw === 1);
  }
  if (typeof raw !== "string") {
    return bad(`field ${field} is not a bool: ${describe(raw)}`);
  }
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) {
    return good(true);
  }
  if (FALSE_WORDS.has(word)) {
    return good(false);
  }
  return bad(`field ${field} is not a bool: ${quote(raw.trim())}`);
}

function toText(raw: unknown, field: string): DecodedValue {
  if (typeof raw === "number" || typeof raw === "boolean") {
    return good(String(raw));
  }
  if (typeof raw !== "string") {
    return bad(`field ${field} is not a string: ${describe(raw)}`);
  }
  return good(sanitiseText(raw));
}

/** Control characters removed, trimmed, capped at MAX_STRING_LENGTH code points (no split surrogates). */
export function sanitiseText(text: string): string {
  const clean = text.replace(CONTROL_CHARACTERS, "").trim();
  if (clean.length <= MAX_STRING_LENGTH) {
    return clean;
  }
  return Array.from(clean).slice(0, MAX_STRING_LENGTH).join("");
}

function describe(raw: unknown): string {
  return Array.isArray(raw) ? "array" : typeof raw;
}

/** The offending text in a reason, shortened so a noisy line cannot bloat every sample. */
function quote(text: string): string {
  const shown = sanitiseText(text);
  return JSON.stringify(shown.length > 32 ? `${shown.slice(0, 32)}…` : shown);
}
