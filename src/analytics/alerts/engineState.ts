/**
 * The alert engine's saved state. Open episodes and recent ends survive a restart, so that a fault
 * still present after `systemctl restart` continues its episode instead of being raised a second
 * time, and a cooldown running at shutdown still holds after it (issue #6 item 3: "one fault is
 * one alert"). Plain JSON with a format and version, validated on load like the model files.
 */
import * as z from "zod";
import { ANOMALY_TYPES, type AnomalyType, DETECTOR_KINDS, SEVERITIES, type Severity } from "../findings.js";
import {
  type BodyTag,
  type DetectorVerdict,
  MAX_BODY_TAGS,
  MAX_TAG_CHARS,
  severityRank,
} from "./anomalyBody.js";
import { EPISODE_KEYS, type EpisodeKey, episodeKeyOf } from "./ensemble.js";

export const ALERT_STATE_FORMAT = "edgewarden.alert-engine";
/** Bump when the shape or the meaning of a field changes; load refuses other versions. */
export const ALERT_STATE_VERSION = 1;

/** One open episode. Clocks are the engine's monotone clock (alertEngine.ts), ts are wall labels. */
export interface EpisodeState {
  id: string;
  key: EpisodeKey;
  /** The type raised with; the episode's records all carry it. */
  type: AnomalyType;
  startedTs: number;
  startClock: number;
  /** Severity and score of the latest reading that showed the fault. */
  severity: Severity;
  score: number;
  peakSeverity: Severity;
  peakScore: number;
  /** The detectors and tags at the peak reading (the ended record reports the peak). */
  peakDetectors: DetectorVerdict[];
  peakTags: BodyTag[];
  lastSeenClock: number;
  /** Readings since the last one that showed the fault, and when the first of them came. */
  quietSamples: number;
  quietSinceTs: number | null;
  quietSinceClock: number | null;
}

/** The last end per key, for the cooldown. */
export interface EndedState {
  key: EpisodeKey;
  clock: number;
  peakSeverity: Severity;
}

export interface AlertEngineState {
  format: typeof ALERT_STATE_FORMAT;
  version: typeof ALERT_STATE_VERSION;
  device: string;
  clock: number;
  lastTs: number | null;
  /** Episodes raised so far, numbering the ids. */
  episodeSeq: number;
  episodes: EpisodeState[];
  ended: EndedState[];
}

const num = z.number(); // zod 4 refuses NaN and +-Infinity
const clock = z.number().nonnegative();
const probability = z.number().min(0).max(1);
const key = z.enum(EPISODE_KEYS as [EpisodeKey, ...EpisodeKey[]]);
const severity = z.enum(SEVERITIES);

const episodeSchema = z
  .strictObject({
    id: z.string().min(1).max(256),
    key,
    type: z.enum(ANOMALY_TYPES),
    startedTs: num,
    startClock: clock,
    severity,
    score: probability,
    peakSeverity: severity,
    peakScore: probability,
    peakDetectors: z
      .array(z.strictObject({ detector: z.enum(DETECTOR_KINDS), probability, score: num }))
      .min(1)
      .max(DETECTOR_KINDS.length),
    peakTags: z
      .array(
        z.strictObject({
          tag: z.string().min(1).max(MAX_TAG_CHARS),
          weight: probability,
          value: num.exactOptional(),
          expected: num.exactOptional(),
        }),
      )
      .min(1)
      .max(MAX_BODY_TAGS),
    lastSeenClock: clock,
    quietSamples: z.number().int().nonnegative(),
    quietSinceTs: num.nullable(),
    quietSinceClock: clock.nullable(),
  })
  .refine((e) => episodeKeyOf(e.type) === e.key, { error: "type does not belong to key" })
  .refine((e) => e.peakScore >= e.score && severityRank(e.peakSeverity) >= severityRank(e.severity), {
    error: "peak below the latest reading",
  })
  .refine(
    (e) => e.startClock <= e.lastSeenClock && (e.quietSinceClock ?? e.lastSeenClock) >= e.lastSeenClock,
    {
      error: "clocks out of order",
    },
  )
  .refine((e) => (e.quietSamples === 0) === (e.quietSinceClock === null && e.quietSinceTs === null), {
    error: "quietSamples disagrees with quietSince",
  });

const stateSchema = z
  .strictObject({
    format: z.literal(ALERT_STATE_FORMAT),
    version: z.literal(ALERT_STATE_VERSION),
    device: z.string().min(1),
    clock,
    lastTs: num.nullable(),
    episodeSeq: z.number().int().nonnegative(),
    episodes: z.array(episodeSchema).max(EPISODE_KEYS.length),
    ended: z.array(z.strictObject({ key, clock, peakSeverity: severity })).max(EPISODE_KEYS.length),
  })
  .refine((s) => new Set(s.episodes.map((e) => e.key)).size === s.episodes.length, {
    error: "two open episodes share a key",
  })
  .refine((s) => new Set(s.ended.map((e) => e.key)).size === s.ended.length, {
    error: "two ends share a key",
  })
  .refine(
    (s) =>
      s.episodes.every((e) => (e.quietSinceClock ?? e.lastSeenClock) <= s.clock) &&
      s.ended.every((e) => e.clock <= s.clock),
    { error: "a clock is ahead of the engine's" },
  );

/** Validates saved state; throws RangeError naming the first problem. */
export function parseAlertState(input: unknown): AlertEngineState {
  const parsed = stateSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.map(String).join(".") : "(top level)";
    throw new RangeError(`alert engine state: ${where}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}
