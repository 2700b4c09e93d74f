/**
 * Seeded pseudo-random numbers for the analytics cores (issue #6: "deterministic given a seed; no
 * Math.random in product code"). One generator, shared by every detector that draws.
 */

/**
 * mulberry32 (Tommy Ettinger, public domain): a 32-bit state, one multiply-xorshift round per
 * draw, period 2^32. Statistically plenty for sub-sampling and random splits, and the same stream
 * on every platform, so a seed reproduces a model bit for bit. Returns a function that yields
 * numbers in [0, 1) with 32 bits of resolution. The seed is taken modulo 2^32.
 */
export function seededRandom(seed: number): () => number {
  if (!Number.isInteger(seed)) {
    throw new RangeError(`seed must be an integer, got ${seed}`);
  }
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
