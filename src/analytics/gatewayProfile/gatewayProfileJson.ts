/**
 * The gateway profile's save format (issue #6 items 2 and 5), validated on load so that a
 * truncated or hand-edited file is refused with a reason rather than scoring nonsense.
 */
import * as z from "zod";
import { ProfileFormatError } from "../power/powerProfileJson.js";
import { persistenceSchema } from "../power/rulePersistence.js";
import type { GatewayModel } from "./gatewayModel.js";

export const GATEWAY_PROFILE_FORMAT = "edgewarden.gateway-profile";
export const GATEWAY_PROFILE_VERSION = 1;

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

function fail(problem: string): never {
  throw new ProfileFormatError(`gateway profile: ${problem}`);
}

/** Validates a parsed model file; throws ProfileFormatError naming the first problem found. */
export function parseGatewayProfileJson(input: unknown): GatewayModel {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    fail(`expected a JSON object, got ${Array.isArray(input) ? "an array" : typeof input}`);
  }
  const { format, version } = input as { format?: unknown; version?: unknown };
  if (format !== GATEWAY_PROFILE_FORMAT) {
    fail(`"format" is ${JSON.stringify(format)}, expected "${GATEWAY_PROFILE_FORMAT}"`);
  }
  if (version !== GATEWAY_PROFILE_VERSION) {
    fail(
      `format version ${JSON.stringify(version)} is not supported (this build reads ${GATEWAY_PROFILE_VERSION})`,
    );
  }
  const parsed = profileSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "(top level)";
    const more =
      parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more problems)` : "";
    fail(`${where}: ${issue?.message ?? "invalid"}${more}`);
  }
  const { format: _format, version: _version, ...model } = parsed.data;
  return model;
}
