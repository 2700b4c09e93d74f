/**
 * OEE figures of one period and the Sample that carries them (issue #6 item 4: "availability,
 * performance, quality and OEE per shift ... emitted as samples").
 *
 * Definitions (Nakajima, "Introduction to TPM", 1988; the same KPIs in ISO 22400-2:2014 as
 * availability = PDT/PBT, effectiveness, quality ratio and OEE index):
 *   planned production time = shift time - planned stop time
 *   availability = run time / planned production time
 *   performance  = ideal cycle time x total count / run time
 *   quality      = good count / total count
 *   OEE          = availability x performance x quality
 *
 * Decisions:
 * - Time during which the run state is unknown (no good reading for a while, or before the tracker
 *   started) is neither run nor down: planned production time is the known part, run + down, and
 *   the unknown part is reported beside it (oee.unknown_time_s) so a reader can judge coverage.
 * - Performance above 1 means the configured ideal cycle time is longer than the machine's real
 *   one. oee.performance and OEE use it clamped to 1 (quality uncertain, with the reason);
 *   oee.performance_raw keeps the raw ratio for whoever tunes idealCycleTime.
 * - Good parts: the good counter when configured, else total - scrap, else every part is good.
 *   Counters are read at slightly different times, so good may briefly exceed total: quality is
 *   then 1, marked uncertain.
 * - A zero denominator gives value null with quality "uncertain" and a reason, never NaN. OEE is 0
 *   (not undefined) when any defined factor is 0: no run time or no parts is a certain zero.
 */
import type { Sample, TagReading } from "../../records.js";

/** What a period accumulates (ms and parts). */
export interface OeeTotals {
  runMs: number;
  downMs: number;
  plannedStopMs: number;
  totalCount: number;
  /** From the good counter; used when the good source is "good". */
  goodCount: number;
  /** From the scrap counter; used when the good source is "scrap". */
  scrapCount: number;
}

export type GoodSource = "good" | "scrap" | "total";

export type Ratio =
  | { readonly value: number; readonly reason?: string }
  | { readonly value: null; readonly reason: string };

export interface OeeFigures {
  readonly availability: Ratio;
  readonly performance: Ratio;
  readonly performanceRaw: Ratio;
  readonly quality: Ratio;
  readonly oee: Ratio;
  readonly elapsedMs: number;
  readonly plannedMs: number;
  readonly unknownMs: number;
  readonly goodCount: number;
}

export function emptyTotals(): OeeTotals {
  return { runMs: 0, downMs: 0, plannedStopMs: 0, totalCount: 0, goodCount: 0, scrapCount: 0 };
}

/** The figures of a period `elapsedMs` long so far. */
export function computeOee(
  totals: OeeTotals,
  elapsedMs: number,
  idealCycleTimeMs: number,
  goodSource: GoodSource,
): OeeFigures {
  const plannedMs = totals.runMs + totals.downMs;
  const unknownMs = Math.max(0, elapsedMs - plannedMs - totals.plannedStopMs);
  const goodCount =
    goodSource === "good"
      ? totals.goodCount
      : goodSource === "scrap"
        ? Math.max(0, totals.totalCount - totals.scrapCount)
        : totals.totalCount;

  const availability: Ratio =
    plannedMs > 0
      ? { value: totals.runMs / plannedMs }
      : { value: null, reason: "no known planned production time (run state unknown or all planned stop)" };

  let performanceRaw: Ratio;
  let performance: Ratio;
  if (totals.runMs > 0) {
    const raw = (idealCycleTimeMs * totals.totalCount) / totals.runMs;
    performanceRaw = { value: raw };
    performance =
      raw > 1
        ? {
            value: 1,
            reason: `clamped from ${raw.toFixed(3)}: the ideal cycle time is longer than the machine's real cycle`,
          }
        : { value: raw };
  } else {
    performanceRaw = { value: null, reason: "no run time" };
    performance = performanceRaw;
  }

  let quality: Ratio;
  if (totals.totalCount <= 0) {
    quality = { value: null, reason: "no parts counted" };
  } else if (goodCount > totals.totalCount) {
    quality = { value: 1, reason: "good count exceeds total count (counters read at different times)" };
  } else {
    quality = { value: goodCount / totals.totalCount };
  }

  return {
    availability,
    performance,
    performanceRaw,
    quality,
    oee: combine([availability, performance, quality]),
    elapsedMs,
    plannedMs,
    unknownMs,
    goodCount,
  };
}

function combine(factors: readonly Ratio[]): Ratio {
  if (factors.some((f) => f.value === 0)) {
    return { value: 0 };
  }
  let product = 1;
  const reasons: string[] = [];
  for (const factor of factors) {
    if (factor.value === null) {
      return { value: null, reason: `undefined: ${factor.reason}` };
    }
    product *= factor.value;
    if (factor.reason !== undefined) {
      reasons.push(factor.reason);
    }
  }
  return reasons.length === 0 ? { value: product } : { value: product, reason: reasons.join("; ") };
}

function ratioReading(ratio: Ratio): TagReading {
  return ratio.reason === undefined
    ? { value: ratio.value, quality: "good" }
    : { value: ratio.value, quality: "uncertain", reason: ratio.reason };
}

const seconds = (ms: number): TagReading => ({ value: ms / 1000, quality: "good", unit: "s" });
const good = (value: number | string): TagReading => ({ value, quality: "good" });

export interface OeeSampleInput {
  readonly device: string;
  readonly shift: string;
  readonly periodKey: string;
  readonly ts: number;
  readonly clockSynced: boolean;
  /** True for the figures at the end of the period, false for running figures. */
  readonly final: boolean;
  readonly totals: OeeTotals;
  readonly figures: OeeFigures;
}

/** The Sample (group "oee") carrying one period's figures. */
export function oeeSample(input: OeeSampleInput): Sample {
  const { totals, figures } = input;
  return {
    kind: "sample",
    device: input.device,
    group: "oee",
    ts: input.ts,
    clockSynced: input.clockSynced,
    values: {
      "oee.shift": good(input.shift),
      "oee.period": good(input.periodKey),
      "oee.final": good(input.final ? 1 : 0),
      "oee.availability": ratioReading(figures.availability),
      "oee.performance": ratioReading(figures.performance),
      "oee.performance_raw": ratioReading(figures.performanceRaw),
      "oee.quality": ratioReading(figures.quality),
      "oee.oee": ratioReading(figures.oee),
      "oee.run_time_s": seconds(totals.runMs),
      "oee.down_time_s": seconds(totals.downMs),
      "oee.planned_stop_s": seconds(totals.plannedStopMs),
      "oee.unknown_time_s": seconds(figures.unknownMs),
      "oee.planned_time_s": seconds(figures.plannedMs),
      "oee.shift_time_s": seconds(figures.elapsedMs),
      "oee.total_count": good(totals.totalCount),
      "oee.good_count": good(figures.goodCount),
    },
  };
}
