/**
 * Persistence for the typed rules of the power and gateway profiles (issue #6 item 2): a rule
 * speaks only after its condition held over several consecutive readings and a minimum time, so
 * one spike or one late sample is not an alert, and its probability grows with how far past the
 * band the readings were and how long it has lasted. One small run record per rule, plain JSON,
 * so a monitor's state is bounded (one record per rule) and survives a restart.
 */
import * as z from "zod";
import type { Finding } from "../findings.js";

/** How long a condition must hold before its rule speaks: both bounds apply. */
export interface Persistence {
  /** Consecutive readings with the condition. */
  readonly readings: number;
  /** Time from the first such reading, ms; 0 for "readings only". */
  readonly ms: number;
}

/** One rule's current run of consecutive readings with its condition true. */
export interface RuleRun {
  count: number;
  sinceTs: number;
  /** Sum of the readings' excess (how far past the band, in the band's spread); for the mean. */
  excessSum: number;
}

/**
 * A rule's verdict on one reading: an excess >= 0 when the condition holds, CLEAR when it does
 * not (the run ends), HOLD when the reading cannot say (its field missing, the machine in a state
 * where the rule does not apply): the run neither grows nor ends.
 */
export const CLEAR = -1;
export const HOLD = Number.NaN;

/** Cap on the "how long" term, so duration alone lifts a marginal finding to at most about 0.97. */
const MAX_DURATION_TERM = 3;

export const ruleRunSchema = z.strictObject({
  count: z.number().int().min(1),
  sinceTs: z.number(),
  excessSum: z.number().nonnegative(),
});

export const persistenceSchema = z.strictObject({
  readings: z.number().int().min(1),
  ms: z.number().nonnegative(),
});

/** The runs of a fixed set of rules; one record each at most, whatever the input rate. */
export class RuleRuns<T extends string> {
  readonly #runs = new Map<T, RuleRun>();
  /**
   * The last finding of each rule whose run has spoken, while that run lasts. A reading on HOLD
   * repeats it (heldFinding): the rule cannot judge that reading (the power-factor rule while the
   * machine idles, a missing field), and silence would read as "the fault is gone" to the alert
   * engine, which would end the episode and raise a new one when the rule speaks again (one fault,
   * several alerts). Run-time only: after a restart the rule speaks again at its next verdict.
   */
  readonly #spoken = new Map<T, Finding>();

  constructor(private readonly types: readonly T[]) {}

  /**
   * Applies one verdict; returns the run when the condition has persisted long enough for the
   * rule to speak on this reading, else undefined.
   */
  step(type: T, ts: number, verdict: number, persistence: Persistence): RuleRun | undefined {
    if (Number.isNaN(verdict)) {
      return undefined;
    }
    if (verdict < 0) {
      this.#runs.delete(type);
      this.#spoken.delete(type);
      return undefined;
    }
    let run = this.#runs.get(type);
    if (run === undefined) {
      run = { count: 0, sinceTs: ts, excessSum: 0 };
      this.#runs.set(type, run);
    }
    run.count++;
    run.excessSum += verdict;
    return run.count >= persistence.readings && ts - run.sinceTs >= persistence.ms ? run : undefined;
  }

  /** Ends every run (a gap in the data breaks persistence). */
  clear(): void {
    this.#runs.clear();
    this.#spoken.clear();
  }

  /** Records the finding a rule's run spoke on this reading (for heldFinding). */
  remember(type: T, finding: Finding): void {
    this.#spoken.set(type, finding);
  }

  /** The rule's last finding, if its run has spoken and lasts: what a reading on HOLD repeats. */
  heldFinding(type: T): Finding | undefined {
    return this.#runs.has(type) ? this.#spoken.get(type) : undefined;
  }

  toJSON(): Partial<Record<T, RuleRun>> {
    const out: Partial<Record<T, RuleRun>> = {};
    for (const type of this.types) {
      const run = this.#runs.get(type);
      if (run !== undefined) {
        out[type] = { ...run };
      }
    }
    return out;
  }

  /** Restores runs already validated by ruleRunSchema; unknown rule names are refused. */
  restore(runs: Readonly<Record<string, RuleRun | undefined>>): void {
    this.#runs.clear();
    for (const [type, run] of Object.entries(runs)) {
      if (run === undefined) {
        continue;
      }
      if (!(this.types as readonly string[]).includes(type)) {
        throw new RangeError(`unknown rule "${type}" in saved monitor state`);
      }
      this.#runs.set(type as T, { ...run });
    }
  }
}

/**
 * Probability and raw score of a persistent run: z = mean excess + log2(how many times the
 * required persistence it has lasted, capped), p = 1 - exp(-z) / 2. At the edge (a reading just
 * past the band, just persistent enough) p is 0.5, below the schema's LOW threshold 0.6; one
 * spread past the band gives 0.82, three give 0.98. Monotone in both distance and duration.
 */
export function runProbability(
  run: RuleRun,
  ts: number,
  persistence: Persistence,
): { probability: number; score: number } {
  const byCount = run.count / persistence.readings;
  const byTime = persistence.ms > 0 ? (ts - run.sinceTs) / persistence.ms : 0;
  const duration = Math.min(MAX_DURATION_TERM, Math.log2(Math.max(1, byCount, byTime)));
  const score = run.excessSum / run.count + duration;
  return { probability: 1 - 0.5 * Math.exp(-score), score };
}
