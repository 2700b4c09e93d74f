/**
 * The Ascon state (NIST SP 800-232 §3): 320 bits as five 64-bit words. The permutation itself,
 * unrolled, is generated into rounds.generated.ts from one round template
 * (scripts/generate-ascon-rounds.ts).
 *
 * JavaScript has no fast 64-bit integers (BigInt is ~100x slower), so each word is held as two
 * 32-bit halves: `xNl` (bits 0-31) and `xNh` (bits 32-63), with word bytes in little-endian
 * order as SP 800-232 specifies. A 64-bit rotation becomes four shifts and two ORs on the halves.
 * (Bit interleaving, as in ascon-c's bi32, turns each rotation into two 32-bit rotations, but JS
 * has no rotate instruction either, so it saves nothing and costs an interleave per block.)
 * The state lives in object fields between calls; each permutation or block loop works on
 * locals, so the rounds allocate nothing.
 */

export class AsconState {
  x0l = 0;
  x0h = 0;
  x1l = 0;
  x1h = 0;
  x2l = 0;
  x2h = 0;
  x3l = 0;
  x3h = 0;
  x4l = 0;
  x4h = 0;

  /** Zeroes the state: it may hold key material. */
  wipe(): void {
    this.x0l = this.x0h = this.x1l = this.x1h = this.x2l = this.x2h = 0;
    this.x3l = this.x3h = this.x4l = this.x4h = 0;
  }
}

/**
 * Little-endian 32-bit word at `offset`. Callers keep `offset + 3` within bounds (full blocks
 * only), so the index assertions hold; plain byte access is several times cheaper than a
 * DataView, whose construction dominated short messages.
 */
export function load32(bytes: Uint8Array, offset: number): number {
  return (
    (bytes[offset] as number) |
    ((bytes[offset + 1] as number) << 8) |
    ((bytes[offset + 2] as number) << 16) |
    ((bytes[offset + 3] as number) << 24)
  );
}

/** Writes `word` little-endian at `offset` (a Uint8Array keeps the low 8 bits of each value). */
export function store32(bytes: Uint8Array, offset: number, word: number): void {
  bytes[offset] = word;
  bytes[offset + 1] = word >>> 8;
  bytes[offset + 2] = word >>> 16;
  bytes[offset + 3] = word >>> 24;
}
