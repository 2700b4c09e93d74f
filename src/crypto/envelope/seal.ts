/**
 * Sealing one record for one topic (issue #3; docs/protocol.md, "Sealing"). The nonce is 16 fresh
 * bytes from crypto.getRandomValues for every envelope: never derived from the clock (FAULTS 8.5:
 * a Pi without RTC repeats wall time after a reboot) nor from the sequence number (a restored or
 * re-initialised ledger repeats it). A random 128-bit nonce repeats with probability about
 * n^2 / 2^129 after n envelopes under one key, negligible for any gateway's lifetime.
 */
import { asconAead128 } from "../ascon/index.js";
import type { KeyRing } from "../keys/index.js";
import { envelopeAssociatedData } from "./associatedData.js";
import {
  canonicalPayload,
  type EnvelopeHeader,
  headerProblem,
  MAX_PLAINTEXT_BYTES,
  NONCE_BYTES,
  topicProblem,
} from "./format.js";

/** What the envelope needs of a key ring: a gateway key file's KeyRing, or any stand-in in tests. */
export type DeviceKeySource = Pick<KeyRing, "deviceKey">;

/** One record on one topic: what seal() takes and open() gives back. */
export interface EnvelopeMessage {
  /** The exact MQTT topic name the payload is published to. */
  readonly topic: string;
  readonly header: EnvelopeHeader;
  /** The ledger entry (UTF-8 JSON, issue #5); the envelope treats it as bytes. */
  readonly plaintext: Uint8Array;
}

/**
 * The MQTT payload (canonical JSON text) of `message`, sealed under the key of
 * (header.device, header.keyId) with a fresh random nonce. Throws RangeError or TypeError for a
 * topic, header or plaintext the format cannot carry, and KeyLookupError when the ring has no such key.
 */
export function sealEnvelope(keys: DeviceKeySource, message: EnvelopeMessage): string {
  return sealWithNonce(keys, message, () => globalThis.crypto.getRandomValues(new Uint8Array(NONCE_BYTES)));
}

/**
 * TEST ONLY: sealEnvelope with a nonce the caller chooses, for the worked example of
 * docs/protocol.md, which must be reproducible. Reusing a nonce under one key reveals the XOR of
 * the plaintexts and lets tags be forged, so nothing outside test/ may call this; it is not
 * exported from the envelope's index.
 */
export function sealEnvelopeWithTestNonce(
  keys: DeviceKeySource,
  message: EnvelopeMessage,
  nonce: Uint8Array,
): string {
  if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_BYTES) {
    throw new RangeError(`envelope: a nonce is ${NONCE_BYTES} bytes`);
  }
  return sealWithNonce(keys, message, () => nonce.slice());
}

function sealWithNonce(keys: DeviceKeySource, message: EnvelopeMessage, makeNonce: () => Uint8Array): string {
  const { topic, header, plaintext } = message;
  const problem = topicProblem(topic) ?? headerProblem(header);
  if (problem !== undefined) {
    throw new RangeError(`envelope: cannot seal: ${problem}`);
  }
  if (!(plaintext instanceof Uint8Array)) {
    throw new TypeError("envelope: the plaintext must be a Uint8Array");
  }
  if (plaintext.length > MAX_PLAINTEXT_BYTES) {
    throw new RangeError(
      `envelope: cannot seal ${plaintext.length} bytes (at most ${MAX_PLAINTEXT_BYTES} per record)`,
    );
  }
  const key = keys.deviceKey(header.device, header.keyId);
  try {
    const nonce = makeNonce();
    const sealed = asconAead128(key, nonce, envelopeAssociatedData(topic, header)).encrypt(plaintext);
    return canonicalPayload({ header, n: base64url(nonce), ct: base64url(sealed) });
  } finally {
    // KeyRing.deviceKey returns a fresh copy; wiping it is best effort (the ring keeps its secret).
    key.fill(0);
  }
}

/**
 * Node's encoder writes the same unpadded RFC 4648 §5 text as keys/base64url.ts (whose strict
 * decoder is what matters, on the opening side), in native code: the character-by-character
 * encoder cost more than the cipher for a ledger entry (issue #5, uplink bench).
 */
function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}
