/**
 * The run-time state of one machine's power profile (issue #6 item 2): which state the machine is
 * in and since when, and each rule's persistence run. Bounded (a few numbers and at most one run
 * per rule, whatever the input rate), plain JSON with a version so it survives a restart.
 *
 * The refusal counters are a run-time statistic and not part of the saved state: a refused reading
 * or an ignored field must leave toJSON() exactly as it was (issue #6 must-show: "non-finite or
 * bad-quality values never poison a detector's state"; the tests compare it).
 */
import * as z from "zod";
import { POWER_RULE_TYPES, type PowerRuleType } from "./powerModel.js";
import { type RuleRun, RuleRuns, ruleRunSchema } from "./rulePersistence.js";

export const POWER_MONITOR_FORMAT = "edgewarden.power-monitor";
export const POWER_MONITOR_VERSION = 1;

export interface PowerMonitorStats {
  /** Readings that entered the state. */
  readonly accepted: number;
  /** Readings refused: time or power not finite. */
  readonly refusedNonFinite: number;
  /** Readings refused: not after the last accepted one. */
  readonly refusedOutOfOrder: number;
  /** Optional fields (current, voltage, power factor) present but not finite, ignored. */
  readonly ignoredFields: number;
}

const stateSchema = z.strictObject({
  index: z.number().int().min(0),
  sinceTs: z.number(),
  previousIndex: z.number().int().min(0).nullable(),
});

const monitorSchema = z.strictObject({
  format: z.literal(POWER_MONITOR_FORMAT),
  version: z.literal(POWER_MONITOR_VERSION),
  lastTs: z.number().nullable(),
  state: stateSchema.nullable(),
  runs: z.partialRecord(z.enum(POWER_RULE_TYPES), ruleRunSchema),
});

export type PowerMonitorJson = z.infer<typeof monitorSchema>;

export class PowerProfileMonitor {
  readonly runs = new RuleRuns<PowerRuleType>(POWER_RULE_TYPES);
  #lastTs: number | null = null;
  #state: { index: number; sinceTs: number; previousIndex: number | null } | null = null;
  readonly #stats = { accepted: 0, refusedNonFinite: 0, refusedOutOfOrder: 0, ignoredFields: 0 };

  /** Loads a state written by toJSON(); throws RangeError saying what is wrong with a bad one. */
  static fromJSON(json: unknown): PowerProfileMonitor {
    const parsed = monitorSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RangeError(
        `power monitor state: ${issue?.path.join(".") ?? ""} ${issue?.message ?? "invalid"}`,
      );
    }
    const monitor = new PowerProfileMonitor();
    monitor.#lastTs = parsed.data.lastTs;
    monitor.#state = parsed.data.state === null ? null : { ...parsed.data.state };
    monitor.runs.restore(parsed.data.runs as Partial<Record<string, RuleRun>>);
    return monitor;
  }

  get stats(): PowerMonitorStats {
    return { ...this.#stats };
  }

  /** The current state's index, or null before the first reading (or after a gap). */
  get stateIndex(): number | null {
    return this.#state?.index ?? null;
  }

  /** When the machine entered its current state, ms. */
  get stateSinceTs(): number | null {
    return this.#state?.sinceTs ?? null;
  }

  /** The state before the current one, or null when unknown. */
  get previousStateIndex(): number | null {
    return this.#state?.previousIndex ?? null;
  }

  countNonFinite(): void {
    this.#stats.refusedNonFinite++;
  }

  countIgnoredField(): void {
    this.#stats.ignoredFields++;
  }

  /**
   * Admits a reading at `ts` (finite) or refuses it as out of order. A gap longer than maxGapMs
   * since the last reading ends every run and forgets the state: persistence and dwell are about
   * consecutive readings, and nobody knows what the machine did in between.
   */
  admit(ts: number, maxGapMs: number): boolean {
    if (this.#lastTs !== null && ts <= this.#lastTs) {
      this.#stats.refusedOutOfOrder++;
      return false;
    }
    if (this.#lastTs !== null && ts - this.#lastTs > maxGapMs) {
      this.runs.clear();
      this.#state = null;
    }
    this.#lastTs = ts;
    this.#stats.accepted++;
    return true;
  }

  /** Records the state of the admitted reading; `states` guards against a state from another model. */
  track(index: number, ts: number, states: number): void {
    const state = this.#state;
    if (state !== null && state.index >= states) {
      this.#state = null;
      this.runs.clear();
    }
    if (this.#state === null) {
      this.#state = { index, sinceTs: ts, previousIndex: null };
    } else if (this.#state.index !== index) {
      this.#state = { index, sinceTs: ts, previousIndex: this.#state.index };
    }
  }

  toJSON(): PowerMonitorJson {
    return {
      format: POWER_MONITOR_FORMAT,
      version: POWER_MONITOR_VERSION,
      lastTs: this.#lastTs,
      state: this.#state === null ? null : { ...this.#state },
      runs: this.runs.toJSON(),
    };
  }
}
