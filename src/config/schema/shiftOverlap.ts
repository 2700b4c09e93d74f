/**
 * Shifts that overlap (issue #6 item 4: OEE "per shift (shift calendar in config)"): a minute in
 * two shifts would belong to two OEE periods, and the calendar would silently pick the first. The
 * check works in minutes of the week, so a night shift that runs past midnight (22:00-06:00) and
 * the week's wrap (Sunday night into Monday) are seen like any other overlap.
 */
const DAY_MINUTES = 24 * 60;
const WEEK_MINUTES = 7 * DAY_MINUTES;
const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;

export interface ShiftWindow {
  readonly name: string;
  readonly start: string;
  readonly end: string;
  readonly days: readonly string[];
}

function minutes(clock: string): number {
  const [hours = "0", mins = "0"] = clock.split(":");
  return Number(hours) * 60 + Number(mins);
}

/** The shift's [start, end) intervals in minutes of the week, split at the week's end. */
function intervals(shift: ShiftWindow): [number, number][] {
  const start = minutes(shift.start);
  const end = minutes(shift.end);
  const length = end > start ? end - start : end + DAY_MINUTES - start;
  const out: [number, number][] = [];
  for (const day of shift.days) {
    const index = WEEKDAYS.indexOf(day as (typeof WEEKDAYS)[number]);
    if (index < 0) {
      continue;
    }
    const from = index * DAY_MINUTES + start;
    const to = from + length;
    if (to <= WEEK_MINUTES) {
      out.push([from, to]);
    } else {
      out.push([from, WEEK_MINUTES], [0, to - WEEK_MINUTES]);
    }
  }
  return out;
}

function clockOf(weekMinute: number): string {
  const day = WEEKDAYS[Math.floor(weekMinute / DAY_MINUTES) % 7] ?? "mon";
  const minute = weekMinute % DAY_MINUTES;
  return `${day} ${String(Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;
}

/** For each shift that overlaps an earlier one: its index, the earlier shift, and where they first overlap. */
export function shiftOverlaps(
  shifts: readonly ShiftWindow[],
): { index: number; other: string; at: string }[] {
  const found: { index: number; other: string; at: string }[] = [];
  const windows = shifts.map(intervals);
  shifts.forEach((_, i) => {
    for (let j = 0; j < i; j++) {
      let first: number | undefined;
      for (const [a0, a1] of windows[i] ?? []) {
        for (const [b0, b1] of windows[j] ?? []) {
          const from = Math.max(a0, b0);
          if (from < Math.min(a1, b1) && (first === undefined || from < first)) {
            first = from;
          }
        }
      }
      if (first !== undefined) {
        found.push({ index: i, other: shifts[j]?.name ?? "", at: clockOf(first) });
        return;
      }
    }
  });
  return found;
}
