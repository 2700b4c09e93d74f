/**
 * The public library API of edgewarden (package entry, dist/index.js). Parts add their exports
 * here as they land: crypto (issue #3), ledger (issue #5), ...
 */
export type { Clock } from "./clock.js";
export { systemClock } from "./clock.js";
export type { ConfigIssue, ConfigPath } from "./config/configIssue.js";
export { formatIssue, formatPath } from "./config/configIssue.js";
export type { LoadOptions, LoadResult } from "./config/loadConfig.js";
export { loadConfigFile, loadConfigText } from "./config/loadConfig.js";
export type {
  Config,
  ConfigInput,
  DeviceConfig,
  ModbusDeviceConfig,
  ModbusTagConfig,
  SerialLineDeviceConfig,
} from "./config/schema/index.js";
export { configJsonSchema, configSchema } from "./config/schema/index.js";
export * from "./crypto/index.js";
export type { Component, ComponentSpec } from "./daemon/component.js";
export type {
  EventRecord,
  EventSeverity,
  EventSink,
  Quality,
  Sample,
  SampleSink,
  SampleValue,
  TagReading,
} from "./records.js";
export { packageVersion } from "./version.js";
