/**
 * The time column of a CSV history export (issue #6 items 5 and 6): ISO 8601 with or without an
 * offset ("2014-04-10 00:00:00", "2014-04-10T00:00:00.250Z", "...+02:00"), or epoch seconds or
 * milliseconds. NAB and SKAB write local times without a zone, so those are read in a configured
 * IANA zone, converted with Intl alone (ZoneOffsets; no date library on the gateway).
 */
import { ZoneOffsets } from "../streaming/zoneOffset.js";

const EPOCH = /^\d+(?:\.\d+)?$/;
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
/** Epoch values below this are seconds (1e11 s is the year 5138; 1e11 ms is 1973). */
const EPOCH_SECONDS_BELOW = 1e11;
/** The largest time a Date holds. */
const MAX_DATE_MS = 8.64e15;
const DAY_MS = 86_400_000;

export class CsvTimeReader {
  private readonly clock: LocalClock;

  /** Throws RangeError for a zone Intl does not know. */
  constructor(readonly timeZone = "UTC") {
    try {
      this.clock = new LocalClock(timeZone);
    } catch {
      throw new RangeError(
        `unknown time zone ${JSON.stringify(timeZone)} (expected an IANA name, e.g. "UTC")`,
      );
    }
  }

  /**
   * Epoch ms of a time cell (trimmed), or undefined when it is not a time. `previous` is the
   * newest time read so far, which decides a wall time repeated by fall-back.
   */
  read(text: string, previous = Number.NEGATIVE_INFINITY): number | undefined {
    return parseTime(text, this.clock, previous);
  }
}

/**
 * Local wall time to an instant in one IANA zone (Intl through ZoneOffsets; three caches so each
 * query stream stays within its cached span). DST rule, as Temporal's "compatible" and the shift
 * calendar: a wall time skipped by spring-forward moves later by the gap (02:30 -> 03:30); one
 * repeated by fall-back takes its first occurrence, unless that would step back before the
 * previous row while the second would not, so an export written in order through the fall-back
 * night reads in order.
 */
class LocalClock {
  private readonly dayBefore: ZoneOffsets;
  private readonly dayAfter: ZoneOffsets;
  private readonly near: ZoneOffsets;

  constructor(timeZone: string) {
    this.dayBefore = new ZoneOffsets(timeZone);
    this.dayAfter = new ZoneOffsets(timeZone);
    this.near = new ZoneOffsets(timeZone);
  }

  toInstant(wall: number, previous: number): number {
    const before = this.dayBefore.offsetAt(wall - DAY_MS);
    const after = this.dayAfter.offsetAt(wall + DAY_MS);
    if (before === after) {
      // Zones change offset at most once in two days, so none changes near this wall time.
      return wall - before;
    }
    const first = wall - before;
    const second = wall - after;
    const firstReal = this.near.offsetAt(first) === before;
    const secondReal = this.near.offsetAt(second) === after;
    if (firstReal && secondReal) {
      const [early, late] = first < second ? [first, second] : [second, first];
      return early < previous && late >= previous ? late : early;
    }
    return secondReal && !firstReal ? second : first;
  }
}

/** Epoch ms of a time cell, or undefined. `previous` is the newest time so far (for DST overlaps). */
function parseTime(text: string, clock: LocalClock, previous: number): number | undefined {
  if (EPOCH.test(text)) {
    const value = Number(text);
    const ts = Math.round(value < EPOCH_SECONDS_BELOW ? value * 1000 : value);
    // Beyond what a Date can hold (and Infinity from 400 digits) is not a time.
    return ts <= MAX_DATE_MS ? ts : undefined;
  }
  const match = ISO_TIME.exec(text);
  if (match === null) {
    return undefined;
  }
  const [, year, month, day, hour = "0", minute = "0", second = "0", fraction = "", zone] = match;
  const fields = [Number(year), Number(month), Number(day), Number(hour), Number(minute), Number(second)];
  const [y = 0, mo = 1, d = 1, h = 0, mi = 0, s = 0] = fields;
  const wall = Date.UTC(y, mo - 1, d, h, mi, s, Number(fraction.slice(0, 3).padEnd(3, "0")));
  // Date.UTC rolls 2014-02-30 over to March: a date that does not come back is not a date.
  const date = new Date(wall);
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || s > 59 || y < 1000) {
    return undefined;
  }
  if (zone === undefined) {
    return clock.toInstant(wall, previous);
  }
  if (zone === "Z" || zone === "z") {
    return wall;
  }
  const sign = zone.startsWith("-") ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2) || "0");
  return hours > 23 || minutes > 59 ? undefined : wall - sign * (hours * 60 + minutes) * 60_000;
}
