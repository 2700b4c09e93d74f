/**
 * The saved state of a streaming detector (issue #6 item 5: "models survive a restart"): JSON with
 * a version, validated on load so a truncated or hand-edited file is refused with a reason instead
 * of producing a detector that scores nonsense. Shapes mirror the toJSON() of sortedWindow.ts,
 * ewmaBaseline.ts, seasonalBaseline.ts and anomalyLikelihood.ts; their arrays are packed strings
 * (packedArray.ts), which those classes unpack and check on restore.
 *
 * Version 2 packs the arrays (a 1 Hz tag's state went from about 280 KB to tens of KB), keeps the
 * likelihood history as block summaries, and replaces tuning.utcOffsetMinutes with
 * tuning.timeZone. Version 1 is refused, not converted: no release wrote it (the daemon starts
 * saving states with version 2), a fixed offset names no IANA zone to convert to, and a refused
 * state costs only a new learning period (the caller starts the tag afresh).
 */
import * as z from "zod";
import type { StreamingTuning } from "./streamingDefaults.js";
import { isTimeZone } from "./zoneOffset.js";

/** Bump when the shape or the meaning of a field changes; load refuses other versions. */
export const STREAMING_STATE_VERSION = 2;

const num = z.number(); // zod 4 refuses NaN and +-Infinity
const count = z.number().int().nonnegative();
const positive = z.number().positive();
/** A packFloat64 string; its content is checked when unpacked (packedArray.ts). */
const packed = z.string();

const sortedWindowState = z.strictObject({
  times: packed,
  values: packed,
  lastAdmittedTs: num.nullable(),
  thinned: count,
  evicted: count,
});

const ewmaState = z.strictObject({
  mean: num,
  variance: num.nonnegative(),
  count,
  lastTs: num.nullable(),
});

const seasonalState = z.strictObject({
  slots: z.array(count),
  counts: z.array(count),
  periodsSeen: z.array(count),
  lastPeriod: z.array(z.number().int()),
  lastAdmittedTs: z.array(num.nullable()),
  thinned: z.array(count),
  evicted: z.array(count),
  times: packed,
  values: packed,
});

const likelihoodState = z.strictObject({
  recent: packed,
  recentTotal: num,
  blockMeans: packed,
  blockSquares: packed,
  partialMean: num,
  partialSquares: num.nonnegative(),
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
  timeZone: z.string().refine(isTimeZone, { error: "not a time zone Intl knows" }),
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
    seasonal: seasonalState.nullable(),
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
    const why =
      version === 1
        ? "version 1 (before packed arrays and time zones) is no longer read; the detector relearns"
        : `expected ${STREAMING_STATE_VERSION}`;
    throw new RangeError(`streaming detector state version ${String(version)} is not supported: ${why}`);
  }
  const result = stateSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new RangeError(`invalid streaming detector state: ${problems.join("; ")}`);
  }
  return result.data;
}
