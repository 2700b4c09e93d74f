/**
 * The Ascon permutation (NIST SP 800-232 §3) on a 320-bit state of five 64-bit words.
 *
 * JavaScript has no fast 64-bit integers (BigInt is ~100x slower), so each word is held as two
 * 32-bit halves: `xNl` (bits 0-31) and `xNh` (bits 32-63), with word bytes in little-endian
 * order as SP 800-232 specifies. A 64-bit rotation becomes four shifts and two ORs on the halves.
 * (Bit interleaving, as in ascon-c's bi32, turns each rotation into two 32-bit rotations, but JS
 * has no rotate instruction either, so it saves nothing and costs an interleave per block.)
 * The state lives in object fields: V8 keeps them unboxed in one hidden class, and each call
 * works on locals, so the rounds allocate nothing.
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

/** Round constants c_i of SP 800-232 Table 5; p^r uses the last r of them. */
const ROUND_CONSTANTS = [0xf0, 0xe1, 0xd2, 0xc3, 0xb4, 0xa5, 0x96, 0x87, 0x78, 0x69, 0x5a, 0x4b] as const;

/** Applies p^rounds (rounds = 12, 8 or 6) to the state in place. */
export function permute(s: AsconState, rounds: 12 | 8 | 6): void {
  let x0l = s.x0l;
  let x0h = s.x0h;
  let x1l = s.x1l;
  let x1h = s.x1h;
  let x2l = s.x2l;
  let x2h = s.x2h;
  let x3l = s.x3l;
  let x3h = s.x3h;
  let x4l = s.x4l;
  let x4h = s.x4h;
  let t0: number;
  let t1: number;
  let t2: number;
  let t3: number;
  let t4: number;
  let tl: number;
  let th: number;
  for (let r = 12 - rounds; r < 12; r++) {
    // Constant addition p_C: into the low byte of x2.
    x2l ^= ROUND_CONSTANTS[r] ?? 0;

    // Substitution layer p_S: the 5-bit S-box, bitsliced, on the low halves then the high ones.
    x0l ^= x4l;
    x4l ^= x3l;
    x2l ^= x1l;
    t0 = ~x0l & x1l;
    t1 = ~x1l & x2l;
    t2 = ~x2l & x3l;
    t3 = ~x3l & x4l;
    t4 = ~x4l & x0l;
    x0l ^= t1;
    x1l ^= t2;
    x2l ^= t3;
    x3l ^= t4;
    x4l ^= t0;
    x1l ^= x0l;
    x0l ^= x4l;
    x3l ^= x2l;
    x2l = ~x2l;

    x0h ^= x4h;
    x4h ^= x3h;
    x2h ^= x1h;
    t0 = ~x0h & x1h;
    t1 = ~x1h & x2h;
    t2 = ~x2h & x3h;
    t3 = ~x3h & x4h;
    t4 = ~x4h & x0h;
    x0h ^= t1;
    x1h ^= t2;
    x2h ^= t3;
    x3h ^= t4;
    x4h ^= t0;
    x1h ^= x0h;
    x0h ^= x4h;
    x3h ^= x2h;
    x2h = ~x2h;

    // Linear layer p_L: x ^= (x >>> a) ^ (x >>> b) with 64-bit rotations.
    // x0: 19, 28
    tl = x0l ^ ((x0l >>> 19) | (x0h << 13)) ^ ((x0l >>> 28) | (x0h << 4));
    th = x0h ^ ((x0h >>> 19) | (x0l << 13)) ^ ((x0h >>> 28) | (x0l << 4));
    x0l = tl;
    x0h = th;
    // x1: 61 (= 32 + 29), 39 (= 32 + 7)
    tl = x1l ^ ((x1h >>> 29) | (x1l << 3)) ^ ((x1h >>> 7) | (x1l << 25));
    th = x1h ^ ((x1l >>> 29) | (x1h << 3)) ^ ((x1l >>> 7) | (x1h << 25));
    x1l = tl;
    x1h = th;
    // x2: 1, 6
    tl = x2l ^ ((x2l >>> 1) | (x2h << 31)) ^ ((x2l >>> 6) | (x2h << 26));
    th = x2h ^ ((x2h >>> 1) | (x2l << 31)) ^ ((x2h >>> 6) | (x2l << 26));
    x2l = tl;
    x2h = th;
    // x3: 10, 17
    tl = x3l ^ ((x3l >>> 10) | (x3h << 22)) ^ ((x3l >>> 17) | (x3h << 15));
    th = x3h ^ ((x3h >>> 10) | (x3l << 22)) ^ ((x3h >>> 17) | (x3l << 15));
    x3l = tl;
    x3h = th;
    // x4: 7, 41 (= 32 + 9)
    tl = x4l ^ ((x4l >>> 7) | (x4h << 25)) ^ ((x4h >>> 9) | (x4l << 23));
    th = x4h ^ ((x4h >>> 7) | (x4l << 25)) ^ ((x4l >>> 9) | (x4h << 23));
    x4l = tl;
    x4h = th;
  }
  s.x0l = x0l;
  s.x0h = x0h;
  s.x1l = x1l;
  s.x1h = x1h;
  s.x2l = x2l;
  s.x2h = x2h;
  s.x3l = x3l;
  s.x3h = x3h;
  s.x4l = x4l;
  s.x4h = x4h;
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
