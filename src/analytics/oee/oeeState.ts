/**
 * The saved state of an OEE tracker (issue #6 item 4, and item 5's "survive a restart"): plain
 * JSON with a version, validated on load, so a daemon restart mid-shift resumes the shift's totals
 * and counter baselines instead of starting the shift from zero or counting a counter's whole
 * value as one shift's production.
 */
import * as z from "zod";

/** Bump when the shape or the meaning of a field changes; load refuses other versions. */
export const OEE_STATE_VERSION = 1;

const num = z.number(); // zod 4 refuses NaN and +-Infinity
const nonNegative = num.nonnegative();
const count = z.number().int().nonnegative();
const held = z.strictObject({ value: z.boolean(), ts: num }).nullable();

const stateSchema = z.strictObject({
  version: z.literal(OEE_STATE_VERSION),
  kind: z.literal("oee"),
  device: z.string().min(1),
  /** Time integrated up to; null before the first reading or tick. */
  cursor: num.nullable(),
  period: z
    .strictObject({
      name: z.string().min(1),
      key: z.string().min(1),
      start: num,
      end: num,
      /** Where this period's accounting began: its start, or later when another shift held the time. */
      accountedFrom: num,
    })
    .refine((p) => p.start <= p.accountedFrom && p.start < p.end, { error: "period times out of order" })
    .nullable(),
  totals: z.strictObject({
    runMs: nonNegative,
    downMs: nonNegative,
    plannedStopMs: nonNegative,
    totalCount: nonNegative,
    goodCount: nonNegative,
    scrapCount: nonNegative,
  }),
  run: held,
  plannedStop: held,
  counters: z.strictObject({
    total: nonNegative.nullable(),
    good: nonNegative.nullable(),
    scrap: nonNegative.nullable(),
  }),
  nextEmitTs: num.nullable(),
  clockSynced: z.boolean(),
  stats: z.strictObject({
    readings: count,
    ignoredValues: count,
    refusedReadings: count,
    counterResets: count,
    counterWraps: count,
    partsOutsideShifts: nonNegative,
  }),
});

export type OeeTrackerState = z.output<typeof stateSchema>;
export type OeeTrackerStats = OeeTrackerState["stats"];

/** Validates a saved state; throws a RangeError naming every problem. */
export function parseOeeState(json: unknown): OeeTrackerState {
  const version = (json as { version?: unknown } | null)?.version;
  if (typeof json === "object" && json !== null && version !== OEE_STATE_VERSION) {
    throw new RangeError(
      `OEE tracker state version ${String(version)} is not supported (expected ${OEE_STATE_VERSION})`,
    );
  }
  const result = stateSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new RangeError(`invalid OEE tracker state: ${problems.join("; ")}`);
  }
  return result.data;
}
