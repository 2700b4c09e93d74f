import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/analytics/random.js";
import { StreamingDetector, type StreamingScore } from "../../src/analytics/streaming/index.js";
import { SeasonalBaseline } from "../../src/analytics/streaming/seasonalBaseline.js";
import { ZoneOffsets } from "../../src/analytics/streaming/zoneOffset.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The offset by Intl at ts, without any caching: what ZoneOffsets must agree with. */
function intlOffset(timeZone: string, ts: number): number {
  const f = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  });
  const parts = f.formatToParts(ts);
  const get = (type: string): number => Number(parts.find((x) => x.type === type)?.value);
  const second = Math.floor(ts / 1000) * 1000;
  return (
    Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second")) - second
  );
}

function slots(timeZone: string): SeasonalBaseline {
  return new SeasonalBaseline({
    seasonality: "daily",
    periodsKept: 14,
    capacity: 64,
    minPeriods: 3,
    timeZone,
  });
}

describe("ZoneOffsets", () => {
  // Whole-hour, half-hour DST (Lord Howe), quarter-hour (Kathmandu), negative half-hour zones.
  const zones = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "America/St_Johns",
  ];
  const from = Date.UTC(2024, 0, 1);
  const to = Date.UTC(2030, 0, 1);

  it("agrees with Intl at every instant, in time order (as a tag reads) and at random", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.array(fc.integer({ min: from, max: to }), { minLength: 1, maxLength: 60 }),
        fc.boolean(),
        (zone, instants, sorted) => {
          const offsets = new ZoneOffsets(zone);
          for (const ts of sorted ? [...instants].sort((a, b) => a - b) : instants) {
            expect(offsets.offsetAt(ts)).toBe(intlOffset(zone, ts));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("switches exactly at Berlin's 2026 changes (01:00 UTC on 29 March and 25 October)", () => {
    const offsets = new ZoneOffsets("Europe/Berlin");
    const spring = Date.UTC(2026, 2, 29, 1);
    const autumn = Date.UTC(2026, 9, 25, 1);
    // Minute by minute through both days, so the cached spans are exercised across each change.
    for (let ts = spring - 12 * HOUR; ts < spring + 12 * HOUR; ts += MINUTE) {
      expect(offsets.offsetAt(ts)).toBe(ts < spring ? HOUR : 2 * HOUR);
    }
    for (let ts = autumn - 12 * HOUR; ts < autumn + 12 * HOUR; ts += MINUTE) {
      expect(offsets.offsetAt(ts)).toBe(ts < autumn ? 2 * HOUR : HOUR);
    }
  });
});

describe("seasonal slots in a time zone", () => {
  it.each([
    ["spring", Date.UTC(2026, 2, 28, 13), Date.UTC(2026, 2, 30, 12)],
    ["autumn", Date.UTC(2026, 9, 24, 12), Date.UTC(2026, 9, 26, 13)],
  ])(
    "puts local 14:00 in Europe/Berlin into the same slot on both sides of the %s change",
    (_, before, after) => {
      const berlin = slots("Europe/Berlin");
      expect(berlin.slotOf(before)).toBe(14);
      expect(berlin.slotOf(after)).toBe(14);
      // At a fixed offset (UTC) the same local hour lands an hour apart.
      const utc = slots("UTC");
      expect(Math.abs(utc.slotOf(before) - utc.slotOf(after))).toBe(1);
    },
  );

  it("counts a local day as one period on the 23- and 25-hour days", () => {
    const berlin = slots("Europe/Berlin");
    const midnight = Date.UTC(2026, 2, 28, 23); // 00:00 local on 29 March, a 23-hour day
    berlin.add(midnight + 30 * MINUTE, 1); // 00:30 local, slot 0
    berlin.add(midnight + 23 * HOUR + 30 * MINUTE, 1); // 00:30 local on 30 March: a new period
    expect(berlin.toJSON().periodsSeen).toEqual([2]);
  });

  it("refuses an unknown time zone", () => {
    const tuning = { timeZone: "Mars/Olympus" };
    expect(
      () => new StreamingDetector({ method: "ewma", windowMs: HOUR, seasonality: "none", tuning }),
    ).toThrow(/unknown time zone/);
  });
});

describe("StreamingDetector with daily seasonality across a change of the clocks", () => {
  /**
   * A machine running 08:00-16:00 Berlin time (100 +- 2 on, 20 +- 2 off), 1/min from 14 March to
   * 8 April 2026: two weeks learnt before the 29 March change, ten days after it.
   */
  const start = Date.UTC(2026, 2, 14);
  const end = Date.UTC(2026, 3, 8);
  const change = Date.UTC(2026, 2, 29, 1);
  const berlin = new ZoneOffsets("Europe/Berlin");
  const localHour = (ts: number): number => ((ts + berlin.offsetAt(ts)) % DAY) / HOUR;
  function shifts(): { ts: number; value: number }[] {
    const next = seededRandom(31);
    const out: { ts: number; value: number }[] = [];
    for (let ts = start; ts < end; ts += MINUTE) {
      const hour = localHour(ts);
      const g = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
      out.push({ ts, value: (hour >= 8 && hour < 16 ? 100 : 20) + 2 * g });
    }
    return out;
  }
  const data = shifts();

  /** Alarms after the change within 15 minutes of a shift's start or end (local 08:00, 16:00). */
  function run(timeZone: string): { atShiftEdges: number; at0830: StreamingScore } {
    const d = new StreamingDetector({
      method: "median-mad",
      windowMs: HOUR,
      seasonality: "daily",
      tuning: { timeZone },
    });
    let atShiftEdges = 0;
    let at0830: StreamingScore | undefined;
    const halfPastEight = Date.UTC(2026, 2, 30, 6, 30); // 08:30 CEST
    for (const { ts, value } of data) {
      const score = d.observe(ts, value);
      const hour = localHour(ts);
      if (ts >= change && score.alarm && (Math.abs(hour - 8) < 0.25 || Math.abs(hour - 16) < 0.25)) {
        atShiftEdges++;
      }
      if (ts === halfPastEight) {
        at0830 = score;
      }
    }
    return { atShiftEdges, at0830: at0830 as StreamingScore };
  }

  it("keeps the shift starts and ends quiet in Europe/Berlin, and expects the running level at 08:30", () => {
    const { atShiftEdges, at0830 } = run("Europe/Berlin");
    expect(atShiftEdges).toBe(0);
    expect(at0830.expected).toBeGreaterThan(97);
    expect(at0830.expected).toBeLessThan(103);
  });

  it("would alarm at the shift edges every day after the change with the slots at a fixed UTC offset", () => {
    expect(run("UTC").atShiftEdges).toBeGreaterThanOrEqual(10);
  });

  it("continues identically after a JSON round trip in the week of the change", () => {
    const config = { method: "median-mad", windowMs: HOUR, seasonality: "daily" } as const;
    const a = new StreamingDetector({ ...config, tuning: { timeZone: "Europe/Berlin" } });
    const cut = data.findIndex((p) => p.ts >= change - DAY);
    for (const { ts, value } of data.slice(0, cut)) {
      a.observe(ts, value);
    }
    const b = StreamingDetector.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    for (const { ts, value } of data.slice(cut, cut + 3 * 1440)) {
      expect(b.observe(ts, value)).toEqual(a.observe(ts, value));
    }
    expect(b.toJSON()).toEqual(a.toJSON());
  });
});
