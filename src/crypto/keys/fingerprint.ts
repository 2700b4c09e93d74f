/**
 * What `keys show` prints instead of a key (issue #3): the first 16 hex characters of
 * SHA-256("edgewarden/v1 fingerprint" || 0x00 || key). Domain-separated so that the fingerprint
 * is not the hash of the bare key anyone might compute elsewhere; 64 bits tell keys apart by eye
 * and reveal nothing usable about a 128- or 256-bit key.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, concatBytes, utf8ToBytes } from "@noble/hashes/utils.js";

export const FINGERPRINT_LABEL = "edgewarden/v1 fingerprint";

export function keyFingerprint(key: Uint8Array): string {
  const input = concatBytes(utf8ToBytes(FINGERPRINT_LABEL), Uint8Array.of(0), key);
  const digest = sha256(input);
  // Best effort: the copy of the key in `input` is wiped; JavaScript gives no stronger promise.
  input.fill(0);
  return bytesToHex(digest.subarray(0, 8));
}
