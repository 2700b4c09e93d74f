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

/**
 * Cross-checks run in the transform stage, which zod runs only on input that passed every field
 * check (a superRefine would also see values that failed a non-aborting check such as a regex,
 * and "1000" * 2 is 2000 in JavaScript).
 */
export const configSchema = configObjectSchema.transform((config, ctx) => {
  let failed = false;
  const sink = sinkFor(ctx);
  crossCheck(config, {
    error: (path, message) => {
      failed = true;
      sink.error(path, message);
    },
  });
  return failed ? z.NEVER : normalise(config);
});

/**
 * zod runs the refinement above only when every field is valid. So that a typo in one place does
 * not hide a duplicate name in another, the loader also runs the cross-checks over the parts that
 * do parse on their own (issue #2: every error at once).
 */
/**
 * A device that failed its schema, with each invalid key that has a default put back to it, so
 * that its other keys can still be cross-checked; `replaced` names the keys that were.
 */
function salvageDevice(
  raw: unknown,
): { device: ParsedConfig["devices"][number]; replaced: Set<string> } | undefined {
  const first = deviceSchema.safeParse(raw);
  if (first.success) {
    return { device: first.data, replaced: new Set() };
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return undefined;
  }
  const replaced = new Set(first.error.issues.map((issue) => String(issue.path[0] ?? "")));
  const repaired: Record<string, unknown> = { ...raw };
  for (const key of replaced) {
    delete repaired[key];
  }
  const second = deviceSchema.safeParse(repaired);
  // Fails when an invalid key has no default (name, host, pollGroups...): nothing to salvage.
  return second.success ? { device: second.data, replaced } : undefined;
}

export function crossCheckParts(input: unknown): { path: (string | number)[]; message: string }[] {
  const raw = (input !== null && typeof input === "object" ? input : {}) as Record<string, unknown>;
  const found: { path: (string | number)[]; message: string }[] = [];
  const rawDevices: unknown[] = Array.isArray(raw.devices) ? raw.devices : [];
  const salvaged = rawDevices.map(salvageDevice);
  const devices = salvaged.map((entry) => entry?.device);
  const issues: IssueSink = {
    error: (path, message, basis) => {
      // Drop findings that rest on a value we put in place of an invalid one.
      const restsOnStandIn = basis?.devices.some((index) =>
        basis.keys.some((key) => salvaged[index]?.replaced.has(key)),
      );
      if (restsOnStandIn !== true) {
        found.push({ path, message });
      }
    },
  };
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
