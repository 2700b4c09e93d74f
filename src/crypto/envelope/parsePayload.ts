/**
 * Everything open() checks before it touches a key or the cipher (issue #3; docs/protocol.md,
 * "Opening", steps 1-8): size, JSON, version, algorithm, the exact field set, each field's type
 * and form, base64url and lengths, and finally that the text is the canonical one. Each failure
 * is an EnvelopeError with a message naming the field; nothing else is thrown.
 */
import { decodeBase64url } from "../keys/index.js";
import {
  canonicalPayload,
  ENVELOPE_ALGORITHM,
  ENVELOPE_VERSION,
  EnvelopeError,
  type EnvelopeHeader,
  headerProblem,
  MAX_PAYLOAD_CHARS,
  MAX_PLAINTEXT_BYTES,
  MAX_SEQ,
  NONCE_BYTES,
  PAYLOAD_FIELDS,
  TAG_BYTES,
} from "./format.js";

/** A payload that passed every syntactic check: what the cipher needs. */
export interface ParsedPayload {
  readonly header: EnvelopeHeader;
  readonly nonce: Uint8Array;
  /** Ciphertext || tag. */
  readonly sealed: Uint8Array;
}

/** Canonical decimal: no sign, no leading zero (so one seq has one spelling), at most 20 digits. */
const SEQ_TEXT = /^(?:0|[1-9][0-9]{0,19})$/;

export function parsePayload(payload: unknown): ParsedPayload {
  if (typeof payload !== "string") {
    throw malformed(`the payload must be text (got ${typeof payload})`);
  }
  if (payload.length > MAX_PAYLOAD_CHARS) {
    throw malformed(`${payload.length} characters is longer than an envelope can be (${MAX_PAYLOAD_CHARS})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch (error) {
    throw malformed(`not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw malformed(`expected a JSON object (got ${Array.isArray(json) ? "an array" : String(json)})`);
  }
  const fields = json as Record<string, unknown>;
  // Version and algorithm first: a newer envelope may have other fields, and saying "upgrade"
  // is more useful than listing them as unexpected.
  const version = fields.v;
  if (typeof version !== "number" || !Number.isSafeInteger(version)) {
    throw malformed(version === undefined ? 'missing field "v"' : '"v" must be a whole number');
  }
  if (version !== ENVELOPE_VERSION) {
    throw new EnvelopeError(
      "unsupported-version",
      `envelope version ${version} is not supported (this receiver opens version ${ENVELOPE_VERSION})`,
    );
  }
  const algorithm = fields.alg;
  if (typeof algorithm !== "string") {
    throw malformed(algorithm === undefined ? 'missing field "alg"' : '"alg" must be text');
  }
  if (algorithm !== ENVELOPE_ALGORITHM) {
    throw new EnvelopeError(
      "unsupported-algorithm",
      `algorithm ${quote(algorithm)} is not supported (expected "${ENVELOPE_ALGORITHM}")`,
    );
  }
  checkFieldSet(fields);
  const header: EnvelopeHeader = {
    gateway: textField(fields, "gw"),
    device: textField(fields, "dev"),
    keyId: textField(fields, "kid"),
    seq: seqField(fields.seq),
    ts: tsField(fields.ts),
  };
  const problem = headerProblem(header);
  if (problem !== undefined) {
    throw malformed(problem);
  }
  const nonce = bytesField(fields, "n");
  if (nonce.length !== NONCE_BYTES) {
    throw malformed(`"n" must be ${NONCE_BYTES} bytes (got ${nonce.length})`);
  }
  const sealed = bytesField(fields, "ct");
  if (sealed.length < TAG_BYTES) {
    throw malformed(`"ct" must hold at least the ${TAG_BYTES}-byte tag (got ${sealed.length} bytes)`);
  }
  if (sealed.length > MAX_PLAINTEXT_BYTES + TAG_BYTES) {
    throw malformed(`"ct" is ${sealed.length} bytes, more than a record can be sealed to`);
  }
  // Every field is valid; what is left to differ from the canonical text is whitespace, key
  // order, duplicate keys, escapes or number spelling. Refusing those keeps one envelope one byte
  // string, so no two JSON parsers can read one payload differently (docs/protocol.md, "Why").
  const canonical = canonicalPayload({ header, n: fields.n as string, ct: fields.ct as string });
  if (payload !== canonical) {
    throw malformed(
      `not in canonical form (fields in the order ${PAYLOAD_FIELDS.join(", ")}, no whitespace, no escapes, no duplicates)`,
    );
  }
  return { header, nonce, sealed };
}

function checkFieldSet(fields: Record<string, unknown>): void {
  const expected: readonly string[] = PAYLOAD_FIELDS;
  const missing = PAYLOAD_FIELDS.filter((name) => !Object.hasOwn(fields, name));
  if (missing.length > 0) {
    throw malformed(`missing field${missing.length > 1 ? "s" : ""} ${missing.map(quote).join(", ")}`);
  }
  const extra = Object.keys(fields).filter((name) => !expected.includes(name));
  if (extra.length > 0) {
    const shown = extra.slice(0, 5).map(quote).join(", ");
    throw malformed(
      `unexpected field${extra.length > 1 ? "s" : ""} ${shown}${extra.length > 5 ? ", ..." : ""} (version 1 has exactly ${PAYLOAD_FIELDS.join(", ")})`,
    );
  }
}

/** gw, dev and kid: text here; their form is checked with the rest of the header (headerProblem). */
function textField(fields: Record<string, unknown>, name: "gw" | "dev" | "kid"): string {
  const value = fields[name];
  if (typeof value !== "string") {
    throw malformed(`"${name}" must be text (got ${jsonType(value)})`);
  }
  return value;
}

function seqField(value: unknown): bigint {
  if (typeof value !== "string") {
    throw malformed(`"seq" must be a decimal number in a string, such as "1234" (got ${jsonType(value)})`);
  }
  if (!SEQ_TEXT.test(value)) {
    throw malformed(`"seq" ${quote(value)} is not a decimal number without sign or leading zeros`);
  }
  const seq = BigInt(value);
  if (seq > MAX_SEQ) {
    throw malformed(`"seq" ${value} is larger than 2^64-1`);
  }
  return seq;
}

function tsField(value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw malformed(`"ts" must be a whole number of milliseconds from 0 to 2^53-1 (got ${quote(value)})`);
  }
  return value;
}

function bytesField(fields: Record<string, unknown>, name: "n" | "ct"): Uint8Array {
  const value = fields[name];
  if (typeof value !== "string") {
    throw malformed(`"${name}" must be base64url text (got ${jsonType(value)})`);
  }
  const bytes = decodeBase64url(value);
  if (bytes === undefined) {
    throw malformed(`"${name}" is not canonical base64url without padding (alphabet A-Z a-z 0-9 - _)`);
  }
  return bytes;
}

function malformed(message: string): EnvelopeError {
  return new EnvelopeError("malformed", message);
}

function jsonType(value: unknown): string {
  if (value === null) {
    return "null";
  }
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}

/** A value for a message, quoted and cut short: it came off the wire. */
function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 70 ? `${text.slice(0, 67)}...` : text;
}
