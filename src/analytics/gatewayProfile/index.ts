/** The gateway's own profile (issue #6 item 2). */
export type { FitGatewayOptions } from "./gatewayFit.js";
export {
  GATEWAY_LIMIT_DEFAULTS,
  GATEWAY_RULE_TYPES,
  GATEWAY_TUNING_DEFAULTS,
  type GatewayHistoryRow,
  type GatewayLimits,
  type GatewayModel,
  type GatewayReading,
  type GatewayRuleType,
  type GatewayTuning,
  type GatewayWorkload,
} from "./gatewayModel.js";
export {
  GATEWAY_MONITOR_FORMAT,
  type GatewayMonitorJson,
  type GatewayMonitorStats,
  GatewayProfileMonitor,
} from "./gatewayMonitor.js";
export { fitGatewayProfile, GatewayProfile, untrainedGatewayProfile } from "./gatewayProfile.js";
export { GATEWAY_PROFILE_FORMAT, type GatewayProfileJson } from "./gatewayProfileJson.js";
export type { RobustLine } from "./robustLine.js";
