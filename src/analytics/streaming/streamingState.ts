/**
 * The saved state of a streaming detector (issue #6 item 5: "models survive a restart"): plain
 * JSON with a version, validated on load so a truncated or hand-edited file is refused with a
 * reason instead of producing a detector that scores nonsense. Shapes mirror the toJSON() of
 * sortedWindow.ts, ewmaBaseline.ts, seasonalBaseline.ts and anomalyLikelihood.ts.
 */
import * as z from "zod";
import type { StreamingTuning } from "./streamingDefaults.js";

/** Bump when the shape or the meaning of a field changes; load refuses other versions. */
export const STREAMING_STATE_VERSION = 1;

const num = z.number(); // zod 4 refuses NaN and +-Infinity
const count = z.number().int().nonnegative();
const positive = z.number().positive();

const sortedWindowState = z
  .strictObject({
    times: z.array(num),
    values: z.array(num),
    lastAdmittedTs: num.nullable(),
    thinned: count,
    evicted: count,
  })
  .refine((w) => w.times.length === w.values.length, { error: "times and values differ in length" })
  .refine((w) => w.times.every((t, i) => i === 0 || t >= (w.times[i - 1] as number)), {
    error: "times are not ascending",
  });

const ewmaState = z.strictObject({
  mean: num,
  variance: num.nonnegative(),
  count,
  lastTs: num.nullable(),
});

const slotState = z.strictObject({
  slot: count,
  window: sortedWindowState,
  periodsSeen: count,
  lastPeriod: z.number().int(),
});

const likelihoodState = z.strictObject({
  recent: z.array(num),
  recentTotal: num,
  history: z.array(num),
  iteration: count,
  distribution: z.strictObject({ mean: num, stdev: positive }).nullable(),
  previousTail: num.min(0).max(1),
});

const tuning = z.strictObject({
  learningSamples: count,
  minBaselinePoints: count,
  maxBaselinePoints: z.number().int().min(8),
  surpriseCap: positive,
  scaleFloorRange: num.nonnegative(),
  scaleFloorLevel: num.nonnegative(),
  averagingWindow: z.number().int().min(1),
  historicWindow: z.number().int().min(1),
  estimationSamples: z.number().int().min(1),
  reestimationPeriod: z.number().int().min(1),
  redFilter: z.boolean(),
  historyClip: num.nonnegative(),
  alarmThreshold: num.min(0).max(1),
  holdoffSamples: count,
  holdoffMs: num.nonnegative(),
  riseMargin: num.nonnegative(),
  seasonalPeriodsKept: z.strictObject({ daily: z.number().int().min(1), weekly: z.number().int().min(1) }),
  seasonalPointsTotal: z.number().int().min(16),
  seasonalMinPeriods: z.number().int().min(1),
  utcOffsetMinutes: z
    .number()
    .int()
    .min(-24 * 60)
    .max(24 * 60),
}) satisfies z.ZodType<StreamingTuning>;

const stateSchema = z.strictObject({
  version: z.literal(STREAMING_STATE_VERSION),
  kind: z.literal("streaming"),
  config: z.strictObject({
    method: z.enum(["median-mad", "ewma"]),
    windowMs: positive,
    seasonality: z.enum(["none", "daily", "weekly"]),
    tuning,
  }),
  baseline: z.strictObject({
    window: sortedWindowState.nullable(),
    ewma: ewmaState.nullable(),
    seasonal: z.array(slotState).nullable(),
  }),
  likelihood: likelihoodState,
  counters: z.strictObject({ accepted: count, scored: count, alarms: count }),
  lastTs: num.nullable(),
  holdoff: z.strictObject({
    active: z.boolean(),
    level: num.min(0).max(1),
    quietSamples: count,
    quietSinceTs: num.nullable(),
  }),
});

export type StreamingDetectorState = z.output<typeof stateSchema>;
export type DetectorCounters = StreamingDetectorState["counters"];
export type HoldoffState = StreamingDetectorState["holdoff"];

/** Validates a saved state; throws a RangeError naming every problem. */
export function parseStreamingState(json: unknown): StreamingDetectorState {
  const version = (json as { version?: unknown } | null)?.version;
  if (typeof json === "object" && json !== null && version !== STREAMING_STATE_VERSION) {
    throw new RangeError(
      `streaming detector state version ${String(version)} is not supported (expected ${STREAMING_STATE_VERSION})`,
    );
  }
  const result = stateSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new RangeError(`invalid streaming detector state: ${problems.join("; ")}`);
  }
  return result.data;
}
