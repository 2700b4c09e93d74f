/**
 * Ascon-Hash256, Ascon-XOF128 and Ascon-CXOF128, NIST SP 800-232 §5: a sponge with a 64-bit
 * rate and p^12 throughout. They differ only in the IV, the output length and, for CXOF128, a
 * customization string absorbed (after its bit length) before the message.
 */
import { AsconState, store32 } from "./permutation.js";
import { hashBlocks, p12 } from "./rounds.generated.js";

const RATE = 8;
/** SP 800-232 §5.1, §5.2, §5.3: IVs as (high, low) halves. */
const IV_HASH256 = [0x00000801, 0x00cc0002] as const;
const IV_XOF128 = [0x00000800, 0x00cc0003] as const;
const IV_CXOF128 = [0x00000800, 0x00cc0004] as const;
/** §5.3: the customization string is at most 2048 bits. */
export const MAX_CUSTOMIZATION_BYTES = 256;
/** A bound on requested output, so that a bad dkLen fails clearly instead of exhausting memory. */
export const MAX_OUTPUT_BYTES = 1 << 30;

export function asconHash256(message: Uint8Array): Uint8Array {
  checkBytes("asconHash256", "message", message);
  const s = start(IV_HASH256);
  absorb(s, message);
  return squeeze(s, 32);
}

export function asconXof128(message: Uint8Array, options: { readonly dkLen: number }): Uint8Array {
  checkBytes("asconXof128", "message", message);
  const length = checkOutputLength("asconXof128", options?.dkLen);
  const s = start(IV_XOF128);
  absorb(s, message);
  return squeeze(s, length);
}

export function asconCxof128(
  message: Uint8Array,
  options: { readonly customization?: Uint8Array; readonly dkLen: number },
): Uint8Array {
  checkBytes("asconCxof128", "message", message);
  const customization = options?.customization ?? new Uint8Array(0);
  checkBytes("asconCxof128", "customization", customization);
  if (customization.length > MAX_CUSTOMIZATION_BYTES) {
    throw new RangeError(
      `asconCxof128: customization must be at most ${MAX_CUSTOMIZATION_BYTES} bytes (got ${customization.length})`,
    );
  }
  const length = checkOutputLength("asconCxof128", options?.dkLen);
  const s = start(IV_CXOF128);
  // §5.3: the length of Z in bits, as a 64-bit little-endian block, then Z padded, then M.
  const bits = customization.length * 8;
  s.x0l ^= bits;
  p12(s);
  absorb(s, customization);
  absorb(s, message);
  return squeeze(s, length);
}

function start(iv: readonly [number, number]): AsconState {
  const s = new AsconState();
  s.x0h = iv[0];
  s.x0l = iv[1];
  p12(s);
  return s;
}

/** Absorbs the input with its 0x01 padding; every block, the padded last one too, ends with p^12. */
function absorb(s: AsconState, input: Uint8Array): void {
  const full = input.length - (input.length % RATE);
  hashBlocks(s, input, full);
  let low = 0;
  let high = 0;
  for (let i = full; i < input.length; i++) {
    const byte = input[i] as number;
    const shift = 8 * ((i - full) % 4);
    if (i - full < 4) {
      low |= byte << shift;
    } else {
      high |= byte << shift;
    }
  }
  const pad = input.length - full;
  if (pad < 4) {
    low |= 0x01 << (8 * pad);
  } else {
    high |= 0x01 << (8 * (pad - 4));
  }
  s.x0l ^= low;
  s.x0h ^= high;
  p12(s);
}

/** Squeezes `length` bytes: x0 gives 8 bytes, then p^12, until done. */
function squeeze(s: AsconState, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  while (offset + RATE <= length) {
    store32(out, offset, s.x0l);
    store32(out, offset + 4, s.x0h);
    offset += RATE;
    if (offset < length) {
      p12(s);
    }
  }
  for (let i = 0; offset < length; i++, offset++) {
    out[offset] = ((i < 4 ? s.x0l : s.x0h) >>> (8 * (i % 4))) & 0xff;
  }
  s.wipe();
  return out;
}

function checkBytes(fn: string, what: string, value: unknown): void {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${fn}: ${what} must be a Uint8Array`);
  }
}

function checkOutputLength(fn: string, dkLen: unknown): number {
  if (typeof dkLen !== "number" || !Number.isInteger(dkLen) || dkLen < 1 || dkLen > MAX_OUTPUT_BYTES) {
    throw new RangeError(
      `${fn}: dkLen must be a whole number of bytes from 1 to ${MAX_OUTPUT_BYTES} (got ${String(dkLen)})`,
    );
  }
  return dkLen;
}
