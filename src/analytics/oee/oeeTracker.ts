/**
 * OEE of one machine per shift (issue #6 item 4), from the readings of its run-state, counter and
 * planned-stop tags. Pure: time comes in as epoch ms through observe() and tick(); no timers.
 *
 * Time: between two instants the tracker integrates the last known state (heldTime.ts): a flag
 * holds for maxGapMs after its last good reading, so maxGapMs must exceed the tags' heartbeat;
 * past that the time is unknown, neither run nor down (oeeFigures.ts). Time before the tracker
 * first saw a shift is unknown too, so a shift joined late still reports its whole length.
 *
 * Periods: the shift calendar's occurrence at each instant (the first listed when shifts overlap);
 * with no shifts configured, calendar days (oeeCalendar()). A period closes at the boundary where
 * the calendar's answer changes, with a final Sample (oee.final = 1) timestamped at that boundary;
 * while it runs, a running Sample every intervalMs (aligned to the period's start).
 *
 * Counters: parts are counter deltas (counterStep.ts: wraps counted, resets re-baselined), credited
 * to the period of the reading that shows them; parts seen between shifts are only counted in
 * stats. A reading slightly older than the integrated time (poll timestamps lag the tick) is
 * applied at the integrated time; one older than lateToleranceMs is refused and counted, so a clock
 * stepped backwards pauses OEE until it passes the last integrated time.
 *
 * Restarts: toJSON()/fromJSON() carry the period's totals, the held flags and the counter
 * baselines, so a restart mid-shift resumes the shift; the held flags cover at most maxGapMs of
 * the time the daemon was down, the rest is unknown, and the counters' first readings after the
 * restart credit the parts made meanwhile.
 *
 * Long outages and clock steps: once nothing is known, the tracker closes the current period at its
 * end as usual (a period the gateway ticked through with the machine unreadable still reports,
 * all unknown), then jumps straight to the new instant: periods no call ever reached emit
 * nothing, and a jump of years after an NTP sync costs a few steps, not one per shift.
 */
import type { Sample } from "../../records.js";
import { ShiftCalendar, type ShiftDefinition } from "../shiftCalendar.js";
import { counterStep } from "./counterStep.js";
import { addHeldTime, type HeldFlag, knownUntil } from "./heldTime.js";
import {
  computeOee,
  emptyTotals,
  type GoodSource,
  type OeeFigures,
  type OeeTotals,
  oeeSample,
} from "./oeeFigures.js";
import { counterValue, flagValue, type OeeMachineConfig, type OeeReading } from "./oeeReading.js";
import { OEE_STATE_VERSION, type OeeTrackerState, type OeeTrackerStats, parseOeeState } from "./oeeState.js";

export interface OeeTrackerOptions {
  /** The machine's device; the emitted samples carry it (group "oee"). */
  readonly device: string;
  readonly config: OeeMachineConfig;
  readonly calendar: ShiftCalendar;
  /** Running figures every this many ms while a period runs. */
  readonly intervalMs?: number;
  /** How long a run-state or planned-stop reading stays true without a new one. */
  readonly maxGapMs?: number;
  /** How far behind the integrated time a reading may be and still be applied. */
  readonly lateToleranceMs?: number;
}

export const OEE_DEFAULTS = { intervalMs: 60_000, maxGapMs: 300_000, lateToleranceMs: 10_000 } as const;

/** The period being accumulated. */
export interface OeePeriod {
  readonly name: string;
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly accountedFrom: number;
}

type Held = HeldFlag | null;
type CounterName = "total" | "good" | "scrap";
const TOTAL_OF: Record<CounterName, "totalCount" | "goodCount" | "scrapCount"> = {
  total: "totalCount",
  good: "goodCount",
  scrap: "scrapCount",
};

/** The calendar OEE reports by: the configured shifts, or calendar days when there are none. */
export function oeeCalendar(shifts: readonly ShiftDefinition[], timeZone: string): ShiftCalendar {
  return shifts.length > 0 ? new ShiftCalendar(shifts, timeZone) : ShiftCalendar.calendarDays(timeZone);
}

export class OeeTracker {
  readonly device: string;
  readonly #config: OeeMachineConfig;
  readonly #calendar: ShiftCalendar;
  readonly #intervalMs: number;
  readonly #maxGapMs: number;
  readonly #lateToleranceMs: number;
  readonly #goodSource: GoodSource;
  #cursor: number | null = null;
  #boundary = Number.POSITIVE_INFINITY;
  #period: OeePeriod | null = null;
  #totals: OeeTotals = emptyTotals();
  #run: Held = null;
  #plannedStop: Held = null;
  #counters: Record<CounterName, number | null> = { total: null, good: null, scrap: null };
  #nextEmitTs: number | null = null;
  #clockSynced = false;
  #stats: { -readonly [K in keyof OeeTrackerStats]: OeeTrackerStats[K] } = {
    readings: 0,
    ignoredValues: 0,
    refusedReadings: 0,
    counterResets: 0,
    counterWraps: 0,
    partsOutsideShifts: 0,
  };

  constructor(options: OeeTrackerOptions) {
    this.device = options.device;
    this.#config = options.config;
    this.#calendar = options.calendar;
    this.#intervalMs = options.intervalMs ?? OEE_DEFAULTS.intervalMs;
    this.#maxGapMs = options.maxGapMs ?? OEE_DEFAULTS.maxGapMs;
    this.#lateToleranceMs = options.lateToleranceMs ?? OEE_DEFAULTS.lateToleranceMs;
    for (const [what, value, min] of [
      ["intervalMs", this.#intervalMs, 1],
      ["maxGapMs", this.#maxGapMs, 0],
      ["lateToleranceMs", this.#lateToleranceMs, 0],
      ["idealCycleTime", options.config.idealCycleTime, Number.MIN_VALUE],
    ] as const) {
      if (!Number.isFinite(value) || value < min) {
        throw new RangeError(`${what} must be a finite number >= ${min}, got ${value}`);
      }
    }
    this.#goodSource =
      options.config.goodCount !== undefined
        ? "good"
        : options.config.scrapCount !== undefined
          ? "scrap"
          : "total";
  }

  /** Restores a tracker from toJSON output (possibly after a JSON round trip); throws if invalid. */
  static fromJSON(json: unknown, options: OeeTrackerOptions): OeeTracker {
    const state = parseOeeState(json);
    if (state.device !== options.device) {
      throw new RangeError(`OEE state is for device "${state.device}", not "${options.device}"`);
    }
    const tracker = new OeeTracker(options);
    tracker.#cursor = state.cursor;
    tracker.#period = state.period;
    tracker.#totals = { ...state.totals };
    tracker.#run = state.run;
    tracker.#plannedStop = state.plannedStop;
    tracker.#counters = { ...state.counters };
    tracker.#nextEmitTs = state.nextEmitTs;
    tracker.#clockSynced = state.clockSynced;
    tracker.#stats = { ...state.stats };
    tracker.#boundary =
      state.cursor === null ? Number.POSITIVE_INFINITY : tracker.#nextBoundary(state.cursor);
    return tracker;
  }

  get period(): OeePeriod | null {
    return this.#period;
  }

  get stats(): OeeTrackerStats {
    return { ...this.#stats };
  }

  /** The current period's figures as of the integrated time; null between shifts. */
  figures(): OeeFigures | null {
    if (this.#period === null || this.#cursor === null) {
      return null;
    }
    return this.#figures(this.#cursor);
  }

  /** Takes one reading of the machine's OEE tags; returns the samples that became due. */
  observe(reading: OeeReading): Sample[] {
    const out: Sample[] = [];
    let ts = reading.ts;
    if (!Number.isFinite(ts) || (this.#cursor !== null && ts < this.#cursor - this.#lateToleranceMs)) {
      this.#stats.refusedReadings++;
      return out;
    }
    ts = this.#cursor === null ? ts : Math.max(ts, this.#cursor);
    this.#advance(ts, out);
    this.#stats.readings++;
    if (reading.clockSynced !== undefined) {
      this.#clockSynced = reading.clockSynced;
    }
    if (reading.runState !== undefined) {
      this.#run = this.#flag(reading.runState, ts) ?? this.#run;
    }
    if (reading.plannedStop !== undefined && this.#config.plannedStop !== undefined) {
      this.#plannedStop = this.#flag(reading.plannedStop, ts) ?? this.#plannedStop;
    }
    this.#count("total", reading.totalCount);
    if (this.#config.goodCount !== undefined) {
      this.#count("good", reading.goodCount);
    }
    if (this.#config.scrapCount !== undefined) {
      this.#count("scrap", reading.scrapCount);
    }
    this.#emitRunningIfDue(ts, out);
    return out;
  }

  /** Moves time to `nowTs` (call it every second or so); returns the samples that became due. */
  tick(nowTs: number): Sample[] {
    const out: Sample[] = [];
    if (!Number.isFinite(nowTs) || (this.#cursor !== null && nowTs < this.#cursor)) {
      return out;
    }
    this.#advance(nowTs, out);
    this.#emitRunningIfDue(nowTs, out);
    return out;
  }

  toJSON(): OeeTrackerState {
    return {
      version: OEE_STATE_VERSION,
      kind: "oee",
      device: this.device,
      cursor: this.#cursor,
      period: this.#period,
      totals: { ...this.#totals },
      run: this.#run,
      plannedStop: this.#plannedStop,
      counters: { ...this.#counters },
      nextEmitTs: this.#nextEmitTs,
      clockSynced: this.#clockSynced,
      stats: { ...this.#stats },
    };
  }

  #flag(reading: NonNullable<OeeReading["runState"]>, ts: number): Held {
    const value = flagValue(reading);
    if (value === undefined) {
      this.#stats.ignoredValues++;
      return null;
    }
    return { value, ts };
  }

  #count(counter: CounterName, reading: OeeReading["totalCount"]): void {
    if (reading === undefined) {
      return;
    }
    const value = counterValue(reading);
    if (value === undefined) {
      this.#stats.ignoredValues++;
      return;
    }
    const step = counterStep(this.#counters[counter], value);
    this.#counters[counter] = value;
    if (step.kind === "first" || step.kind === "reset") {
      this.#stats.counterResets += step.kind === "reset" ? 1 : 0;
      return;
    }
    if (step.kind === "wrap") {
      this.#stats.counterResets++;
      this.#stats.counterWraps++;
    }
    if (this.#period !== null) {
      this.#totals[TOTAL_OF[counter]] += step.parts;
    } else if (counter === "total") {
      this.#stats.partsOutsideShifts += step.parts;
    }
  }

  /** Integrates time from the cursor to `to`, closing periods on the way. */
  #advance(to: number, out: Sample[]): void {
    if (this.#cursor === null) {
      this.#enter(this.#calendar.shiftAt(to), Number.NEGATIVE_INFINITY);
      this.#cursor = to;
      this.#boundary = this.#nextBoundary(to);
      return;
    }
    // Periods entered during this call have seen no reading or tick of their own yet.
    let unseen = this.#period === null;
    while (this.#cursor < to) {
      const cursor = this.#cursor;
      if (unseen && to > this.#boundary && cursor >= this.#knownUntil()) {
        // Nothing known from here on and no call saw this period: skip straight to `to`.
        const target = this.#calendar.shiftAt(to);
        if (target?.key !== this.#period?.key) {
          this.#enter(target, cursor);
        }
        this.#cursor = to;
        this.#boundary = this.#nextBoundary(to);
        return;
      }
      const segmentEnd = Math.min(to, this.#boundary);
      if (this.#period !== null) {
        addHeldTime(
          this.#totals,
          cursor,
          segmentEnd,
          { run: this.#run, plannedStop: this.#plannedStop },
          this.#maxGapMs,
        );
      }
      this.#cursor = segmentEnd;
      if (segmentEnd >= this.#boundary) {
        const next = this.#calendar.shiftAt(segmentEnd);
        if (next?.key !== this.#period?.key) {
          if (this.#period !== null) {
            this.#close(out);
          }
          this.#enter(next, segmentEnd);
          unseen = true;
        }
        this.#boundary = this.#nextBoundary(segmentEnd);
      }
    }
  }

  #knownUntil(): number {
    return knownUntil({ run: this.#run, plannedStop: this.#plannedStop }, this.#maxGapMs);
  }

  #nextBoundary(ts: number): number {
    return this.#calendar.nextBoundary(ts) ?? Number.POSITIVE_INFINITY;
  }

  /** Starts accounting for `instance`, no earlier than `floor` (where the previous period stopped). */
  #enter(instance: ReturnType<ShiftCalendar["shiftAt"]>, floor: number): void {
    this.#totals = emptyTotals();
    if (instance === null) {
      this.#period = null;
      this.#nextEmitTs = null;
      return;
    }
    const accountedFrom = Math.max(instance.start, floor);
    this.#period = { ...instance, accountedFrom };
    this.#nextEmitTs = accountedFrom + this.#intervalMs;
  }

  /** Emits the period's final figures at the cursor (its boundary) and leaves no period open. */
  #close(out: Sample[]): void {
    const at = this.#cursor ?? 0;
    out.push(this.#sample(at, true));
    this.#period = null;
    this.#nextEmitTs = null;
  }

  #emitRunningIfDue(now: number, out: Sample[]): void {
    const period = this.#period;
    if (period === null || this.#nextEmitTs === null || now < this.#nextEmitTs) {
      return;
    }
    out.push(this.#sample(now, false));
    const periods = Math.floor((now - period.accountedFrom) / this.#intervalMs) + 1;
    this.#nextEmitTs = period.accountedFrom + periods * this.#intervalMs;
  }

  #figures(at: number): OeeFigures {
    const from = this.#period?.accountedFrom ?? at;
    return computeOee(this.#totals, at - from, this.#config.idealCycleTime, this.#goodSource);
  }

  #sample(at: number, final: boolean): Sample {
    const period = this.#period as OeePeriod;
    return oeeSample({
      device: this.device,
      shift: period.name,
      periodKey: period.key,
      ts: at,
      clockSynced: this.#clockSynced,
      final,
      totals: this.#totals,
      figures: this.#figures(at),
    });
  }
}
