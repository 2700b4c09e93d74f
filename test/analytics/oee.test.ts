import { describe, expect, it } from "vitest";
import {
  computeOee,
  counterStep,
  counterValue,
  flagValue,
  type OeeTotals,
  oeeReadingFromSample,
  oeeSample,
} from "../../src/analytics/oee/index.js";
import type { Sample } from "../../src/records.js";
import { pressConfig } from "./oeeFixtures.js";

const MIN = 60_000;

function totals(partial: Partial<OeeTotals>): OeeTotals {
  return { runMs: 0, downMs: 0, plannedStopMs: 0, totalCount: 0, goodCount: 0, scrapCount: 0, ...partial };
}

describe("computeOee", () => {
  it("follows the standard definitions on a known shift", () => {
    // 8 h shift, 30 min planned stop, 60 min unplanned down, ideal cycle 2.5 s, 9,000 parts, 8,820 good.
    const shift = 480 * MIN;
    const plannedStop = 30 * MIN;
    const down = 60 * MIN;
    const planned = shift - plannedStop; // planned production time, 450 min
    const run = planned - down; // 390 min
    const f = computeOee(
      totals({ runMs: run, downMs: down, plannedStopMs: plannedStop, totalCount: 9000, goodCount: 8820 }),
      shift,
      2500,
      "good",
    );
    const a = run / planned;
    const p = (2500 * 9000) / run;
    const q = 8820 / 9000;
    expect(a).toBeCloseTo(390 / 450, 12);
    expect(f.availability).toEqual({ value: a });
    expect(f.performance).toEqual({ value: p });
    expect(f.quality).toEqual({ value: q });
    expect(f.oee.value).toBeCloseTo(a * p * q, 12);
    expect(f.oee.value).toBeCloseTo(0.8167, 4);
    expect(f.plannedMs).toBe(planned);
    expect(f.unknownMs).toBe(0);
  });

  it("reports zero denominators as null with a reason, never NaN", () => {
    const f = computeOee(totals({}), 10 * MIN, 2500, "good");
    for (const ratio of [f.availability, f.performance, f.performanceRaw, f.quality, f.oee]) {
      expect(ratio.value).toBeNull();
      expect(ratio.reason).toEqual(expect.any(String));
    }
    expect(f.unknownMs).toBe(10 * MIN);
  });

  it("makes OEE a certain zero when the machine never ran in planned time", () => {
    const f = computeOee(totals({ downMs: 30 * MIN }), 30 * MIN, 2500, "good");
    expect(f.availability).toEqual({ value: 0 });
    expect(f.performance.value).toBeNull();
    expect(f.oee).toEqual({ value: 0 });
  });

  it("clamps performance above 1 and keeps the raw ratio, marked uncertain", () => {
    // 100 parts in 100 s of run time with an "ideal" cycle of 2 s: raw performance 2.
    const f = computeOee(totals({ runMs: 100_000, totalCount: 100, goodCount: 100 }), 100_000, 2000, "good");
    expect(f.performanceRaw).toEqual({ value: 2 });
    expect(f.performance.value).toBe(1);
    expect(f.performance.reason).toMatch(/ideal cycle time/);
    expect(f.oee.value).toBe(1);
    expect(f.oee.reason).toMatch(/clamped/);
  });

  it("derives good parts from scrap, or takes every part as good without either counter", () => {
    const t = totals({ runMs: MIN, totalCount: 20, goodCount: 0, scrapCount: 5 });
    expect(computeOee(t, MIN, 1000, "scrap").quality).toEqual({ value: 15 / 20 });
    expect(computeOee(t, MIN, 1000, "total").quality).toEqual({ value: 1 });
    expect(computeOee(totals({ totalCount: 3, scrapCount: 9 }), MIN, 1000, "scrap").goodCount).toBe(0);
  });

  it("caps quality at 1 when the good counter runs ahead of the total counter", () => {
    const f = computeOee(totals({ runMs: MIN, totalCount: 10, goodCount: 11 }), MIN, 1000, "good");
    expect(f.quality.value).toBe(1);
    expect(f.quality.reason).toMatch(/exceeds/);
  });
});

describe("oeeSample", () => {
  it("carries the figures as tags of group oee, uncertain ones with their reason", () => {
    const t = totals({ runMs: 90_000, downMs: 30_000, totalCount: 30, goodCount: 29 });
    const sample = oeeSample({
      device: "press-1",
      shift: "early",
      periodKey: "2026-12-03/early",
      ts: 123,
      clockSynced: true,
      final: true,
      totals: t,
      figures: computeOee(t, 150_000, 2500, "good"),
    });
    expect(sample).toMatchObject({ kind: "sample", device: "press-1", group: "oee", ts: 123 });
    expect(sample.values["oee.availability"]).toEqual({ value: 0.75, quality: "good" });
    expect(sample.values["oee.final"]?.value).toBe(1);
    expect(sample.values["oee.shift"]?.value).toBe("early");
    expect(sample.values["oee.run_time_s"]).toEqual({ value: 90, quality: "good", unit: "s" });
    expect(sample.values["oee.unknown_time_s"]?.value).toBe(30);
    expect(sample.values["oee.planned_time_s"]?.value).toBe(120);
    expect(sample.values["oee.total_count"]?.value).toBe(30);
    expect(sample.values["oee.good_count"]?.value).toBe(29);
    for (const reading of Object.values(sample.values)) {
      expect(Number.isNaN(reading.value)).toBe(false);
    }
  });
});

describe("counterStep", () => {
  it("counts an increase and takes the first value as the baseline", () => {
    expect(counterStep(null, 500)).toEqual({ kind: "first" });
    expect(counterStep(500, 512)).toEqual({ kind: "delta", parts: 12 });
  });

  it("counts a 16-bit and a 32-bit wrap near the top of the range", () => {
    expect(counterStep(65_530, 4)).toEqual({ kind: "wrap", parts: 10, bits: 16 });
    expect(counterStep(4_294_967_290, 3)).toEqual({ kind: "wrap", parts: 9, bits: 32 });
  });

  it("treats any other decrease as a reset and counts nothing for it", () => {
    expect(counterStep(5000, 3)).toEqual({ kind: "reset" });
    expect(counterStep(65_530, 30_000)).toEqual({ kind: "reset" });
    expect(counterStep(70_000, 2)).toEqual({ kind: "reset" });
  });
});

describe("reading the OEE tags", () => {
  it("picks the configured tags out of a sample, and nothing when it has none of them", () => {
    const sample: Sample = {
      kind: "sample",
      device: "press-1",
      ts: 1000,
      clockSynced: true,
      values: { parts: { value: 7, quality: "good" }, temperature: { value: 40, quality: "good" } },
    };
    expect(oeeReadingFromSample(sample, pressConfig)).toEqual({
      ts: 1000,
      clockSynced: true,
      totalCount: { value: 7, quality: "good" },
    });
    expect(
      oeeReadingFromSample(
        { ...sample, values: { temperature: { value: 1, quality: "good" } } },
        pressConfig,
      ),
    ).toBeNull();
  });

  it("refuses bad quality, non-finite, negative and non-numeric values", () => {
    expect(flagValue({ value: true, quality: "good" })).toBe(true);
    expect(flagValue({ value: 2, quality: "good" })).toBe(true);
    expect(flagValue({ value: 0n, quality: "good" })).toBe(false);
    expect(flagValue({ value: true, quality: "bad" })).toBeUndefined();
    expect(flagValue({ value: Number.NaN, quality: "good" })).toBeUndefined();
    expect(flagValue({ value: "on", quality: "good" })).toBeUndefined();
    expect(counterValue({ value: 12n, quality: "good" })).toBe(12);
    expect(counterValue({ value: 12, quality: "uncertain" })).toBeUndefined();
    expect(counterValue({ value: Number.POSITIVE_INFINITY, quality: "good" })).toBeUndefined();
    expect(counterValue({ value: -1, quality: "good" })).toBeUndefined();
    expect(counterValue({ value: 2n ** 60n, quality: "good" })).toBeUndefined();
    expect(counterValue({ value: null, quality: "good" })).toBeUndefined();
  });
});
