/**
 * What the OEE tracker takes in (issue #6 item 4: "OEE per machine from counters"): the machine's
 * run state, counters and planned-stop flag, each optional because a Sample holds only the tags
 * that passed the publish filter (deadband, heartbeat) and poll groups arrive separately.
 *
 * What counts as usable (issue #6 must-show: "non-finite or bad-quality values never poison a
 * detector's state"): quality "good" only; flags from booleans or finite numbers / bigints
 * (non-zero = true); counters from finite, non-negative numbers or bigints within 2^53. A signed
 * 16-bit counter that shows a negative value is refused rather than guessed at.
 */
import type * as z from "zod";
import type { machineSchema } from "../../config/schema/analytics.js";
import type { Sample, TagReading } from "../../records.js";

/** analytics.machines[].oee as the schema delivers it (idealCycleTime in ms). */
export type OeeMachineConfig = NonNullable<z.output<typeof machineSchema>["oee"]>;

export const OEE_INPUTS = ["runState", "totalCount", "goodCount", "scrapCount", "plannedStop"] as const;
export type OeeInput = (typeof OEE_INPUTS)[number];

/** One reading of the machine's OEE tags; absent fields were not in the sample. */
export interface OeeReading {
  readonly ts: number;
  /** The sample's clockSynced; labels the OEE samples emitted afterwards. */
  readonly clockSynced?: boolean;
  readonly runState?: TagReading;
  readonly totalCount?: TagReading;
  readonly goodCount?: TagReading;
  readonly scrapCount?: TagReading;
  readonly plannedStop?: TagReading;
}

type MutableReading = { -readonly [K in keyof OeeReading]: OeeReading[K] };

/**
 * Picks the configured OEE tags out of one of the machine's samples; null when it holds none of
 * them (nothing for the tracker, though the caller may still tick()).
 */
export function oeeReadingFromSample(sample: Sample, config: OeeMachineConfig): OeeReading | null {
  const reading: MutableReading = { ts: sample.ts, clockSynced: sample.clockSynced };
  let found = false;
  for (const input of OEE_INPUTS) {
    const tag = config[input];
    const value = tag === undefined ? undefined : sample.values[tag];
    if (value !== undefined && Object.hasOwn(sample.values, tag as string)) {
      reading[input] = value;
      found = true;
    }
  }
  return found ? reading : null;
}

/** A run-state or planned-stop flag, or undefined when the reading is unusable. */
export function flagValue(reading: TagReading): boolean | undefined {
  if (reading.quality !== "good") {
    return undefined;
  }
  const { value } = reading;
  switch (typeof value) {
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value !== 0 : undefined;
    case "bigint":
      return value !== 0n;
    default:
      return undefined;
  }
}

/** A counter value, or undefined when the reading is unusable. */
export function counterValue(reading: TagReading): number | undefined {
  if (reading.quality !== "good") {
    return undefined;
  }
  const { value } = reading;
  if (typeof value === "number") {
    return Number.isFinite(value) && value >= 0 ? value : undefined;
  }
  if (typeof value === "bigint") {
    return value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
  }
  return undefined;
}
