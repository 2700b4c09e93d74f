/**
 * Strict base64url without padding (RFC 4648 §5), for key bytes in key files. Written out rather
 * than taken from Buffer because Buffer's decoder skips bad characters and accepts non-zero
 * trailing bits, so two spellings could mean one key; here every key has exactly one spelling,
 * and no decoded secret lands in Buffer's shared pool.
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/**
 * Char code -> 6-bit value, -1 where the code is not in the alphabet. A typed table indexed by
 * charCodeAt: the receiver decodes every envelope's ciphertext, and a Map lookup per character
 * was about a third of its time per message (npm run bench:receiver).
 */
const VALUES = new Int8Array(128).fill(-1);
for (let index = 0; index < ALPHABET.length; index++) {
  VALUES[ALPHABET.charCodeAt(index)] = index;
}

export function encodeBase64url(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] ?? 0;
    const b = bytes[i + 1] ?? 0;
    const c = bytes[i + 2] ?? 0;
    const remaining = bytes.length - i;
    text += ALPHABET[a >> 2];
    text += ALPHABET[((a & 0x03) << 4) | (b >> 4)];
    if (remaining > 1) {
      text += ALPHABET[((b & 0x0f) << 2) | (c >> 6)];
    }
    if (remaining > 2) {
      text += ALPHABET[c & 0x3f];
    }
  }
  return text;
}

/** The bytes, or undefined for anything but the one canonical unpadded spelling. */
export function decodeBase64url(text: string): Uint8Array | undefined {
  if (text.length % 4 === 1) {
    return undefined;
  }
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let bitCount = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? (VALUES[code] ?? -1) : -1;
    if (value < 0) {
      out.fill(0);
      return undefined;
    }
    bits = ((bits << 6) | value) & 0xfff;
    bitCount += 6;
    if (bitCount >= 8) {
      bitCount -= 8;
      out[o++] = (bits >> bitCount) & 0xff;
    }
  }
  // Leftover bits must be zero, or "AB" and "AC" would both decode to one byte.
  if ((bits & ((1 << bitCount) - 1)) !== 0) {
    out.fill(0);
    return undefined;
  }
  return out;
}
