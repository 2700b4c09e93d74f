/**
 * The run-time state of one machine's power profile (issue #6 item 2): which state the machine is
 * in and since when, and each rule's persistence run. Bounded (a few numbers and at most one run
 * per rule, whatever the input rate), plain JSON with a version so it survives a restart. What it
 * shares with the gateway's monitor (admission, runs, refusal counters) is in ruleMonitor.ts.
 */
import * as z from "zod";
import { POWER_RULE_TYPES, type PowerRuleType } from "./powerModel.js";
import { type MonitorStats, parseMonitorState, RuleMonitor } from "./ruleMonitor.js";
import { ruleRunSchema } from "./rulePersistence.js";

export const POWER_MONITOR_FORMAT = "edgewarden.power-monitor";
export const POWER_MONITOR_VERSION = 1;

export type PowerMonitorStats = MonitorStats;

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

export class PowerProfileMonitor extends RuleMonitor<PowerRuleType> {
  #state: { index: number; sinceTs: number; previousIndex: number | null } | null = null;

  constructor() {
    super(POWER_RULE_TYPES);
  }

  /** Loads a state written by toJSON(); throws RangeError saying what is wrong with a bad one. */
  static fromJSON(json: unknown): PowerProfileMonitor {
    const data = parseMonitorState(json, monitorSchema, "power monitor state");
    const monitor = new PowerProfileMonitor();
    monitor.restore(data.lastTs, data.runs);
    monitor.#state = data.state === null ? null : { ...data.state };
    return monitor;
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

  /** Nobody knows what the machine did during a gap: dwell starts over. */
  protected override forget(): void {
    this.#state = null;
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
      lastTs: this.lastTs,
      state: this.#state === null ? null : { ...this.#state },
      runs: this.runs.toJSON(),
    };
  }
}
