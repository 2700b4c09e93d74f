/**
 * The UTC offset of a time zone at an instant, for the seasonal slots (issue #6 item 1a: "with
 * seasonality where the data has it"). A plant's day follows its wall clock (gateway.timezone), so
 * the 14:00 slot must hold 14:00 local on both sides of a daylight-saving change, not 14:00 at a
 * fixed offset.
 *
 * Intl.DateTimeFormat answers in microseconds, too slow for every value (budget 5 us per value),
 * but an offset is constant between a zone's transitions, so it is looked up once per span:
 * on a miss, the offsets at the start of the value's UTC quarter hour and one day later are
 * compared; equal, the day is one span; different, the quarter where it changes is found by
 * bisection. This assumes what tzdata shows for the years a gateway sees: transitions fall on UTC
 * quarter hours (zones' offsets are whole quarter hours and they change at a local hour) and a
 * zone changes its offset at most once in a day. A steady tag misses once per day of data.
 */
import { isTimeZone as isIanaZone } from "../../config/schema/primitives.js";
import { intlOffsetAt, wallClockFormat } from "../zoneTime.js";

const QUARTER_MS = 15 * 60_000;
const SPAN_MS = 24 * 3_600_000;

export class ZoneOffsets {
  private readonly format: Intl.DateTimeFormat | null;
  private from = 0;
  private until = Number.NEGATIVE_INFINITY;
  private offset = 0;

  /** Throws RangeError for a time zone Intl does not know (config validation refuses it first). */
  constructor(readonly timeZone: string) {
    // UTC needs no lookups at all: the default costs nothing per value.
    this.format = timeZone === "UTC" ? null : wallClockFormat(timeZone);
  }

  /** Local wall time minus UTC at ts, in ms (Europe/Berlin: 3_600_000 in winter, 7_200_000 in summer). */
  offsetAt(ts: number): number {
    if (ts >= this.from && ts < this.until) {
      return this.offset;
    }
    const format = this.format;
    if (format === null) {
      this.from = Number.NEGATIVE_INFINITY;
      this.until = Number.POSITIVE_INFINITY;
      return 0;
    }
    const start = Math.floor(ts / QUARTER_MS) * QUARTER_MS;
    const offset = intlOffsetAt(format, start);
    let end = start + SPAN_MS;
    if (intlOffsetAt(format, end) !== offset) {
      // Invariant: the offset at `low` is `offset`, at `end` it is not; both on quarter hours.
      let low = start;
      while (end - low > QUARTER_MS) {
        const mid = low + Math.floor((end - low) / QUARTER_MS / 2) * QUARTER_MS;
        if (intlOffsetAt(format, mid) === offset) {
          low = mid;
        } else {
          end = mid;
        }
      }
    }
    this.from = start;
    this.until = end;
    this.offset = offset;
    return offset;
  }
}

/**
 * Zones Intl accepted: building a formatter costs about as much as restoring a small detector,
 * and every tag of a gateway asks about the same zone. Bounded; cleared when full.
 */
const knownZones = new Set<string>(["UTC"]);
const KNOWN_ZONES_LIMIT = 64;

/** Whether Intl knows the IANA time zone name (the config's check, with a cache). */
export function isTimeZone(zone: string): boolean {
  if (knownZones.has(zone)) {
    return true;
  }
  if (!isIanaZone(zone)) {
    return false;
  }
  if (knownZones.size >= KNOWN_ZONES_LIMIT) {
    knownZones.clear();
    knownZones.add("UTC");
  }
  knownZones.add(zone);
  return true;
}
