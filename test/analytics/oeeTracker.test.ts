import { describe, expect, it } from "vitest";
import {
  type OeeReading,
  OeeTracker,
  type OeeTrackerOptions,
  oeeCalendar,
} from "../../src/analytics/oee/index.js";
import { seededRandom } from "../../src/analytics/random.js";
import { ShiftCalendar, type ShiftDefinition } from "../../src/analytics/shiftCalendar.js";
import type { Sample, TagReading } from "../../src/records.js";
import { type PressState, pressConfig, pressLine, schedule } from "./oeeFixtures.js";

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const at = (iso: string) => Date.parse(iso);
const good = (value: number | boolean): TagReading => ({ value, quality: "good" });

const threeShifts: ShiftDefinition[] = [
  { name: "early", start: "06:00", end: "14:00", days: ["mon", "tue", "wed", "thu", "fri"] },
  { name: "late", start: "14:00", end: "22:00", days: ["mon", "tue", "wed", "thu", "fri"] },
  { name: "night", start: "22:00", end: "06:00", days: ["mon", "tue", "wed", "thu", "fri"] },
];

function tracker(overrides: Partial<OeeTrackerOptions> = {}): OeeTracker {
  return new OeeTracker({
    device: "press-1",
    config: pressConfig,
    calendar: new ShiftCalendar(threeShifts, "UTC"),
    ...overrides,
  });
}

function feed(t: OeeTracker, readings: readonly OeeReading[], endTs?: number): Sample[] {
  const out: Sample[] = [];
  for (const reading of readings) {
    out.push(...t.observe(reading));
  }
  if (endTs !== undefined) {
    out.push(...t.tick(endTs));
  }
  return out;
}

const finals = (samples: readonly Sample[]) => samples.filter((s) => s.values["oee.final"]?.value === 1);
const value = (sample: Sample | undefined, tag: string) => sample?.values[`oee.${tag}`]?.value;

/** The known shift: 8 h, 30 min planned stop, 60 min unplanned down, 9,000 parts, every 50th scrap. */
function knownShift() {
  const start = at("2026-12-03T06:00:00Z"); // a Thursday
  return pressLine({
    start,
    end: start + 8 * HOUR,
    cycleMs: 2600, // 390 min of run time / 9,000 parts
    isScrap: (k) => k % 50 === 0,
    stateAt: schedule([
      [start, "run"],
      [start + 3 * HOUR, "planned"],
      [start + 3.5 * HOUR, "run"],
      [start + 5 * HOUR, "down"],
      [start + 6 * HOUR, "run"],
    ]),
  });
}

describe("OeeTracker on a known shift", () => {
  it("reports the standard figures at the shift end", () => {
    const line = knownShift();
    const samples = feed(tracker(), line.readings, at("2026-12-03T14:00:00Z"));
    const [final] = finals(samples);
    const run = 390 * MIN;
    const planned = 480 * MIN - 30 * MIN;
    const a = run / planned;
    const p = (2500 * 9000) / run;
    const q = 8820 / 9000;
    expect(finals(samples)).toHaveLength(1);
    expect(samples.filter((s) => value(s, "final") === 0)).toHaveLength(479); // every minute, 06:01 to 13:59
    expect(final?.ts).toBe(at("2026-12-03T14:00:00Z"));
    expect(final?.values["oee.availability"]).toEqual({ value: a, quality: "good" });
    expect(value(final, "performance")).toBeCloseTo(p, 12);
    expect(value(final, "quality")).toBeCloseTo(q, 12);
    expect(value(final, "oee")).toBeCloseTo(a * p * q, 12);
    expect(value(final, "run_time_s")).toBe(390 * 60);
    expect(value(final, "planned_time_s")).toBe(450 * 60);
    expect(value(final, "planned_stop_s")).toBe(30 * 60);
    expect(value(final, "down_time_s")).toBe(60 * 60);
    expect(value(final, "unknown_time_s")).toBe(0);
    expect(value(final, "total_count")).toBe(9000);
    expect(value(final, "good_count")).toBe(8820);
    expect(value(final, "shift")).toBe("early");
    expect(value(final, "period")).toBe("2026-12-03/early");
    expect(final).toMatchObject({ device: "press-1", group: "oee", clockSynced: true });
  });

  it("emits running figures every interval, each matching the ground truth so far", () => {
    const line = knownShift();
    const samples = feed(tracker({ intervalMs: 15 * MIN }), line.readings, at("2026-12-03T14:00:00Z"));
    const running = samples.filter((s) => value(s, "final") === 0);
    expect(running).toHaveLength(31); // 06:15 ... 13:45
    for (const sample of running) {
      expect((sample.ts - at("2026-12-03T06:00:00Z")) % (15 * MIN)).toBe(0);
      const from = at("2026-12-03T06:00:00Z");
      expect(value(sample, "run_time_s")).toBe(line.truth(from, sample.ts).runMs / SEC);
      // A running sample includes the counters of the reading at its own instant.
      expect(value(sample, "total_count")).toBe(line.truth(from, sample.ts + 1).parts);
    }
  });
});

describe("OeeTracker on a seeded press line", () => {
  it("matches the ground truth of every shift over a day", () => {
    for (const seed of [1, 2, 3]) {
      const rand = seededRandom(seed);
      const start = at("2026-12-03T06:00:00Z");
      const end = start + 24 * HOUR;
      const steps: [number, PressState][] = [];
      for (let t = start; t < end; ) {
        steps.push([t, "run"]);
        t += Math.round((10 + 50 * rand()) * MIN);
        steps.push([t, "down"]);
        t += Math.round((1 + 14 * rand()) * MIN);
      }
      const breaks = [4, 12, 20].map((h) => start + h * HOUR);
      const base = schedule(steps);
      const stateAt = (ts: number): PressState =>
        breaks.some((b) => ts >= b && ts < b + 30 * MIN) ? "planned" : base(ts);
      const scrap: boolean[] = [];
      const line = pressLine({
        start,
        end,
        stateAt,
        cycleMs: 2700,
        pollMs: 2 * SEC,
        isScrap: (k) => (scrap[k] ??= rand() < 0.03),
      });
      const samples = feed(tracker(), line.readings, end);
      const closed = finals(samples);
      expect(closed.map((s) => value(s, "period"))).toEqual([
        "2026-12-03/early",
        "2026-12-03/late",
        "2026-12-03/night",
      ]);
      for (const [i, sample] of closed.entries()) {
        const truth = line.truth(start + i * 8 * HOUR, start + (i + 1) * 8 * HOUR);
        expect(value(sample, "run_time_s")).toBe(truth.runMs / SEC);
        expect(value(sample, "down_time_s")).toBe(truth.downMs / SEC);
        expect(value(sample, "planned_stop_s")).toBe(truth.plannedMs / SEC);
        expect(value(sample, "total_count")).toBe(truth.parts);
        expect(value(sample, "good_count")).toBe(truth.good);
        expect(value(sample, "availability")).toBeCloseTo(truth.runMs / (truth.runMs + truth.downMs), 12);
        expect(value(sample, "performance")).toBeCloseTo((2500 * truth.parts) / truth.runMs, 12);
        expect(value(sample, "quality")).toBeCloseTo(truth.good / truth.parts, 12);
      }
    }
  });
});

describe("OeeTracker at shift boundaries", () => {
  it("splits a run that crosses the shift change between the two shifts", () => {
    const start = at("2026-12-03T13:00:00Z");
    const line = pressLine({
      start,
      end: start + 2 * HOUR,
      cycleMs: 3000,
      isScrap: () => false,
      stateAt: () => "run",
    });
    const t = tracker();
    const samples = feed(t, line.readings, start + 2 * HOUR);
    const [early] = finals(samples);
    expect(value(early, "period")).toBe("2026-12-03/early");
    expect(value(early, "run_time_s")).toBe(3600);
    // The tracker started at 13:00: the early shift's first seven hours are unknown, not down.
    expect(value(early, "unknown_time_s")).toBe(7 * 3600);
    expect(value(early, "down_time_s")).toBe(0);
    expect(value(early, "availability")).toBe(1);
    expect(value(early, "total_count")).toBe(line.truth(start, start + HOUR).parts);
    expect(t.period).toMatchObject({ key: "2026-12-03/late", accountedFrom: at("2026-12-03T14:00:00Z") });
    const late = t.figures();
    expect(late?.elapsedMs).toBe(HOUR);
    expect(late?.plannedMs).toBe(HOUR);
    expect(late?.availability.value).toBe(1);
  });

  it("counts the night shift spanning spring-forward as 7 hours and fall-back as 9", () => {
    const calendar = new ShiftCalendar([{ name: "night", start: "22:00", end: "06:00" }], "Europe/Berlin");
    for (const [from, closes, hours] of [
      ["2026-03-28T20:00:00Z", "2026-03-29T04:00:00Z", 7],
      ["2026-10-24T19:00:00Z", "2026-10-25T05:00:00Z", 9],
    ] as const) {
      const line = pressLine({
        start: at(from),
        end: at(closes) + HOUR,
        cycleMs: 5000,
        pollMs: 10 * SEC,
        isScrap: () => false,
        stateAt: () => "run",
      });
      const [final] = finals(feed(tracker({ calendar }), line.readings));
      expect(final?.ts).toBe(at(closes));
      expect(value(final, "run_time_s")).toBe(hours * 3600);
      expect(value(final, "shift_time_s")).toBe(hours * 3600);
      expect(value(final, "unknown_time_s")).toBe(0);
    }
  });

  it("reports per calendar day in the zone when no shifts are configured", () => {
    const start = at("2026-12-03T22:00:00Z"); // 23:00 in Berlin
    const line = pressLine({
      start,
      end: start + 2 * HOUR,
      cycleMs: 4000,
      isScrap: () => false,
      stateAt: () => "run",
    });
    const t = tracker({ calendar: oeeCalendar([], "Europe/Berlin") });
    const [day] = finals(feed(t, line.readings));
    expect(day?.ts).toBe(at("2026-12-03T23:00:00Z"));
    expect(value(day, "shift")).toBe("day");
    expect(value(day, "period")).toBe("2026-12-03/day");
    expect(value(day, "run_time_s")).toBe(3600);
    expect(t.period?.key).toBe("2026-12-04/day");
  });

  it("emits nothing between shifts and counts the parts made there in stats only", () => {
    const start = at("2026-12-05T08:00:00Z"); // Saturday: no shifts
    const line = pressLine({
      start,
      end: start + 10 * MIN,
      cycleMs: 2000,
      isScrap: () => false,
      stateAt: () => "run",
    });
    const t = tracker();
    expect(feed(t, line.readings, start + 20 * MIN)).toEqual([]);
    expect(t.period).toBeNull();
    expect(t.stats.partsOutsideShifts).toBe(line.truth(start, start + 20 * MIN).parts);
  });

  it("still reports a shift the gateway ticked through while the machine never read good", () => {
    const t = tracker();
    const samples: Sample[] = [];
    for (let ts = at("2026-12-03T06:00:00Z"); ts <= at("2026-12-03T14:00:05Z"); ts += 10 * SEC) {
      samples.push(...t.tick(ts));
      samples.push(...t.observe({ ts, runState: { value: null, quality: "bad", reason: "timeout" } }));
    }
    const [final] = finals(samples);
    expect(value(final, "unknown_time_s")).toBe(8 * 3600);
    expect(final?.values["oee.availability"]).toMatchObject({ value: null, quality: "uncertain" });
    expect(final?.values["oee.oee"]).toMatchObject({ value: null, quality: "uncertain" });
  });

  it("closes the open shift and skips the unobserved ones after a clock step of decades", () => {
    const t = tracker();
    const boot = at("1970-01-01T00:00:10Z"); // a gateway without a real-time clock, in Wednesday's night shift
    feed(t, [{ ts: boot, runState: good(true), totalCount: good(5) }]);
    const samples = t.observe({ ts: at("2026-12-03T07:00:00Z"), runState: good(true), totalCount: good(9) });
    expect(samples.map((s) => [value(s, "period"), value(s, "final")])).toEqual([
      ["1969-12-31/night", 1],
      ["2026-12-03/early", 0],
    ]);
    expect(value(samples[0], "run_time_s")).toBe(300); // held for maxGap after the reading
    expect(t.period?.key).toBe("2026-12-03/early");
  });
});

describe("OeeTracker input hygiene", () => {
  const start = at("2026-12-03T06:00:00Z");
  const bad: TagReading = { value: null, quality: "bad", reason: "timeout" };

  it("ignores bad and non-finite readings and reports the time without a good run state as unknown", () => {
    const readings: OeeReading[] = [
      { ts: start, runState: good(true), totalCount: good(100), goodCount: good(100) },
    ];
    for (let ts = start + MIN; ts <= start + 10 * MIN; ts += MIN) {
      readings.push({ ts, runState: good(true) });
    }
    for (let ts = start + 10 * MIN + 10 * SEC; ts < start + 30 * MIN; ts += 10 * SEC) {
      readings.push({
        ts,
        runState: bad,
        totalCount: good(Number.NaN),
        goodCount: { value: Number.POSITIVE_INFINITY, quality: "good" },
        plannedStop: { value: true, quality: "uncertain" },
      });
    }
    readings.push({
      ts: start + 30 * MIN,
      runState: good(true),
      totalCount: good(130),
      goodCount: good(128),
    });
    for (let ts = start + 31 * MIN; ts < start + HOUR; ts += MIN) {
      readings.push({ ts, runState: good(true) }); // heartbeat
    }
    const t = tracker();
    feed(t, readings, start + HOUR);
    const f = t.figures();
    expect(f?.elapsedMs).toBe(HOUR);
    expect(f?.unknownMs).toBe(15 * MIN); // run held to 06:15, unknown to 06:30
    expect(f?.plannedMs).toBe(45 * MIN);
    expect(f?.availability.value).toBe(1);
    expect(t.stats.ignoredValues).toBe(119 * 4);
    expect(t.stats.counterResets).toBe(0);
    expect(JSON.stringify(t.toJSON())).toContain('"totalCount":30');
    expect(f?.goodCount).toBe(28);
  });

  it("applies a slightly late reading at the current time and refuses an old one", () => {
    const t = tracker();
    t.observe({ ts: start, runState: good(true), totalCount: good(0) });
    t.tick(start + MIN);
    t.observe({ ts: start + MIN - 2 * SEC, runState: good(false), totalCount: good(10) });
    t.observe({ ts: start + 30 * SEC, runState: good(true), totalCount: good(500) });
    t.tick(start + 2 * MIN);
    expect(t.stats.refusedReadings).toBe(1);
    const f = t.figures();
    expect(f?.plannedMs).toBe(2 * MIN);
    expect(f?.availability.value).toBe(0.5);
    expect(t.toJSON().totals.totalCount).toBe(10);
  });

  it("counts through a 16-bit wrap and restarts counting after a reset", () => {
    const t = tracker();
    feed(t, [
      { ts: start, runState: good(true), totalCount: good(65_500), goodCount: good(65_500) },
      { ts: start + MIN, totalCount: good(65_530), goodCount: good(65_530) },
      { ts: start + 2 * MIN, totalCount: good(14), goodCount: good(14) }, // wrapped: 20 parts
      { ts: start + 3 * MIN, totalCount: good(40), goodCount: good(40) },
      { ts: start + 4 * MIN, totalCount: good(3), goodCount: good(3) }, // PLC restart
      { ts: start + 5 * MIN, totalCount: good(10), goodCount: good(9) },
    ]);
    expect(t.toJSON().totals.totalCount).toBe(30 + 20 + 26 + 7);
    expect(t.figures()?.goodCount).toBe(30 + 20 + 26 + 6);
    expect(t.stats).toMatchObject({ counterResets: 4, counterWraps: 2 });
  });
});

describe("OeeTracker state", () => {
  it("resumes mid-shift from its JSON state and ends the shift exactly as without the restart", () => {
    const line = knownShift();
    const endTs = at("2026-12-03T14:00:00Z");
    const whole = feed(tracker(), line.readings, endTs);
    for (const split of [1, 7_777, 15_000, line.readings.length - 1]) {
      const first = tracker();
      const before = feed(first, line.readings.slice(0, split));
      const saved = JSON.parse(JSON.stringify(first.toJSON())) as unknown;
      const resumed = OeeTracker.fromJSON(saved, {
        device: "press-1",
        config: pressConfig,
        calendar: new ShiftCalendar(threeShifts, "UTC"),
      });
      expect(resumed.toJSON()).toEqual(first.toJSON());
      const after = feed(resumed, line.readings.slice(split), endTs);
      expect([...before, ...after]).toEqual(whole);
    }
  });

  it("refuses a state for another device, of another version or with broken fields", () => {
    const options = {
      device: "press-2",
      config: pressConfig,
      calendar: new ShiftCalendar(threeShifts, "UTC"),
    };
    const state = tracker().toJSON();
    expect(() => OeeTracker.fromJSON(state, options)).toThrow(/press-1/);
    expect(() => OeeTracker.fromJSON({ ...state, version: 2 }, { ...options, device: "press-1" })).toThrow(
      /version 2/,
    );
    expect(() =>
      OeeTracker.fromJSON({ ...state, cursor: "soon" }, { ...options, device: "press-1" }),
    ).toThrow(/cursor/);
  });
});
