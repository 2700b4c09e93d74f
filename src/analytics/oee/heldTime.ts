/**
 * How the OEE tracker turns held flags into run, down and planned-stop time (issue #6 item 4:
 * "planned time, run time or downtime"). Deadbanding publishes a flag only when it changes or on
 * its heartbeat, so the last good reading of a flag holds until the next one, but only for
 * maxGapMs: past that the machine may have changed state unseen, and the time is unknown (neither
 * run nor down). A planned stop takes precedence over the run state: a machine jogged during a
 * planned stop is not losing availability.
 */
import type { OeeTotals } from "./oeeFigures.js";

/** The last good reading of a flag. */
export interface HeldFlag {
  readonly value: boolean;
  readonly ts: number;
}

export interface HeldFlags {
  readonly run: HeldFlag | null;
  readonly plannedStop: HeldFlag | null;
}

/** Adds [from, to) to `totals`' run, down or planned-stop time by the held flags; unknown time adds nothing. */
export function addHeldTime(
  totals: OeeTotals,
  from: number,
  to: number,
  held: HeldFlags,
  maxGapMs: number,
): void {
  const { run, plannedStop } = held;
  const runUntil = run === null ? Number.NEGATIVE_INFINITY : run.ts + maxGapMs;
  const plannedUntil = plannedStop === null ? Number.NEGATIVE_INFINITY : plannedStop.ts + maxGapMs;
  let t = from;
  while (t < to) {
    const runKnown = t < runUntil;
    const plannedKnown = t < plannedUntil;
    let next = to;
    if (runKnown) {
      next = Math.min(next, runUntil);
    }
    if (plannedKnown) {
      next = Math.min(next, plannedUntil);
    }
    const ms = next - t;
    if (plannedKnown && plannedStop?.value === true) {
      totals.plannedStopMs += ms;
    } else if (runKnown && run?.value === true) {
      totals.runMs += ms;
    } else if (runKnown) {
      totals.downMs += ms;
    }
    t = next;
  }
}

/** The instant after which the held flags no longer say how to count time. */
export function knownUntil(held: HeldFlags, maxGapMs: number): number {
  const run = held.run === null ? Number.NEGATIVE_INFINITY : held.run.ts + maxGapMs;
  const planned =
    held.plannedStop?.value === true ? held.plannedStop.ts + maxGapMs : Number.NEGATIVE_INFINITY;
  return Math.max(run, planned);
}
