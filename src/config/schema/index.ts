/** The validated, normalised configuration: what every part of edgewarden receives. */
import { join } from "node:path";
import * as z from "zod";
import { analyticsSchema } from "./analytics.js";
import { checkDevices, type IssueSink, sinkFor } from "./deviceChecks.js";
import { deviceSchema } from "./devices.js";
import { resolveModbusAddress } from "./modbusAddressing.js";
import { configObjectSchema, type ParsedConfig } from "./root.js";
import { checkAnalytics, checkBackoffs, checkUplink } from "./sectionChecks.js";
import type { ModbusTable } from "./tags.js";
import { uplinkSchema } from "./uplink.js";

/**
 * Derived values are filled in here so that parts never re-derive them: modbus addresses become
 * 0-based with an explicit table, and directories that default to dataDir get their full path.
 */
function normalise(config: ParsedConfig) {
  const devices = config.devices.map((device) => {
    if (device.protocol === "serial-line") {
      return device;
    }
    const pollGroups = device.pollGroups.map((group) => ({
      ...group,
      tags: group.tags.map((tag) => {
        const resolved = resolveModbusAddress(device.addressing, tag.table, tag.address);
        if ("error" in resolved) {
          throw new Error(`unreachable: ${resolved.error}`); // the checks above rejected it already
        }
        return { ...tag, table: resolved.table as ModbusTable, address: resolved.address };
      }),
    }));
    return { ...device, pollGroups };
  });
  const dataDir = config.gateway.dataDir;
  return {
    ...config,
    devices,
    storage: { ...config.storage, dir: config.storage.dir ?? join(dataDir, "ledger") },
    analytics:
      config.analytics === undefined
        ? undefined
        : { ...config.analytics, modelDir: config.analytics.modelDir ?? join(dataDir, "models") },
  };
}

function crossCheck(config: ParsedConfig, issues: IssueSink): void {
  checkDevices(config.devices, issues);
  checkBackoffs(config.devices, issues);
  checkUplink(config.uplink, issues);
  const names = new Set(config.devices.map((device) => device.name));
  checkAnalytics(config.analytics, config.devices, names, issues);
}

export const configSchema = configObjectSchema
  .superRefine((config, ctx) => crossCheck(config, sinkFor(ctx)))
  .transform(normalise);

/**
 * zod runs the refinement above only when every field is valid. So that a typo in one place does
 * not hide a duplicate name in another, the loader also runs the cross-checks over the parts that
 * do parse on their own (issue #2: every error at once).
 */
export function crossCheckParts(input: unknown): { path: (string | number)[]; message: string }[] {
  const raw = (input !== null && typeof input === "object" ? input : {}) as Record<string, unknown>;
  const found: { path: (string | number)[]; message: string }[] = [];
  const issues: IssueSink = { error: (path, message) => found.push({ path, message }) };
  const rawDevices: unknown[] = Array.isArray(raw.devices) ? raw.devices : [];
  const devices = rawDevices.map((device) => {
    const parsed = deviceSchema.safeParse(device);
    return parsed.success ? parsed.data : undefined;
  });
  checkDevices(devices, issues);
  checkBackoffs(devices, issues);
  const uplink = uplinkSchema.optional().safeParse(raw.uplink);
  if (uplink.success) {
    checkUplink(uplink.data, issues);
  }
  const analytics = analyticsSchema.optional().safeParse(raw.analytics);
  if (analytics.success) {
    const names = new Set(rawDevices.map((device) => String((device as { name?: unknown } | null)?.name)));
    checkAnalytics(analytics.data, devices, names, issues);
  }
  return found;
}

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type DeviceConfig = Config["devices"][number];
export type ModbusDeviceConfig = Exclude<DeviceConfig, { protocol: "serial-line" }>;
export type SerialLineDeviceConfig = Extract<DeviceConfig, { protocol: "serial-line" }>;
export type ModbusTagConfig = ModbusDeviceConfig["pollGroups"][number]["tags"][number];

export { configObjectSchema } from "./root.js";
export { configWarnings } from "./sectionChecks.js";

/** JSON Schema (draft 2020-12) of what may be written in the file, for editors and docs. */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configObjectSchema, {
    io: "input",
    target: "draft-2020-12",
    unrepresentable: "any",
  }) as Record<string, unknown>;
}
