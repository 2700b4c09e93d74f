/**
 * Samples to JSON and back (FAULTS 8.7: `JSON.stringify(10n)` throws and `JSON.stringify(NaN)`
 * writes `null`, so neither may reach the plain serializer).
 *
 * bigint: written as a decimal string, never a JSON number: most JSON parsers (JavaScript's,
 * jq's, Grafana's) read numbers as doubles and would round 18446744073709551615 silently. So
 * that a string tag whose text is "123" stays a string, a sample whose value is a bigint also
 * carries `"valueKind": "bigint"` in its reading; sampleFromJson turns exactly those back into bigint.
 *
 * Non-finite numbers: a NaN or ±Inf reading is quality bad with value null and a reason by the
 * time it is a Sample (decodeResult.ts); one reaching the serializer is a bug upstream, so it
 * throws rather than write `null` or drop the field.
 *
 * -0 is written as 0 (JSON has no negative zero); every other value round-trips exactly.
 */
import type { Quality, Sample, SampleValue, TagReading } from "../records.js";

export const BIGINT_VALUE_KIND = "bigint";

/** A JSON.stringify replacer for any record: bigint as a decimal string, non-finite numbers throw. */
export function recordJsonReplacer(key: string, value: unknown): unknown {
  if (typeof value === "bigint") {
    return value.toString(10);
  }
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw new Error(`non-finite number ${value} in field "${key}" must be quality bad with value null`);
  }
  return value;
}

export function sampleToJson(sample: Sample): string {
  const values: Record<string, TagReading & { valueKind?: string }> = {};
  for (const [tag, reading] of Object.entries(sample.values)) {
    if (typeof reading.value === "number" && !Number.isFinite(reading.value)) {
      throw new Error(
        `sample ${sample.device}/${tag} has value ${reading.value}: non-finite readings must be quality bad with value null`,
      );
    }
    values[tag] = typeof reading.value === "bigint" ? { ...reading, valueKind: BIGINT_VALUE_KIND } : reading;
  }
  return JSON.stringify({ ...sample, values }, recordJsonReplacer);
}

const QUALITIES: readonly Quality[] = ["good", "bad", "uncertain"];

function field<T>(record: Record<string, unknown>, key: string, check: (v: unknown) => v is T): T {
  const value = record[key];
  if (!check(value)) {
    throw new Error(`sample JSON: field "${key}" is missing or has the wrong type`);
  }
  return value;
}

const isString = (v: unknown): v is string => typeof v === "string";
const isBoolean = (v: unknown): v is boolean => typeof v === "boolean";
const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isQuality = (v: unknown): v is Quality => QUALITIES.includes(v as Quality);
const isPlainValue = (v: unknown): v is Exclude<SampleValue, bigint> =>
  v === null || isString(v) || isBoolean(v) || isFiniteNumber(v);

function parseValue(record: Record<string, unknown>): SampleValue {
  if (record.valueKind === undefined) {
    return field(record, "value", isPlainValue);
  }
  const text = field(record, "value", isString);
  if (record.valueKind !== BIGINT_VALUE_KIND || !/^-?\d+$/.test(text)) {
    throw new Error(`sample JSON: valueKind ${JSON.stringify(record.valueKind)} with value ${text}`);
  }
  return BigInt(text);
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`sample JSON: ${what} is not an object`);
  }
  return value as Record<string, unknown>;
}

function parseReading(value: unknown, tag: string): TagReading {
  const record = asObject(value, `values.${tag}`);
  const reading: TagReading = { value: parseValue(record), quality: field(record, "quality", isQuality) };
  const reason = record.reason === undefined ? {} : { reason: field(record, "reason", isString) };
  const unit = record.unit === undefined ? {} : { unit: field(record, "unit", isString) };
  return { ...reading, ...reason, ...unit };
}

/** The inverse of sampleToJson: throws on anything that is not a sample it could have written. */
export function sampleFromJson(text: string): Sample {
  const record = asObject(JSON.parse(text), "the document");
  if (record.kind !== "sample") {
    throw new Error(`sample JSON: kind ${JSON.stringify(record.kind)} is not "sample"`);
  }
  const values: Record<string, TagReading> = {};
  for (const [tag, reading] of Object.entries(asObject(record.values, "values"))) {
    if (tag === "__proto__") {
      throw new Error("sample JSON: tag name __proto__");
    }
    values[tag] = parseReading(reading, tag);
  }
  const group = record.group === undefined ? {} : { group: field(record, "group", isString) };
  return {
    kind: "sample",
    device: field(record, "device", isString),
    ...group,
    ts: field(record, "ts", isFiniteNumber),
    clockSynced: field(record, "clockSynced", isBoolean),
    values,
  };
}
