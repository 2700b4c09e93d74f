/**
 * The gateway profile's save format (issue #6 items 2 and 5), validated on load so that a
 * truncated or hand-edited file is refused with a reason rather than scoring nonsense.
 */
import * as z from "zod";
import { parseSaved } from "../jsonProblems.js";
import { ProfileFormatError } from "../power/powerProfileJson.js";
import { persistenceSchema } from "../power/rulePersistence.js";
import type { GatewayModel } from "./gatewayModel.js";

export const GATEWAY_PROFILE_FORMAT = "edgewarden.gateway-profile";
export const GATEWAY_PROFILE_VERSION = 1;
const SAVED_GATEWAY_PROFILE = {
  format: GATEWAY_PROFILE_FORMAT,
  version: GATEWAY_PROFILE_VERSION,
  paths: "dotted",
} as const;

const num = z.number(); // zod 4 refuses NaN and +-Infinity
const positive = z.number().positive();

const lineSchema = z.strictObject({
  source: z.enum(["theil-sen", "proportional", "constant"]),
  intercept: num,
  slope: num.nonnegative(),
  residualHigh: num,
  residualSigma: positive,
  rows: z.number().int().min(2),
});

const profileSchema = z.strictObject({
  format: z.literal(GATEWAY_PROFILE_FORMAT),
  version: z.literal(GATEWAY_PROFILE_VERSION),
  seed: z.number().int(),
  training: z
    .strictObject({
      rows: z.number().int().min(1),
      skippedRows: z.number().int().nonnegative(),
      fromTs: num,
      toTs: num,
    })
    .nullable(),
  cpu: lineSchema.nullable(),
  load: lineSchema.nullable(),
  egress: lineSchema.nullable(),
  temperature: lineSchema.nullable(),
  temperatureHigh: num.nullable(),
  limits: z.strictObject({
    cpuPercent: positive,
    untrainedCpuPercent: positive,
    cores: z.number().int().min(1),
    temperatureC: positive,
    temperatureMarginC: positive,
    egressFactor: z.number().min(1),
    egressMinExcessBps: num.nonnegative(),
    untrainedEgressOverhead: positive,
    untrainedEgressBaseBps: num.nonnegative(),
  }),
  tuning: z.strictObject({
    persistence: z.strictObject({
      "crypto-mining": persistenceSchema,
      "botnet-egress": persistenceSchema,
      overheating: persistenceSchema,
    }),
    maxGapMs: positive,
  }),
});

/** The JSON form of a profile, as written by GatewayProfile.toJSON(). */
export type GatewayProfileJson = {
  readonly format: typeof GATEWAY_PROFILE_FORMAT;
  readonly version: typeof GATEWAY_PROFILE_VERSION;
} & GatewayModel;

export function gatewayModelToJson(model: GatewayModel): GatewayProfileJson {
  return { format: GATEWAY_PROFILE_FORMAT, version: GATEWAY_PROFILE_VERSION, ...model };
}

/** Validates a parsed model file; throws ProfileFormatError naming the first problem found. */
export function parseGatewayProfileJson(input: unknown): GatewayModel {
  const {
    format: _format,
    version: _version,
    ...model
  } = parseSaved(
    input,
    profileSchema,
    SAVED_GATEWAY_PROFILE,
    (problem) => new ProfileFormatError(`gateway profile: ${problem}`),
  );
  return model;
}
