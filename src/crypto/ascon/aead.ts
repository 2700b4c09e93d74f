/**
 * Ascon-AEAD128, NIST SP 800-232 §4 (not the pre-standard Ascon-128 v1.2: that has another IV,
 * a 64-bit rate, big-endian words and different padding and domain separation).
 * Key, nonce and tag are 128 bits; the rate is 128 bits; p^12 initialises and finalises, p^8
 * processes each block.
 */
import { AsconState, load32, store32 } from "./permutation.js";
import { ABSORB, aeadBlocks, DECRYPT, ENCRYPT, p8, p12 } from "./rounds.generated.js";

const KEY_BYTES = 16;
const NONCE_BYTES = 16;
const TAG_BYTES = 16;
const RATE = 16;
/** SP 800-232 §4.1: IV = 0x00001000808c0001 (k=128, r=128, a=12, b=8, v=1), as two halves. */
const IV_LOW = 0x808c0001 | 0;
const IV_HIGH = 0x00001000;
/** Domain separation after the associated data: the last state bit, the top bit of x4. */
const DOMAIN_BIT = 0x80000000 | 0;

export class AsconAuthError extends Error {
  constructor() {
    super(
      "ascon-aead128: authentication failed (wrong key, nonce or associated data, or altered ciphertext)",
    );
    this.name = "AsconAuthError";
  }
}

export interface Aead {
  /** Returns ciphertext || tag. An instance encrypts once: a nonce must never be reused. */
  encrypt(plaintext: Uint8Array): Uint8Array;
  /** Takes ciphertext || tag; throws AsconAuthError, releasing no plaintext, if the tag is wrong. */
  decrypt(ciphertext: Uint8Array): Uint8Array;
}

export interface AeadOptions {
  /** Tag length in bytes, 8 to 16 (SP 800-232 §4.2.2 allows truncation to no fewer than 64 bits). */
  readonly tagLength?: number;
}

/**
 * One state and one scratch block for every call: process() runs to completion without yielding
 * (JavaScript is single-threaded and it calls nothing re-entrant), so nothing can interleave,
 * and a fresh state per message cost ten boxed numbers of garbage. Both are wiped after use.
 */
const STATE = new AsconState();
const SCRATCH = new Uint8Array(RATE);

/** Key and nonce as the 32-bit halves the mode works on: k0l k0h k1l k1h n0l n0h n1l n1h. */
type Words = readonly [number, number, number, number, number, number, number, number];

/**
 * Ascon-AEAD128 with a 16-byte key and nonce (noble-ciphers style). Key, nonce and associated
 * data are read when the instance is made, so later changes to the caller's arrays do not matter.
 */
export function asconAead128(
  key: Uint8Array,
  nonce: Uint8Array,
  associatedData: Uint8Array = new Uint8Array(0),
  options: AeadOptions = {},
): Aead {
  checkBytes("key", key, KEY_BYTES);
  checkBytes("nonce", nonce, NONCE_BYTES);
  if (!(associatedData instanceof Uint8Array)) {
    throw new TypeError("ascon-aead128: associated data must be a Uint8Array");
  }
  const tagLength = options.tagLength ?? TAG_BYTES;
  if (!Number.isInteger(tagLength) || tagLength < 8 || tagLength > TAG_BYTES) {
    throw new RangeError(`ascon-aead128: tag length must be 8 to 16 bytes (got ${String(tagLength)})`);
  }
  return aeadWithTagLength(key, nonce, associatedData, tagLength);
}

/**
 * The same with any tag length from 1 to 16 bytes and no argument checks beyond sizes. Only for
 * test vectors (NIST ACVP samples use 32-bit tags); production code uses asconAead128, which
 * refuses tags below 64 bits.
 */
export function aeadWithTagLength(
  key: Uint8Array,
  nonce: Uint8Array,
  ad: Uint8Array,
  tagLength: number,
): Aead {
  const words: Words = [
    load32(key, 0),
    load32(key, 4),
    load32(key, 8),
    load32(key, 12),
    load32(nonce, 0),
    load32(nonce, 4),
    load32(nonce, 8),
    load32(nonce, 12),
  ];
  const associated = ad.length === 0 ? ad : ad.slice();
  let used = false;
  return {
    encrypt(plaintext) {
      checkInput("plaintext", plaintext);
      if (used) {
        throw new Error(
          "ascon-aead128: this instance has encrypted already; use a fresh nonce for every message",
        );
      }
      used = true;
      const out = new Uint8Array(plaintext.length + tagLength);
      process(words, associated, plaintext, out, false);
      out.set(SCRATCH.subarray(0, tagLength), plaintext.length);
      SCRATCH.fill(0);
      return out;
    },
    decrypt(ciphertext) {
      checkInput("ciphertext", ciphertext);
      if (ciphertext.length < tagLength) {
        throw new AsconAuthError();
      }
      const length = ciphertext.length - tagLength;
      const out = new Uint8Array(length);
      process(words, associated, ciphertext.subarray(0, length), out, true);
      const valid = equalConstantTime(SCRATCH, ciphertext.subarray(length), tagLength);
      SCRATCH.fill(0);
      if (!valid) {
        out.fill(0);
        throw new AsconAuthError();
      }
      return out;
    },
  };
}

/** Runs the whole mode; writes ciphertext (or plaintext) into `out` and the full tag into SCRATCH. */
function process(
  words: Words,
  ad: Uint8Array,
  input: Uint8Array,
  out: Uint8Array,
  decrypting: boolean,
): void {
  const [k0l, k0h, k1l, k1h, n0l, n0h, n1l, n1h] = words;
  const s = STATE;

  // Initialisation (§4.1.1): S = IV || K || N; p^12; S ^= 0^192 || K.
  s.x0l = IV_LOW;
  s.x0h = IV_HIGH;
  s.x1l = k0l;
  s.x1h = k0h;
  s.x2l = k1l;
  s.x2h = k1h;
  s.x3l = n0l;
  s.x3h = n0h;
  s.x4l = n1l;
  s.x4h = n1h;
  p12(s);
  s.x3l ^= k0l;
  s.x3h ^= k0h;
  s.x4l ^= k1l;
  s.x4h ^= k1h;

  // Associated data (§4.1.2): absorbed only if present, padded with 0x01 then zeros.
  if (ad.length > 0) {
    const full = ad.length - (ad.length % RATE);
    aeadBlocks(s, ad, ad, full, ABSORB);
    lastBlock(s, ad.subarray(full), undefined, false);
    p8(s);
  }
  s.x4h ^= DOMAIN_BIT;

  // Plaintext or ciphertext (§4.1.3): full blocks, then the padded last block.
  const full = input.length - (input.length % RATE);
  aeadBlocks(s, input, out, full, decrypting ? DECRYPT : ENCRYPT);
  lastBlock(s, input.subarray(full), out.subarray(full), decrypting);

  // Finalisation (§4.1.4): S ^= 0^128 || K || 0^64; p^12; T = S[192..319] ^ K.
  s.x2l ^= k0l;
  s.x2h ^= k0h;
  s.x3l ^= k1l;
  s.x3h ^= k1h;
  p12(s);
  store32(SCRATCH, 0, s.x3l ^ k0l);
  store32(SCRATCH, 4, s.x3h ^ k0h);
  store32(SCRATCH, 8, s.x4l ^ k1l);
  store32(SCRATCH, 12, s.x4h ^ k1h);
  s.wipe();
}

/**
 * A last block of 0-15 bytes and its 0x01 padding byte. With `out`, the block is data: its
 * output (C = S ^ P, or P = S ^ C) goes to `out` and the state takes the ciphertext byte.
 * Without, it is associated data and is only absorbed.
 */
function lastBlock(s: AsconState, block: Uint8Array, out: Uint8Array | undefined, decrypting: boolean): void {
  const rate = SCRATCH;
  store32(rate, 0, s.x0l);
  store32(rate, 4, s.x0h);
  store32(rate, 8, s.x1l);
  store32(rate, 12, s.x1h);
  for (let i = 0; i < block.length; i++) {
    const input = block[i] as number;
    const mixed = (rate[i] as number) ^ input;
    if (out !== undefined) {
      out[i] = mixed;
    }
    rate[i] = decrypting ? input : mixed;
  }
  rate[block.length] = (rate[block.length] as number) ^ 0x01;
  s.x0l = load32(rate, 0);
  s.x0h = load32(rate, 4);
  s.x1l = load32(rate, 8);
  s.x1h = load32(rate, 12);
  rate.fill(0);
}

/** Compares the first `length` bytes without an early exit, so timing says nothing about where they differ. */
export function equalConstantTime(a: Uint8Array, b: Uint8Array, length: number): boolean {
  if (a.length < length || b.length !== length) {
    return false;
  }
  let diff = 0;
  for (let i = 0; i < length; i++) {
    diff |= (a[i] as number) ^ (b[i] as number);
  }
  return diff === 0;
}

function checkBytes(what: string, value: unknown, length: number): void {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`ascon-aead128: ${what} must be a Uint8Array`);
  }
  if (value.length !== length) {
    throw new RangeError(`ascon-aead128: ${what} must be ${length} bytes (got ${value.length})`);
  }
}

function checkInput(what: string, value: unknown): void {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`ascon-aead128: ${what} must be a Uint8Array`);
  }
}
