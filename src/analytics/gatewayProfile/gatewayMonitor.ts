/**
 * The run-time state of the gateway's own profile: the last sample's time and each rule's
 * persistence run (power/rulePersistence.ts). Bounded, plain JSON with a version. As for the power
 * monitor, refusal counters are run-time statistics and not saved, so a refused sample leaves
 * toJSON() exactly as it was (issue #6 must-show); both share power/ruleMonitor.ts.
 */
import * as z from "zod";
import { type MonitorStats, parseMonitorState, RuleMonitor } from "../power/ruleMonitor.js";
import { ruleRunSchema } from "../power/rulePersistence.js";
import { GATEWAY_RULE_TYPES, type GatewayRuleType } from "./gatewayModel.js";

export const GATEWAY_MONITOR_FORMAT = "edgewarden.gateway-monitor";
export const GATEWAY_MONITOR_VERSION = 1;

export type GatewayMonitorStats = MonitorStats;

const monitorSchema = z.strictObject({
  format: z.literal(GATEWAY_MONITOR_FORMAT),
  version: z.literal(GATEWAY_MONITOR_VERSION),
  lastTs: z.number().nullable(),
  runs: z.partialRecord(z.enum(GATEWAY_RULE_TYPES), ruleRunSchema),
});

export type GatewayMonitorJson = z.infer<typeof monitorSchema>;

export class GatewayProfileMonitor extends RuleMonitor<GatewayRuleType> {
  constructor() {
    super(GATEWAY_RULE_TYPES);
  }

  /** Loads a state written by toJSON(); throws RangeError saying what is wrong with a bad one. */
  static fromJSON(json: unknown): GatewayProfileMonitor {
    const data = parseMonitorState(json, monitorSchema, "gateway monitor state");
    const monitor = new GatewayProfileMonitor();
    monitor.restore(data.lastTs, data.runs);
    return monitor;
  }

  toJSON(): GatewayMonitorJson {
    return {
      format: GATEWAY_MONITOR_FORMAT,
      version: GATEWAY_MONITOR_VERSION,
      lastTs: this.lastTs,
      runs: this.runs.toJSON(),
    };
  }
}
