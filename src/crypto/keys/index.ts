/**
 * Gateway master keys, derived device keys and their files (issue #3; formats in
 * docs/protocol.md). The envelope seals and opens through a KeyRing; commands use the rest.
 */
export { decodeBase64url, encodeBase64url } from "./base64url.js";
export {
  CHECKPOINT_KEY_BYTES,
  CHECKPOINT_KEY_INFO_LABEL,
  checkpointKeyInfo,
  DEVICE_KEY_BYTES,
  DEVICE_KEY_INFO_LABEL,
  DEVICE_KEY_SALT,
  deriveCheckpointKey,
  deriveDeviceKey,
  deviceKeyInfo,
  GATEWAY_KEY_DEVICE,
  MASTER_KEY_BYTES,
} from "./derivation.js";
export { KeyFileError, KeyLookupError } from "./errors.js";
export { FINGERPRINT_LABEL, keyFingerprint } from "./fingerprint.js";
export { deviceIdProblem, gatewayIdProblem, keyIdNumber, keyIdProblem } from "./identifiers.js";
export {
  CHECKPOINT_KEY_FORMAT,
  type CheckpointKeyFile,
  DEVICE_KEY_FORMAT,
  type DeviceKey,
  type DeviceKeyFile,
  type EnvelopeKeyFile,
  GATEWAY_KEY_FORMAT,
  type GatewayKey,
  type GatewayKeyFile,
  KEY_FILE_VERSION,
  type KeyFile,
  parseKeyFile,
  serializeKeyFile,
  wipeKeyFile,
} from "./keyFile.js";
export {
  exportCheckpointKeys,
  exportDeviceKeys,
  newGatewayKeyFile,
  rotateGatewayKeys,
} from "./keyOperations.js";
export { type CheckpointKeySource, checkpointKeysOf, type KeyRing, keyRingOf } from "./keyRing.js";
export {
  KEY_FILE_MAX_BYTES,
  loadCheckpointKeys,
  loadDeviceKeys,
  loadGatewayKeys,
  loadKeyFile,
  loadKeyRing,
  shellQuote,
} from "./loadKeyFile.js";
export { createKeyFile, isAlreadyExists, replaceKeyFile } from "./writeKeyFile.js";
