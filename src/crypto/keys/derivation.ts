/**
 * Per-device keys (issue #3; DESIGN.md, Wire requirements: Keys). Each 128-bit device key is
 * HKDF-SHA256 of one gateway master secret with the salt and info fixed in docs/protocol.md:
 *
 *   salt = "edgewarden/v1"
 *   info = "device-key" || 0x00 || keyId || 0x00 || deviceId        (UTF-8, 0x00 separators)
 *   L    = 16 bytes
 *
 * so an upstream consumer can be given the keys of only the devices it may read, and a key of
 * one key id says nothing about another. Ids are validated first: none can contain 0x00, so the
 * info string is unambiguous.
 */
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { KeyLookupError } from "./errors.js";
import { deviceIdProblem, keyIdProblem } from "./identifiers.js";

/** The device id of records that belong to no device (events, checkpoints). */
export const GATEWAY_KEY_DEVICE = "_gateway";
/** Gateway master secret: 256 bits. */
export const MASTER_KEY_BYTES = 32;
/** Derived device key: 128 bits, the Ascon-AEAD128 key size. */
export const DEVICE_KEY_BYTES = 16;

export const DEVICE_KEY_SALT = "edgewarden/v1";
export const DEVICE_KEY_INFO_LABEL = "device-key";

/** The HKDF info for one key id and device; throws KeyLookupError for an invalid id. */
export function deviceKeyInfo(keyId: string, deviceId: string): Uint8Array {
  const problem = keyIdProblem(keyId) ?? deviceIdProblem(deviceId);
  if (problem !== undefined) {
    throw new KeyLookupError(problem);
  }
  const separator = Uint8Array.of(0);
  return concatBytes(
    utf8ToBytes(DEVICE_KEY_INFO_LABEL),
    separator,
    utf8ToBytes(keyId),
    separator,
    utf8ToBytes(deviceId),
  );
}

/** The 16-byte key of `deviceId` under the master secret of `keyId`. A fresh array: the caller may wipe it. */
export function deriveDeviceKey(masterSecret: Uint8Array, keyId: string, deviceId: string): Uint8Array {
  return deriveFromMaster(masterSecret, () => deviceKeyInfo(keyId, deviceId), DEVICE_KEY_BYTES);
}

/**
 * HKDF-SHA256 under the fixed salt from one master secret: every key the gateway derives. The
 * secret's length is checked before the info (and its ids) is built, as each caller did before.
 */
function deriveFromMaster(masterSecret: Uint8Array, info: () => Uint8Array, length: number): Uint8Array {
  if (masterSecret.length !== MASTER_KEY_BYTES) {
    throw new RangeError(`a gateway master secret is ${MASTER_KEY_BYTES} bytes, not ${masterSecret.length}`);
  }
  return hkdf(sha256, masterSecret, utf8ToBytes(DEVICE_KEY_SALT), info(), length);
}

/** Checkpoint key: 256 bits, an HMAC-SHA256 key (issue #5, keyed checkpoints). */
export const CHECKPOINT_KEY_BYTES = 32;
export const CHECKPOINT_KEY_INFO_LABEL = "checkpoint-key";

/** The HKDF info of the checkpoint key of one key id; throws KeyLookupError for an invalid id. */
export function checkpointKeyInfo(keyId: string): Uint8Array {
  const problem = keyIdProblem(keyId);
  if (problem !== undefined) {
    throw new KeyLookupError(problem);
  }
  return concatBytes(utf8ToBytes(CHECKPOINT_KEY_INFO_LABEL), Uint8Array.of(0), utf8ToBytes(keyId));
}

/**
 * The 32-byte key of the ledger's keyed checkpoints under the master secret of `keyId` (issue #5;
 * docs/protocol.md §8.5): HKDF-SHA256 with the device keys' salt and info "checkpoint-key" || 0x00
 * || keyId. Its label differs from "device-key", so no device id can make a device key collide
 * with it, and a device key file (which holds derived device keys only) says nothing about it:
 * checkpoints are verified by whoever holds the gateway key file. A fresh array: the caller may wipe it.
 */
export function deriveCheckpointKey(masterSecret: Uint8Array, keyId: string): Uint8Array {
  return deriveFromMaster(masterSecret, () => checkpointKeyInfo(keyId), CHECKPOINT_KEY_BYTES);
}
