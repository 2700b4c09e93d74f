/**
 * The run-time state of the gateway's own profile: the last sample's time and each rule's
 * persistence run (power/rulePersistence.ts). Bounded, plain JSON with a version. As for the power
 * monitor, refusal counters are run-time statistics and not saved, so a refused sample leaves
 * toJSON() exactly as it was (issue #6 must-show).
 */
import * as z from "zod";
import { type RuleRun, RuleRuns, ruleRunSchema } from "../power/rulePersistence.js";
import { GATEWAY_RULE_TYPES, type GatewayRuleType } from "./gatewayModel.js";

export const GATEWAY_MONITOR_FORMAT = "edgewarden.gateway-monitor";
export const GATEWAY_MONITOR_VERSION = 1;

export interface GatewayMonitorStats {
  readonly accepted: number;
  readonly refusedNonFinite: number;
  readonly refusedOutOfOrder: number;
  /** Fields (a tag or the workload) present but not finite, ignored. */
  readonly ignoredFields: number;
}

const monitorSchema = z.strictObject({
  format: z.literal(GATEWAY_MONITOR_FORMAT),
  version: z.literal(GATEWAY_MONITOR_VERSION),
  lastTs: z.number().nullable(),
  runs: z.partialRecord(z.enum(GATEWAY_RULE_TYPES), ruleRunSchema),
});

export type GatewayMonitorJson = z.infer<typeof monitorSchema>;

export class GatewayProfileMonitor {
  readonly runs = new RuleRuns<GatewayRuleType>(GATEWAY_RULE_TYPES);
  #lastTs: number | null = null;
  readonly #stats = { accepted: 0, refusedNonFinite: 0, refusedOutOfOrder: 0, ignoredFields: 0 };

  /** Loads a state written by toJSON(); throws RangeError saying what is wrong with a bad one. */
  static fromJSON(json: unknown): GatewayProfileMonitor {
    const parsed = monitorSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RangeError(
        `gateway monitor state: ${issue?.path.join(".") ?? ""} ${issue?.message ?? "invalid"}`,
      );
    }
    const monitor = new GatewayProfileMonitor();
    monitor.#lastTs = parsed.data.lastTs;
    monitor.runs.restore(parsed.data.runs as Partial<Record<string, RuleRun>>);
    return monitor;
  }

  get stats(): GatewayMonitorStats {
    return { ...this.#stats };
  }

  countNonFinite(): void {
    this.#stats.refusedNonFinite++;
  }

  countIgnoredField(): void {
    this.#stats.ignoredFields++;
  }

  /** Admits a sample at finite `ts`, or refuses it as out of order; a long gap ends every run. */
  admit(ts: number, maxGapMs: number): boolean {
    if (this.#lastTs !== null && ts <= this.#lastTs) {
      this.#stats.refusedOutOfOrder++;
      return false;
    }
    if (this.#lastTs !== null && ts - this.#lastTs > maxGapMs) {
      this.runs.clear();
    }
    this.#lastTs = ts;
    this.#stats.accepted++;
    return true;
  }

  toJSON(): GatewayMonitorJson {
    return {
      format: GATEWAY_MONITOR_FORMAT,
      version: GATEWAY_MONITOR_VERSION,
      lastTs: this.#lastTs,
      runs: this.runs.toJSON(),
    };
  }
}
