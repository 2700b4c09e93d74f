/** Power profiles per machine (issue #6 item 2). */
export type { KTrial } from "./kmeans1d.js";
export type { FitPowerOptions } from "./powerFit.js";
export {
  type Band,
  POWER_RULE_TYPES,
  POWER_TUNING_DEFAULTS,
  type PowerContext,
  type PowerModel,
  type PowerReading,
  type PowerRuleType,
  type PowerState,
  type PowerTagNames,
  type PowerTuning,
  type StateRole,
  type VoltageBand,
} from "./powerModel.js";
export {
  POWER_MONITOR_FORMAT,
  type PowerMonitorJson,
  type PowerMonitorStats,
  PowerProfileMonitor,
} from "./powerMonitor.js";
export { fitPowerProfile, PowerProfile } from "./powerProfile.js";
export { POWER_PROFILE_FORMAT, type PowerProfileJson, ProfileFormatError } from "./powerProfileJson.js";
