/**
 * Parts counted between two readings of a PLC counter (issue #6 item 4: OEE "from counters").
 * Counters only go up, so a value below the previous one is one of two things:
 *
 * - a wrap: a 16- or 32-bit register rolled over. Taken as a wrap only when the previous value sat
 *   in the top sixteenth of that range and the parts implied by rolling over (modulus - previous +
 *   current) are at most a sixteenth of it; then those parts are counted.
 * - a reset: a PLC restart, a shift-start reset by the operator, a replaced module. Counting
 *   restarts from the new value: it becomes the baseline and nothing is added for this step,
 *   because the new value may be a preset or a stored count rather than parts made since the reset
 *   (the parts made between the reset and the first reading after it, at most a poll interval's
 *   worth, are lost; a preset counted as production would be worse).
 *
 * Both are counted by the tracker (counterResets) so a technician can see a counter misbehaving.
 */

export type CounterStep =
  | { readonly kind: "first" }
  | { readonly kind: "delta"; readonly parts: number }
  | { readonly kind: "wrap"; readonly parts: number; readonly bits: 16 | 32 }
  | { readonly kind: "reset" };

const REGISTER_BITS = [16, 32] as const;
/** Fraction of the register's range a wrap may span (and the band below the top it must start in). */
const WRAP_WINDOW = 1 / 16;

/** The step from `previous` (null before the first reading) to `current`; both finite and >= 0. */
export function counterStep(previous: number | null, current: number): CounterStep {
  if (previous === null) {
    return { kind: "first" };
  }
  if (current >= previous) {
    return { kind: "delta", parts: current - previous };
  }
  for (const bits of REGISTER_BITS) {
    const modulus = 2 ** bits;
    const window = modulus * WRAP_WINDOW;
    if (previous < modulus && previous >= modulus - window && modulus - previous + current <= window) {
      return { kind: "wrap", parts: modulus - previous + current, bits };
    }
  }
  return { kind: "reset" };
}
