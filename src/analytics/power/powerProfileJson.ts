/**
 * The power profile's save format (issue #6 items 2 and 5: models in the models directory survive
 * a restart). A model file comes off disk and may be truncated, hand-edited or from another
 * version, so parsePowerProfileJson checks what scoring relies on (bands ordered, one boundary
 * between each pair of states, ascending, square transition matrix) and says what is wrong.
 */
import * as z from "zod";
import { parseSaved } from "../jsonProblems.js";
import { POWER_RULE_TYPES, type PowerModel } from "./powerModel.js";
import { persistenceSchema } from "./rulePersistence.js";

export const POWER_PROFILE_FORMAT = "edgewarden.power-profile";
export const POWER_PROFILE_VERSION = 1;
const SAVED_POWER_PROFILE = {
  format: POWER_PROFILE_FORMAT,
  version: POWER_PROFILE_VERSION,
  paths: "dotted",
} as const;

/** A model load refused: the message says which field is wrong and how. */
export class ProfileFormatError extends Error {
  override readonly name = "ProfileFormatError";
}

const num = z.number(); // zod 4 refuses NaN and +-Infinity
const count = z.number().int().nonnegative();
const positive = z.number().positive();
const share = z.number().min(0).max(1);

const bandSchema = z
  .strictObject({ lo: num, hi: num, sigma: positive })
  .refine((b) => b.lo <= b.hi, { error: "band lo is above hi" });

const stateSchema = z.strictObject({
  name: z.string().min(1),
  role: z.enum(["off", "idle", "running"]),
  median: num,
  power: bandSchema,
  current: bandSchema.nullable(),
  powerFactor: z.strictObject({ low: num, sigma: z.number().nonnegative() }).nullable(),
  share,
  dwell: z.strictObject({ medianMs: num.nonnegative(), p95Ms: num.nonnegative(), maxMs: num.nonnegative() }),
});

const persistence = z.strictObject(
  Object.fromEntries(POWER_RULE_TYPES.map((t) => [t, persistenceSchema])) as Record<
    (typeof POWER_RULE_TYPES)[number],
    typeof persistenceSchema
  >,
);

const profileSchema = z.strictObject({
  format: z.literal(POWER_PROFILE_FORMAT),
  version: z.literal(POWER_PROFILE_VERSION),
  tags: z.strictObject({
    power: z.string().min(1),
    current: z.string().min(1),
    voltage: z.string().min(1),
    powerFactor: z.string().min(1),
  }),
  seed: z.number().int(),
  training: z.strictObject({
    readings: z.number().int().min(1),
    skippedReadings: count,
    ignoredFields: count,
    fromTs: num,
    toTs: num,
    medianIntervalMs: positive,
  }),
  epsilon: positive,
  kTrials: z.array(
    z.strictObject({
      k: z.number().int().min(1),
      minSeparation: num.nullable(),
      minShare: share,
      accepted: z.boolean(),
    }),
  ),
  states: z.array(stateSchema).min(1).max(5),
  boundaries: z.array(num),
  transitions: z.array(z.array(count)),
  voltage: z
    .strictObject({
      source: z.enum(["nominal", "learnt"]),
      nominal: positive.nullable(),
      lo: num,
      hi: num,
      scale: positive,
    })
    .refine((v) => v.lo < v.hi, { error: "voltage band lo is not below hi" })
    .nullable(),
  tuning: z.strictObject({
    persistence,
    maxGapMs: positive,
    idleGraceMinMs: num.nonnegative(),
    idleGraceMaxMs: num.nonnegative(),
    longIdleFactor: positive,
  }),
});

/** The JSON form of a profile, as written by PowerProfile.toJSON(). */
export type PowerProfileJson = {
  readonly format: typeof POWER_PROFILE_FORMAT;
  readonly version: typeof POWER_PROFILE_VERSION;
} & PowerModel;

export function powerModelToJson(model: PowerModel): PowerProfileJson {
  return { format: POWER_PROFILE_FORMAT, version: POWER_PROFILE_VERSION, ...model };
}

function fail(problem: string): never {
  throw refuse(problem);
}

function refuse(problem: string): ProfileFormatError {
  return new ProfileFormatError(`power profile: ${problem}`);
}

function checkShape(json: z.infer<typeof profileSchema>): void {
  const k = json.states.length;
  if (json.boundaries.length !== k - 1) {
    fail(`${json.boundaries.length} boundaries for ${k} states, expected ${k - 1}`);
  }
  json.boundaries.forEach((b, i) => {
    if (i > 0 && b <= (json.boundaries[i - 1] as number)) {
      fail(`boundaries[${i}] = ${b} is not above boundaries[${i - 1}]`);
    }
  });
  if (json.transitions.length !== k || json.transitions.some((row) => row.length !== k)) {
    fail(`transitions is not a ${k} x ${k} matrix`);
  }
  if (json.tuning.idleGraceMinMs > json.tuning.idleGraceMaxMs) {
    fail("tuning.idleGraceMinMs is above tuning.idleGraceMaxMs");
  }
}

/** Validates a parsed model file; throws ProfileFormatError naming the first problem found. */
export function parsePowerProfileJson(input: unknown): PowerModel {
  const json = parseSaved(input, profileSchema, SAVED_POWER_PROFILE, refuse);
  checkShape(json);
  const { format: _format, version: _version, ...model } = json;
  return model;
}
