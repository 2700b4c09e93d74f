/**
 * The whole config file: the single source of truth for the TypeScript type (Config), the JSON
 * Schema editors use (config/schema.json) and docs/configuration.md (issue #2).
 */
import * as z from "zod";
import { analyticsSchema } from "./analytics.js";
import { deviceSchema } from "./devices.js";
import { gatewaySchema, observabilitySchema, selfHealthSchema, storageSchema } from "./gateway.js";
import { cryptoSchema, uplinkSchema } from "./uplink.js";

export const CONFIG_FORMAT_VERSION = 1;

/** Top-level sections, in the order the file and the docs present them. */
export const configObjectSchema = z
  .strictObject({
    version: z
      .literal(CONFIG_FORMAT_VERSION, {
        error: (issue) =>
          `this edgewarden reads config format version ${CONFIG_FORMAT_VERSION} (got ${JSON.stringify(issue.input)})`,
      })
      .default(CONFIG_FORMAT_VERSION)
      .meta({ description: "Config format version." }),
    gateway: gatewaySchema,
    selfHealth: selfHealthSchema.prefault({}),
    storage: storageSchema.prefault({}),
    crypto: cryptoSchema.prefault({}),
    uplink: uplinkSchema.optional(),
    devices: z.array(deviceSchema).prefault([]).meta({ description: "Machines and sensors to read." }),
    analytics: analyticsSchema.optional(),
    observability: observabilitySchema.prefault({}),
  })
  .meta({
    title: "edgewarden configuration",
    description: "One file per gateway. Reference: docs/configuration.md.",
  });

/** The config after parsing and defaults, before cross-field checks and normalisation. */
export type ParsedConfig = z.output<typeof configObjectSchema>;
