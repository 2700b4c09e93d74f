/** Ascon, NIST SP 800-232 (August 2025), in TypeScript without BigInt or native code (issue #3). */
export { type Aead, type AeadOptions, AsconAuthError, asconAead128 } from "./aead.js";
export { asconCxof128, asconHash256, asconXof128, MAX_CUSTOMIZATION_BYTES } from "./hash.js";
