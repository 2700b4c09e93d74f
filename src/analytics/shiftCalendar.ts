/**
 * The plant's shift calendar (issue #6 item 4: "OEE per shift (shift calendar in config)"; item 2
 * uses it too: "running outside its schedule"). Shifts are wall-clock times in gateway.timezone,
 * so the calendar converts between epoch ms and local wall time in that IANA zone with
 * Intl.DateTimeFormat alone (no date library on the gateway).
 *
 * Rules, decided here and relied on by the OEE tracker and the power profile:
 * - A shift whose end is not after its start runs past midnight (22:00-06:00) and belongs to the
 *   day it started: that start day's `days` decides whether it happens, and its key carries that
 *   date ("2026-12-03/night"). End equal to start is a 24-hour shift; config validation refuses it
 *   for configured shifts, calendarDays() uses it for the whole-day period.
 * - Wall times are turned into instants the way Temporal's "compatible" disambiguation does: a
 *   time skipped by spring-forward moves forward by the gap (02:30 -> 03:30), a time repeated by
 *   fall-back takes its first occurrence. A shift spanning the spring-forward night is therefore
 *   an hour shorter, one spanning the fall-back night an hour longer; a shift that DST collapses to
 *   nothing (02:00-03:00 on spring-forward day) does not happen that day.
 * - Overlapping shifts are a configuration mistake that validation does not catch (it is not this
 *   module's to refuse): shiftAt() answers the first listed shift that contains the instant.
 *   inSchedule() answers for every named shift, overlapping or not.
 *
 * Pure: time comes in as epoch ms, nothing reads the clock. Formatting is the expensive part, so
 * the answer for an instant is remembered until the next boundary and day layouts are cached
 * (bounded).
 */
import { intlOffsetAt, wallClockFormat } from "./zoneTime.js";

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** One shift as the config writes it (analytics.shifts[]; `days` defaults to every day). */
export interface ShiftDefinition {
  readonly name: string;
  /** "HH:MM" local time. */
  readonly start: string;
  /** "HH:MM" local time; not after start means past midnight. */
  readonly end: string;
  readonly days?: readonly Weekday[];
}

/** One occurrence of a shift. */
export interface ShiftInstance {
  readonly name: string;
  /** Epoch ms of the first instant in the shift. */
  readonly start: number;
  /** Epoch ms of the first instant after the shift. */
  readonly end: number;
  /** Local start date and shift name, e.g. "2026-12-03/early": unique per occurrence. */
  readonly key: string;
}

interface ParsedShift {
  readonly name: string;
  readonly startMinute: number;
  readonly endMinute: number;
  /** Indexed by Date#getUTCDay() (0 = Sunday). */
  readonly onWeekday: readonly boolean[];
}

interface DayInstance extends ShiftInstance {
  readonly order: number;
}

/** What runs from `from` until the next boundary `until`. */
interface Span {
  readonly from: number;
  readonly until: number;
  /** The first listed running shift. */
  readonly first: ShiftInstance | null;
  /** Names of every running shift. */
  readonly running: readonly string[];
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Bound on |UTC offset| used to stop searching forward: real zones stay within +-14 h. */
const MAX_OFFSET_MS = 15 * 3_600_000;
/** Days searched ahead for the next boundary: a shift runs on at least one weekday. */
const SEARCH_DAYS = 9;
/** Cached day layouts; a calendar is asked about a few neighbouring days at a time. */
const DAY_CACHE_LIMIT = 16;
const CLOCK_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
const WEEKDAY_OF_UTC_DAY: readonly Weekday[] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/** "HH:MM" to minutes after midnight; throws RangeError on anything else. */
export function parseClockTime(text: string): number {
  const match = CLOCK_TIME.exec(text);
  if (match === null) {
    throw new RangeError(`expected a time of day as "HH:MM", got ${JSON.stringify(text)}`);
  }
  return Number(match[1]) * 60 + Number(match[2]);
}

export class ShiftCalendar {
  readonly timeZone: string;
  readonly #shifts: readonly ParsedShift[];
  readonly #format: Intl.DateTimeFormat;
  readonly #days = new Map<number, readonly DayInstance[]>();
  #memo: Span | null = null;

  /** Throws RangeError for an unknown time zone or a malformed time (config validation prevents both). */
  constructor(shifts: readonly ShiftDefinition[], timeZone: string) {
    this.timeZone = timeZone;
    this.#format = wallClockFormat(timeZone);
    this.#shifts = shifts.map((shift) => {
      const days = new Set<Weekday>(shift.days ?? WEEKDAYS);
      return {
        name: shift.name,
        startMinute: parseClockTime(shift.start),
        endMinute: parseClockTime(shift.end),
        onWeekday: WEEKDAY_OF_UTC_DAY.map((day) => days.has(day)),
      };
    });
  }

  /**
   * Calendar days as periods (00:00 to 00:00 local, every day, named `name`): what OEE reports per
   * when no shifts are configured. A DST day is 23 or 25 hours long.
   */
  static calendarDays(timeZone: string, name = "day"): ShiftCalendar {
    return new ShiftCalendar([{ name, start: "00:00", end: "00:00" }], timeZone);
  }

  get shiftNames(): readonly string[] {
    return this.#shifts.map((s) => s.name);
  }

  /** The shift `ts` falls in (the first listed when shifts overlap), or null between shifts. */
  shiftAt(ts: number): ShiftInstance | null {
    return this.#span(ts).first;
  }

  /** Epoch ms of the first shift start or end after `ts`; null when no shift is configured. */
  nextBoundary(ts: number): number | null {
    const today = this.#localDay(ts);
    let best: number | null = null;
    for (let day = today - 1; day <= today + SEARCH_DAYS; day++) {
      for (const { start, end } of this.#instancesOn(day)) {
        for (const boundary of [start, end]) {
          if (boundary > ts && (best === null || boundary < best)) {
            best = boundary;
          }
        }
      }
      // Every occurrence starting on a later day starts after that day's local midnight.
      if (best !== null && best <= (day + 1) * DAY_MS - MAX_OFFSET_MS) {
        break;
      }
    }
    return best;
  }

  /** Whether `ts` is inside an occurrence of any of the named shifts (power profile schedules). */
  inSchedule(ts: number, names: readonly string[]): boolean {
    return this.#span(ts).running.some((name) => names.includes(name));
  }

  /**
   * What is running at `ts`, remembered until the next boundary: between two consecutive
   * boundaries the set of running occurrences cannot change, so a caller asking in time order
   * pays for the zone lookups once per boundary, not per call.
   */
  #span(ts: number): Span {
    const memo = this.#memo;
    if (memo !== null && ts >= memo.from && ts < memo.until) {
      return memo;
    }
    let best: DayInstance | null = null;
    const running: string[] = [];
    for (const instance of this.#instancesAround(ts)) {
      if (instance.start <= ts && ts < instance.end) {
        running.push(instance.name);
        const better =
          best === null ||
          instance.order < best.order ||
          (instance.order === best.order && instance.start < best.start);
        if (better) {
          best = instance;
        }
      }
    }
    const first = best === null ? null : { name: best.name, start: best.start, end: best.end, key: best.key };
    const span = { from: ts, until: this.nextBoundary(ts) ?? Number.POSITIVE_INFINITY, first, running };
    this.#memo = span;
    return span;
  }

  /** Occurrences that can contain `ts`: those starting on its local day or the day before. */
  #instancesAround(ts: number): DayInstance[] {
    const today = this.#localDay(ts);
    return [...this.#instancesOn(today - 1), ...this.#instancesOn(today)];
  }

  /** The occurrences of every shift starting on local day `day` (days since 1970-01-01). */
  #instancesOn(day: number): readonly DayInstance[] {
    const cached = this.#days.get(day);
    if (cached !== undefined) {
      return cached;
    }
    const weekday = new Date(day * DAY_MS).getUTCDay();
    const date = new Date(day * DAY_MS).toISOString().slice(0, 10);
    const instances: DayInstance[] = [];
    this.#shifts.forEach((shift, order) => {
      if (shift.onWeekday[weekday] !== true) {
        return;
      }
      const endDay = shift.endMinute <= shift.startMinute ? day + 1 : day;
      const start = this.#wallToEpoch(day, shift.startMinute);
      const end = this.#wallToEpoch(endDay, shift.endMinute);
      if (end > start) {
        instances.push({ name: shift.name, start, end, key: `${date}/${shift.name}`, order });
      }
    });
    if (this.#days.size >= DAY_CACHE_LIMIT) {
      this.#days.clear();
    }
    this.#days.set(day, instances);
    return instances;
  }

  /** Local day (days since 1970-01-01 in the zone's calendar) of an instant. */
  #localDay(ts: number): number {
    return Math.floor((ts + this.#offsetAt(ts)) / DAY_MS);
  }

  /**
   * The instant of local wall time `minute` on local `day`, with Temporal's "compatible"
   * disambiguation. Candidates are the wall time read with the offsets a day before and a day
   * after (zones change offset at most once within two days); a candidate is real when the zone
   * has that offset at that instant.
   */
  #wallToEpoch(day: number, minute: number): number {
    const wall = day * DAY_MS + minute * MINUTE_MS;
    const before = this.#offsetAt(wall - DAY_MS);
    const after = this.#offsetAt(wall + DAY_MS);
    const candidates = [before, after]
      .filter((offset, i) => i === 0 || offset !== before)
      .map((offset) => wall - offset)
      .filter((instant) => wall - this.#offsetAt(instant) === instant);
    if (candidates.length === 0) {
      // In a spring-forward gap: read with the offset before the change, i.e. moved later by the gap.
      return wall - before;
    }
    return Math.min(...candidates);
  }

  /**
   * The zone's UTC offset in ms at an instant (local wall time minus UTC), looked up each time:
   * unlike the streaming detectors' cache (streaming/zoneOffset.ts), exact at any instant, and
   * the calendar already remembers its answers per span and per day.
   */
  #offsetAt(ts: number): number {
    return intlOffsetAt(this.#format, ts);
  }
}
