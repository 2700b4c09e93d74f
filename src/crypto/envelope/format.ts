/**
 * The envelope's wire format, version 1 (issue #3; byte for byte in docs/protocol.md): the
 * constants, the header as the code sees it, the rules every header field obeys on both sides,
 * and the one canonical JSON text of a payload.
 *
 *   {"v":1,"alg":"ascon-aead128","gw":"<gateway>","dev":"<device>","kid":"<key id>",
 *    "seq":"<decimal>","ts":<ms>,"n":"<base64url, 16 bytes>","ct":"<base64url, ciphertext || tag>"}
 */
import { deviceIdProblem, gatewayIdProblem, keyIdProblem } from "../keys/index.js";

export const ENVELOPE_VERSION = 1;
/** Also the value of the config's `crypto.encryption` that selects sealing. */
export const ENVELOPE_ALGORITHM = "ascon-aead128";
/** First field of the associated data, so that no other use of a device key can yield a valid tag. */
export const ENVELOPE_AD_DOMAIN = "edgewarden-envelope/v1";

export const NONCE_BYTES = 16;
export const TAG_BYTES = 16;
/** Sealing refuses more; a ledger entry is a few hundred bytes, so this only stops a runaway record. */
export const MAX_PLAINTEXT_BYTES = 512 * 1024;
/**
 * Opening refuses a longer payload before parsing it. A sealed MAX_PLAINTEXT_BYTES record is about
 * 700 KiB of text, so every payload seal() makes fits; the cap bounds what a broker can make us parse.
 */
export const MAX_PAYLOAD_CHARS = 1024 * 1024;
/** MQTT 5 §1.5.4: a topic name is a UTF-8 string of at most 65,535 bytes (also our 2-byte AD length). */
export const MAX_TOPIC_BYTES = 65_535;
/** Sequence numbers are unsigned 64-bit: beyond 2^53, hence a decimal string on the wire. */
export const MAX_SEQ = 2n ** 64n - 1n;

/** The payload's fields, in the one order the canonical text has. */
export const PAYLOAD_FIELDS = ["v", "alg", "gw", "dev", "kid", "seq", "ts", "n", "ct"] as const;

/** Why an envelope did not open (docs/protocol.md, "Opening"). */
export type EnvelopeRejection =
  /** Not an envelope: bad JSON, a missing, extra or mistyped field, bad base64url, a wrong length, too large, a bad topic. */
  | "malformed"
  /** "v" is a number other than 1: a newer gateway; this receiver must be upgraded. */
  | "unsupported-version"
  /** "alg" names an algorithm other than "ascon-aead128". */
  | "unsupported-algorithm"
  /** The key ring has no key for this device and key id (or holds only another device's keys). */
  | "unknown-key"
  /** The tag does not verify: altered, truncated, sealed under another key, or moved to another topic. */
  | "auth-failed";

export class EnvelopeError extends Error {
  override readonly name = "EnvelopeError";
  readonly reason: EnvelopeRejection;

  constructor(reason: EnvelopeRejection, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

/** The header fields of one envelope, as seal() takes them and open() returns them. */
export interface EnvelopeHeader {
  /** gateway.id of the sealing gateway. */
  readonly gateway: string;
  /** The device whose derived key seals the record; "_gateway" for records of no device. */
  readonly device: string;
  /** The key id of the gateway master secret the device key is derived from ("k1", ...). */
  readonly keyId: string;
  /** The record's ledger sequence number (unsigned 64-bit). */
  readonly seq: bigint;
  /** Wall-clock ms since the epoch when sealed: a label only, never used to make the nonce (FAULTS 8.5). */
  readonly ts: number;
}

/** The header's problem, if any, as "field: what is wrong" (the same rules for seal and open). */
export function headerProblem(header: EnvelopeHeader): string | undefined {
  const gatewayProblem = gatewayIdProblem(header.gateway);
  if (gatewayProblem !== undefined) {
    return `gw: ${gatewayProblem}`;
  }
  const deviceProblem = deviceIdProblem(header.device);
  if (deviceProblem !== undefined) {
    return `dev: ${deviceProblem}`;
  }
  const keyProblem = keyIdProblem(header.keyId);
  if (keyProblem !== undefined) {
    return `kid: ${keyProblem}`;
  }
  if (header.seq < 0n || header.seq > MAX_SEQ) {
    return `seq: ${header.seq} is outside 0 to 2^64-1`;
  }
  if (!Number.isSafeInteger(header.ts) || header.ts < 0) {
    return `ts: ${header.ts} is not a whole number of milliseconds from 0 to 2^53-1`;
  }
  return undefined;
}

/**
 * The topic's problem, if any. The topic is bound into the associated data with a 2-byte length,
 * and must be a topic name a broker accepts: no wildcard, no U+0000, well-formed UTF-16 (a lone
 * surrogate would be encoded as U+FFFD and bind a topic nobody published to).
 */
export function topicProblem(topic: string): string | undefined {
  if (topic.length === 0) {
    return "topic: empty";
  }
  if (/[+#\0]/.test(topic)) {
    return 'topic: contains "+", "#" or U+0000, which a topic name cannot';
  }
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(topic)) {
    return "topic: not well-formed Unicode (a lone surrogate)";
  }
  const bytes = new TextEncoder().encode(topic).length;
  if (bytes > MAX_TOPIC_BYTES) {
    return `topic: ${bytes} bytes of UTF-8 is longer than MQTT allows (${MAX_TOPIC_BYTES})`;
  }
  return undefined;
}

/** The wire text of each field, before it is put into the canonical JSON. */
export interface PayloadFields {
  readonly header: EnvelopeHeader;
  /** base64url of the nonce, without padding. */
  readonly n: string;
  /** base64url of ciphertext || tag, without padding. */
  readonly ct: string;
}

/**
 * The canonical payload text: keys in PAYLOAD_FIELDS order, no whitespace. Every value is plain
 * ASCII from a small alphabet (ids, digits, base64url; both callers validate them first), so
 * JSON.stringify would escape nothing and the text is the same in any language that follows
 * docs/protocol.md. Written as a template: JSON.stringify scanned the ~1 KB for escapes on every
 * record, a sixth of the sealing time (issue #5, uplink bench).
 */
export function canonicalPayload(fields: PayloadFields): string {
  const { header } = fields;
  return `{"v":${ENVELOPE_VERSION},"alg":"${ENVELOPE_ALGORITHM}","gw":"${header.gateway}","dev":"${header.device}","kid":"${header.keyId}","seq":"${header.seq.toString(10)}","ts":${header.ts},"n":"${fields.n}","ct":"${fields.ct}"}`;
}
