import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseClockTime, ShiftCalendar, type ShiftDefinition } from "../../src/analytics/shiftCalendar.js";

const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const weekdays = ["mon", "tue", "wed", "thu", "fri"] as const;

const threeShifts: ShiftDefinition[] = [
  { name: "early", start: "06:00", end: "14:00", days: [...weekdays] },
  { name: "late", start: "14:00", end: "22:00", days: [...weekdays] },
  { name: "night", start: "22:00", end: "06:00", days: [...weekdays] },
];
const everyNight: ShiftDefinition[] = [{ name: "night", start: "22:00", end: "06:00" }];

describe("ShiftCalendar in UTC", () => {
  const calendar = new ShiftCalendar(threeShifts, "UTC");

  it("finds the shift of an instant with its exact start, end and key", () => {
    // 2026-12-03 is a Thursday.
    expect(calendar.shiftAt(at("2026-12-03T07:00:00Z"))).toEqual({
      name: "early",
      start: at("2026-12-03T06:00:00Z"),
      end: at("2026-12-03T14:00:00Z"),
      key: "2026-12-03/early",
    });
    expect(calendar.shiftAt(at("2026-12-03T14:00:00Z"))?.key).toBe("2026-12-03/late");
    expect(calendar.shiftAt(at("2026-12-03T13:59:59.999Z"))?.key).toBe("2026-12-03/early");
  });

  it("counts a shift past midnight for the day it started, by that day's days", () => {
    expect(calendar.shiftAt(at("2026-12-04T03:00:00Z"))).toEqual({
      name: "night",
      start: at("2026-12-03T22:00:00Z"),
      end: at("2026-12-04T06:00:00Z"),
      key: "2026-12-03/night",
    });
    // Friday's night shift runs into Saturday; Saturday and Sunday have none.
    expect(calendar.shiftAt(at("2026-12-05T05:59:00Z"))?.key).toBe("2026-12-04/night");
    expect(calendar.shiftAt(at("2026-12-05T06:00:00Z"))).toBeNull();
    expect(calendar.shiftAt(at("2026-12-06T23:00:00Z"))).toBeNull();
    expect(calendar.shiftAt(at("2026-12-07T03:00:00Z"))).toBeNull();
    expect(calendar.shiftAt(at("2026-12-07T06:00:00Z"))?.key).toBe("2026-12-07/early");
  });

  it("gives the next start or end, across a weekend without shifts", () => {
    expect(calendar.nextBoundary(at("2026-12-03T07:00:00Z"))).toBe(at("2026-12-03T14:00:00Z"));
    expect(calendar.nextBoundary(at("2026-12-03T14:00:00Z"))).toBe(at("2026-12-03T22:00:00Z"));
    expect(calendar.nextBoundary(at("2026-12-05T07:00:00Z"))).toBe(at("2026-12-07T06:00:00Z"));
  });

  it("answers null for the next boundary when no shift is configured", () => {
    const empty = new ShiftCalendar([], "UTC");
    expect(empty.shiftAt(0)).toBeNull();
    expect(empty.nextBoundary(0)).toBeNull();
  });

  it("answers inSchedule for the named shifts only", () => {
    const ts = at("2026-12-04T03:00:00Z");
    expect(calendar.inSchedule(ts, ["night"])).toBe(true);
    expect(calendar.inSchedule(ts, ["early", "late"])).toBe(false);
    expect(calendar.inSchedule(at("2026-12-05T10:00:00Z"), ["early", "late", "night"])).toBe(false);
  });

  it("refuses malformed times and unknown zones", () => {
    expect(() => new ShiftCalendar([{ name: "x", start: "6:00", end: "14:00" }], "UTC")).toThrow(RangeError);
    expect(() => new ShiftCalendar([], "Mars/Olympus")).toThrow(RangeError);
    expect(parseClockTime("23:59")).toBe(23 * 60 + 59);
  });
});

describe("ShiftCalendar in Europe/Berlin across DST", () => {
  const calendar = new ShiftCalendar(everyNight, "Europe/Berlin");

  it("makes the night shift spanning spring-forward (2026-03-29) an hour shorter", () => {
    const shift = calendar.shiftAt(at("2026-03-29T02:00:00Z"));
    expect(shift).toEqual({
      name: "night",
      start: at("2026-03-28T21:00:00Z"), // 22:00 CET
      end: at("2026-03-29T04:00:00Z"), // 06:00 CEST
      key: "2026-03-28/night",
    });
    expect(shift && shift.end - shift.start).toBe(7 * HOUR);
  });

  it("makes the night shift spanning fall-back (2026-10-25) an hour longer", () => {
    const shift = calendar.shiftAt(at("2026-10-25T01:30:00Z"));
    expect(shift?.start).toBe(at("2026-10-24T20:00:00Z")); // 22:00 CEST
    expect(shift?.end).toBe(at("2026-10-25T05:00:00Z")); // 06:00 CET
    expect(shift && shift.end - shift.start).toBe(9 * HOUR);
    expect(shift?.key).toBe("2026-10-24/night");
  });

  it("keeps ordinary nights at eight hours either side of the changes", () => {
    for (const iso of ["2026-03-28T02:00:00Z", "2026-03-30T02:00:00Z", "2026-10-26T02:00:00Z"]) {
      const shift = calendar.shiftAt(at(iso));
      expect(shift && shift.end - shift.start).toBe(8 * HOUR);
    }
  });

  it("moves a start inside the spring-forward gap later and takes the first of a repeated time", () => {
    const odd = new ShiftCalendar(
      [
        { name: "gap", start: "02:30", end: "04:00" },
        { name: "repeat", start: "02:30", end: "03:00" },
        { name: "collapsed", start: "02:00", end: "03:00" },
      ],
      "Europe/Berlin",
    );
    // 02:30 does not exist on 2026-03-29: it becomes 03:30 CEST.
    expect(odd.shiftAt(at("2026-03-29T01:45:00Z"))).toMatchObject({
      name: "gap",
      start: at("2026-03-29T01:30:00Z"),
      end: at("2026-03-29T02:00:00Z"),
    });
    // 02:00-03:00 on spring-forward day is empty: no shift then, and no empty occurrence either.
    expect(odd.shiftAt(at("2026-03-29T01:00:00Z"))).toBeNull();
    expect(odd.inSchedule(at("2026-03-29T01:00:00Z"), ["collapsed"])).toBe(false);
    // 02:30 happens twice on 2026-10-25: the first (CEST) counts; 03:00 is CET.
    const repeat = odd.shiftAt(at("2026-10-25T00:45:00Z"));
    expect(repeat?.name).toBe("gap");
    expect(odd.inSchedule(at("2026-10-25T01:30:00Z"), ["repeat"])).toBe(true);
    expect(odd.inSchedule(at("2026-10-25T02:00:00Z"), ["repeat"])).toBe(false);
  });

  it("finds the next boundary across the change", () => {
    expect(calendar.nextBoundary(at("2026-03-28T21:30:00Z"))).toBe(at("2026-03-29T04:00:00Z"));
    expect(calendar.nextBoundary(at("2026-03-29T04:00:00Z"))).toBe(at("2026-03-29T20:00:00Z"));
  });

  it("makes calendar days 23 and 25 hours long on the change days", () => {
    const days = ShiftCalendar.calendarDays("Europe/Berlin");
    const spring = days.shiftAt(at("2026-03-29T12:00:00Z"));
    const autumn = days.shiftAt(at("2026-10-25T12:00:00Z"));
    expect(spring).toEqual({
      name: "day",
      start: at("2026-03-28T23:00:00Z"),
      end: at("2026-03-29T22:00:00Z"),
      key: "2026-03-29/day",
    });
    expect(autumn && autumn.end - autumn.start).toBe(25 * HOUR);
    expect(days.shiftAt(at("2026-12-03T23:30:00Z"))?.key).toBe("2026-12-04/day");
  });
});

describe("ShiftCalendar with overlapping shifts", () => {
  const a: ShiftDefinition = { name: "a", start: "06:00", end: "14:00" };
  const b: ShiftDefinition = { name: "b", start: "12:00", end: "20:00" };

  it("answers the first listed shift that contains the instant", () => {
    const ts = at("2026-12-03T13:00:00Z");
    expect(new ShiftCalendar([a, b], "UTC").shiftAt(ts)?.name).toBe("a");
    expect(new ShiftCalendar([b, a], "UTC").shiftAt(ts)?.name).toBe("b");
    expect(new ShiftCalendar([a, b], "UTC").shiftAt(at("2026-12-03T14:00:00Z"))?.name).toBe("b");
  });

  it("reports every overlapping shift in inSchedule", () => {
    const calendar = new ShiftCalendar([a, b], "UTC");
    expect(calendar.inSchedule(at("2026-12-03T13:00:00Z"), ["b"])).toBe(true);
  });
});

describe("ShiftCalendar invariants", () => {
  const zones = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"];
  const shifts: ShiftDefinition[] = [
    { name: "early", start: "06:00", end: "14:00", days: ["mon", "tue", "wed", "thu", "fri", "sat"] },
    { name: "late", start: "14:00", end: "22:30", days: [...weekdays] },
    { name: "night", start: "22:30", end: "06:00", days: ["sun", "mon", "tue", "wed", "thu"] },
  ];
  const year2026 = fc.integer({ min: at("2026-01-01T00:00:00Z"), max: at("2027-01-01T00:00:00Z") });

  it("places every instant inside its shift, before the next boundary, and memoises consistently", () => {
    for (const zone of zones) {
      const reused = new ShiftCalendar(shifts, zone);
      fc.assert(
        fc.property(year2026, (ts) => {
          const fresh = new ShiftCalendar(shifts, zone);
          const shift = reused.shiftAt(ts);
          expect(shift).toEqual(fresh.shiftAt(ts));
          for (const name of ["early", "late", "night"]) {
            expect(reused.inSchedule(ts, [name])).toBe(
              new ShiftCalendar(shifts, zone).inSchedule(ts, [name]),
            );
          }
          if (shift !== null) {
            expect(reused.inSchedule(ts, [shift.name])).toBe(true);
          }
          const next = reused.nextBoundary(ts);
          expect(next).not.toBeNull();
          expect(next as number).toBeGreaterThan(ts);
          if (shift !== null) {
            expect(shift.start).toBeLessThanOrEqual(ts);
            expect(shift.end).toBeGreaterThan(ts);
            expect(next as number).toBeLessThanOrEqual(shift.end);
            expect(shift.end - shift.start).toBeLessThanOrEqual(10 * HOUR);
          }
          // Nothing changes strictly between ts and the next boundary.
          expect(new ShiftCalendar(shifts, zone).shiftAt((next as number) - 1)).toEqual(shift);
        }),
        { seed: 6, numRuns: 100 },
      );
    }
  });

  it("tiles time with calendar days of 23 to 25 hours in every zone", () => {
    for (const zone of zones) {
      const days = ShiftCalendar.calendarDays(zone);
      fc.assert(
        fc.property(year2026, (ts) => {
          const day = days.shiftAt(ts);
          expect(day).not.toBeNull();
          const { start, end } = day as { start: number; end: number };
          expect(end - start).toBeGreaterThanOrEqual(23 * HOUR);
          expect(end - start).toBeLessThanOrEqual(25 * HOUR);
          expect(days.shiftAt(end)?.start).toBe(end);
          expect(days.shiftAt(start - 1)?.end).toBe(start);
        }),
        { seed: 7, numRuns: 200 },
      );
    }
  });
});
