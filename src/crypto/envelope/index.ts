/**
 * The envelope (issue #3; the format byte for byte in docs/protocol.md): one record sealed for
 * one MQTT topic with Ascon-AEAD128. sealEnvelopeWithTestNonce is deliberately not exported here:
 * production code gets only the random-nonce path.
 */
export { envelopeAssociatedData } from "./associatedData.js";
export {
  ENVELOPE_AD_DOMAIN,
  ENVELOPE_ALGORITHM,
  ENVELOPE_VERSION,
  EnvelopeError,
  type EnvelopeHeader,
  type EnvelopeRejection,
  MAX_PAYLOAD_CHARS,
  MAX_PLAINTEXT_BYTES,
  MAX_SEQ,
  NONCE_BYTES,
  PAYLOAD_FIELDS,
  TAG_BYTES,
} from "./format.js";
export { openEnvelope } from "./open.js";
export { type DeviceKeySource, type EnvelopeMessage, sealEnvelope } from "./seal.js";
