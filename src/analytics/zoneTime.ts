/**
 * A time zone's UTC offset by Intl alone (no date library on the gateway): the one lookup behind
 * the shift calendar (shiftCalendar.ts, issue #6 items 2 and 4) and the seasonal slots of the
 * streaming detectors (streaming/zoneOffset.ts, item 1a), which caches it per span of constant
 * offset. A plant's day follows its wall clock (gateway.timezone), in both.
 */

/** A formatter printing every wall-clock field of `timeZone`; throws RangeError for an unknown zone. */
export function wallClockFormat(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat("en-US", {
    timeZone,
    // h23, not hour12: false: some ICU versions print midnight as "24" with the latter.
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  });
}

/**
 * Local wall time minus UTC at `ts`, in ms (Europe/Berlin: 3_600_000 in winter, 7_200_000 in
 * summer), read from a wallClockFormat() formatter at whole-second resolution (it prints no
 * milliseconds). Costs microseconds: callers cache what they can.
 */
export function intlOffsetAt(format: Intl.DateTimeFormat, ts: number): number {
  const whole = Math.floor(ts / 1000) * 1000;
  let year = 0;
  let month = 1;
  let dayOfMonth = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const part of format.formatToParts(whole)) {
    const value = Number(part.value);
    switch (part.type) {
      case "year":
        year = value;
        break;
      case "month":
        month = value;
        break;
      case "day":
        dayOfMonth = value;
        break;
      case "hour":
        hour = value % 24;
        break;
      case "minute":
        minute = value;
        break;
      case "second":
        second = value;
        break;
      default:
        break;
    }
  }
  return Date.UTC(year, month - 1, dayOfMonth, hour, minute, second) - whole;
}
