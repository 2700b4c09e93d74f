/**
 * The anomaly record's body (issue #6 item 3: "an anomaly record {device, ts, score, detectors,
 * type, severity, explanation naming the tags that drove it} ... and an `ended` record when it
 * clears"). The ledger stores it as kind "anomaly" and the uplink sends it on the alerts stream
 * (docs/protocol.md §8.3 and "Anomaly records (issue #6)"); the receiver of issue #7 parses it with
 * anomalyFromJson, so both directions go through one schema.
 *
 * Every number is a finite JSON number: no field holds a 64-bit integer (timestamps are ms since
 * the epoch, far below 2^53), so unlike samples (sampleJson.ts) nothing travels as a string.
 * A non-finite number is refused on the way out rather than written as `null` (FAULTS 8.7).
 */
import * as z from "zod";
import {
  ANOMALY_TYPES,
  type AnomalyType,
  DETECTOR_KINDS,
  type DetectorKind,
  SEVERITIES,
  type Severity,
} from "../findings.js";
import { describeFirstIssue, notAnObject } from "../jsonProblems.js";

/** Most tags and detectors a body lists: enough to act on, small enough for one alert line. */
export const MAX_BODY_TAGS = 5;
/** Longest tag name a body carries (config tag names are at most 64). */
export const MAX_TAG_CHARS = 128;
/** Explanations stay under this many characters (a notification line, a table cell). */
export const MAX_EXPLANATION_CHARS = 300;

export type AnomalyState = "raised" | "escalated" | "ended";
/** Why an episode ended: the fault cleared, or the engine was told to end everything (flush). */
export type EndReason = "cleared" | "flushed";

export interface DetectorVerdict {
  readonly detector: DetectorKind;
  readonly probability: number;
  readonly score: number;
}

export interface BodyTag {
  readonly tag: string;
  /** Share of the alert's evidence this tag carries, in [0, 1]. */
  readonly weight: number;
  readonly value?: number;
  readonly expected?: number;
}

interface BodyCommon {
  readonly kind: "anomaly";
  /**
   * Stable for the whole episode: raised, escalated and ended records of one fault share it.
   * The engine writes `{device}:{type}:{startedTs}:{n}`, n counting the device's episodes.
   */
  readonly id: string;
  readonly device: string;
  readonly type: AnomalyType;
  readonly severity: Severity;
  /** Wall-clock ms of the reading that produced this record (a label, like a sample's ts). */
  readonly ts: number;
  /** Wall-clock ms of the reading that raised the episode. */
  readonly startedTs: number;
  /** Combined anomaly probability in [0, 1] (the ensemble's, ensemble.ts). */
  readonly score: number;
  readonly detectors: readonly DetectorVerdict[];
  readonly tags: readonly BodyTag[];
  readonly explanation: string;
}

export interface RaisedBody extends BodyCommon {
  readonly state: "raised" | "escalated";
}

/**
 * The engine's ended records describe the episode's peak reading (severity, score, detectors, tags
 * all of it), so peakSeverity and peakScore repeat severity and score; they are separate fields so
 * that a reader need not know that, and the schema only requires peak >= the record's own.
 */
export interface EndedBody extends BodyCommon {
  readonly state: "ended";
  /** Wall-clock ms of the first reading that no longer showed the fault. */
  readonly endedTs: number;
  /** From the raise to endedTs, measured on the engine's clock that never runs backwards. */
  readonly durationMs: number;
  readonly peakSeverity: Severity;
  readonly peakScore: number;
  readonly reason: EndReason;
}

export type AnomalyBody = RaisedBody | EndedBody;

/** An anomaly body refused: the message names the field and what is wrong with it. */
export class AnomalyBodyError extends Error {
  override readonly name = "AnomalyBodyError";
  constructor(problem: string) {
    super(`anomaly body: ${problem}`);
  }
}

const probability = z.number().min(0).max(1); // zod 4 refuses NaN and +-Infinity in z.number()
const finite = z.number();

const detectorVerdict = z.strictObject({
  detector: z.enum(DETECTOR_KINDS),
  probability,
  score: finite,
});

const bodyTag = z.strictObject({
  tag: z.string().min(1).max(MAX_TAG_CHARS),
  weight: probability,
  value: finite.exactOptional(),
  expected: finite.exactOptional(),
});

/** Device ids as the protocol fixes them (docs/protocol.md §2.2). */
export const DEVICE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

const common = {
  id: z.string().min(1).max(256),
  device: z.string().regex(DEVICE_ID),
  type: z.enum(ANOMALY_TYPES),
  severity: z.enum(SEVERITIES),
  ts: finite,
  startedTs: finite,
  score: probability,
  detectors: z.array(detectorVerdict).min(1).max(DETECTOR_KINDS.length),
  tags: z.array(bodyTag).min(1).max(MAX_BODY_TAGS),
  explanation: z
    .string()
    .min(1)
    .max(MAX_EXPLANATION_CHARS - 1),
};

// Key order here is the order on the wire: zod builds its output in shape order.
const raisedSchema = z.strictObject({
  kind: z.literal("anomaly"),
  state: z.enum(["raised", "escalated"]),
  ...common,
});

const endedSchema = z
  .strictObject({
    kind: z.literal("anomaly"),
    state: z.literal("ended"),
    ...common,
    endedTs: finite,
    durationMs: z.number().nonnegative(),
    peakSeverity: z.enum(SEVERITIES),
    peakScore: probability,
    reason: z.enum(["cleared", "flushed"]),
  })
  .refine((b) => b.peakScore >= b.score, { error: "peakScore is below score", path: ["peakScore"] })
  .refine((b) => severityRank(b.peakSeverity) >= severityRank(b.severity), {
    error: "peakSeverity is below severity",
    path: ["peakSeverity"],
  });

/** LOW 0 ... CRITICAL 3. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

function validate(input: unknown): AnomalyBody {
  const notObject = notAnObject(input);
  if (notObject !== undefined) {
    throw new AnomalyBodyError(notObject);
  }
  const { kind, state } = input as { kind?: unknown; state?: unknown };
  if (kind !== "anomaly") {
    throw new AnomalyBodyError(`"kind" is ${JSON.stringify(kind)}, expected "anomaly"`);
  }
  // Pick the branch by state first, so that errors name the body's fields and not the union's.
  const schema = state === "ended" ? endedSchema : raisedSchema;
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new AnomalyBodyError(describeFirstIssue(parsed.error));
  }
  return parsed.data;
}

/** The body as the ledger stores it: validated (throws AnomalyBodyError), fixed key order, no whitespace. */
export function anomalyToJson(body: AnomalyBody): string {
  return JSON.stringify(validate(body));
}

/** The inverse of anomalyToJson: throws AnomalyBodyError on anything it could not have written. */
export function anomalyFromJson(text: string): AnomalyBody {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new AnomalyBodyError(`not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  return validate(input);
}
