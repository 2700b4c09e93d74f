/** The analytics config types as the analytics parts use them (derived from the schema, never restated). */
import type { Config } from "../../config/schema/index.js";

export type AnalyticsConfig = NonNullable<Config["analytics"]>;
export type MachineConfig = AnalyticsConfig["machines"][number];
export type ShiftConfig = AnalyticsConfig["shifts"][number];
export type DeviceConfig = Config["devices"][number];

/** The names of a device's tags, in config order. */
export function deviceTagNames(device: DeviceConfig): string[] {
  return device.protocol === "serial-line"
    ? device.tags.map((tag) => tag.name)
    : device.pollGroups.flatMap((group) => group.tags.map((tag) => tag.name));
}
