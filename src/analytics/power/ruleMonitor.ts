/**
 * What the run-time states of the power and the gateway profile share (issue #6 item 2): the last
 * admitted reading's time, each rule's persistence run (rulePersistence.ts) and the counts of what
 * was refused. Bounded: one time, one run per rule and four counters, whatever the input rate.
 *
 * The counters are a run-time statistic and not part of the saved state: a refused reading or an
 * ignored field must leave toJSON() exactly as it was (issue #6 must-show: "non-finite or
 * bad-quality values never poison a detector's state"; the tests compare it).
 */
import type * as z from "zod";
import { type RuleRun, RuleRuns } from "./rulePersistence.js";

export interface MonitorStats {
  /** Readings that entered the state. */
  readonly accepted: number;
  /** Readings refused: time (or the power profile's power) not finite. */
  readonly refusedNonFinite: number;
  /** Readings refused: not after the last accepted one. */
  readonly refusedOutOfOrder: number;
  /**
   * Fields present but not finite, ignored: the power profile's current, voltage and power
   * factor; the gateway profile's tags and workload.
   */
  readonly ignoredFields: number;
}

export abstract class RuleMonitor<T extends string> {
  readonly runs: RuleRuns<T>;
  #lastTs: number | null = null;
  readonly #stats = { accepted: 0, refusedNonFinite: 0, refusedOutOfOrder: 0, ignoredFields: 0 };

  protected constructor(types: readonly T[]) {
    this.runs = new RuleRuns<T>(types);
  }

  get stats(): MonitorStats {
    return { ...this.#stats };
  }

  /** The last admitted reading's time, ms, or null before the first. */
  protected get lastTs(): number | null {
    return this.#lastTs;
  }

  countNonFinite(): void {
    this.#stats.refusedNonFinite++;
  }

  countIgnoredField(): void {
    this.#stats.ignoredFields++;
  }

  /** A field's value, or undefined when absent; a non-finite one is counted and treated as absent. */
  usable(x: number | undefined): number | undefined {
    if (x === undefined) {
      return undefined;
    }
    if (!Number.isFinite(x)) {
      this.countIgnoredField();
      return undefined;
    }
    return x;
  }

  /**
   * Admits a reading at `ts` (finite) or refuses it as out of order. A gap longer than maxGapMs
   * since the last reading ends every run (and whatever forget() drops): persistence is about
   * consecutive readings, and nobody knows what happened in between.
   */
  admit(ts: number, maxGapMs: number): boolean {
    if (this.#lastTs !== null && ts <= this.#lastTs) {
      this.#stats.refusedOutOfOrder++;
      return false;
    }
    if (this.#lastTs !== null && ts - this.#lastTs > maxGapMs) {
      this.runs.clear();
      this.forget();
    }
    this.#lastTs = ts;
    this.#stats.accepted++;
    return true;
  }

  /** What a monitor forgets at a gap besides the runs; nothing by default. */
  protected forget(): void {}

  /** Sets the saved part of the state (runs already validated by ruleRunSchema). */
  protected restore(lastTs: number | null, runs: Readonly<Record<string, RuleRun | undefined>>): void {
    this.#lastTs = lastTs;
    this.runs.restore(runs);
  }
}

/** Validates a saved monitor state; throws RangeError naming `what` and the first problem. */
export function parseMonitorState<S extends z.ZodType>(json: unknown, schema: S, what: string): z.output<S> {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RangeError(`${what}: ${issue?.path.join(".") ?? ""} ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}
