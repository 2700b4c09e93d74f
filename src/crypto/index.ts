/**
 * crypto/: Ascon (NIST SP 800-232), gateway keys and the sealed envelope (issue #3).
 * This part depends on nothing else in src/ (DESIGN.md, parts table).
 */
export * from "./ascon/index.js";
export {
  ENVELOPE_ALGORITHM,
  ENVELOPE_VERSION,
  EnvelopeError,
  type EnvelopeHeader,
  type EnvelopeMessage,
  type EnvelopeRejection,
  openEnvelope,
  sealEnvelope,
} from "./envelope/index.js";
export {
  DEVICE_KEY_BYTES,
  deriveDeviceKey,
  GATEWAY_KEY_DEVICE,
  KeyFileError,
  KeyLookupError,
  type KeyRing,
  keyFingerprint,
  loadKeyRing,
  MASTER_KEY_BYTES,
} from "./keys/index.js";
