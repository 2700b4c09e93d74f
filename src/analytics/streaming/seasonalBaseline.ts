/**
 * Seasonal baseline (issue #6 item 1a: "with seasonality where the data has it"): one robust
 * estimate per hour of the day (24 slots, daily) or of the week (168 slots, weekly). Each slot is
 * its own SortedWindow over the last `periodsKept` periods, so the 14:00 slot's median is the
 * level of the last two weeks' 14:00-15:00 hours. The detector blends a slot with the global
 * baseline by `weight(slot)`, which grows with the number of distinct periods the slot has seen
 * (a slot learnt from one day is that day's weather, not the season).
 *
 * Slots are created on first use; each keeps at most `capacity` points, thinned evenly over its
 * own active time (periodsKept x one hour), so a 1 Hz tag holds capacity points per slot, not
 * 3600 x periodsKept. Hours and periods are local wall time in `timeZone` (gateway.timezone), so
 * a slot keeps its hour across daylight-saving changes (zoneOffset.ts); on the day the clocks go
 * back, the repeated hour's slot simply sees two hours of data, and on the day they go forward
 * the skipped hour's slot sees none.
 */
import { packFloat64, unpackFloat64 } from "./packedArray.js";
import { SortedWindow, type WindowCounters } from "./sortedWindow.js";
import { ZoneOffsets } from "./zoneOffset.js";

export type Seasonality = "none" | "daily" | "weekly";

const HOUR_MS = 3_600_000;
const PERIOD_MS = { daily: 24 * HOUR_MS, weekly: 7 * 24 * HOUR_MS } as const;

export interface SeasonalOptions {
  readonly seasonality: "daily" | "weekly";
  readonly periodsKept: number;
  readonly capacity: number;
  readonly minPeriods: number;
  /** IANA time zone of the slots' wall clock. */
  readonly timeZone: string;
}

/**
 * The saved slots, column by column (one entry per occupied slot, in slot order) so that a weekly
 * baseline's 168 slots cost 9 fields, not 168 objects; their points are packed slot after slot.
 */
export interface SeasonalState {
  readonly slots: number[];
  readonly counts: number[];
  readonly periodsSeen: number[];
  readonly lastPeriod: number[];
  readonly lastAdmittedTs: (number | null)[];
  readonly thinned: number[];
  readonly evicted: number[];
  readonly times: string;
  readonly values: string;
}

interface Slot {
  readonly window: SortedWindow;
  periodsSeen: number;
  lastPeriod: number;
}

export class SeasonalBaseline {
  private readonly slots: (Slot | undefined)[];
  private readonly periodMs: number;

  private readonly zone: ZoneOffsets;

  constructor(readonly options: SeasonalOptions) {
    this.zone = new ZoneOffsets(options.timeZone);
    this.periodMs = PERIOD_MS[options.seasonality];
    this.slots = new Array<Slot | undefined>(this.periodMs / HOUR_MS).fill(undefined);
  }

  get slotCount(): number {
    return this.slots.length;
  }

  /** Wall-clock time in the slots' time zone, as ms since 1970-01-01 00:00 local. */
  localTime(ts: number): number {
    return ts + this.zone.offsetAt(ts);
  }

  slotOf(ts: number): number {
    const local = this.localTime(ts);
    const phase = ((local % this.periodMs) + this.periodMs) % this.periodMs;
    return Math.floor(phase / HOUR_MS);
  }

  /** The slot's window after expiring it at ts, or undefined if the slot is empty. */
  current(ts: number): SortedWindow | undefined {
    const slot = this.slots[this.slotOf(ts)];
    if (slot === undefined) {
      return undefined;
    }
    slot.window.expire(ts);
    if (slot.window.count === 0) {
      slot.periodsSeen = 0;
      return undefined;
    }
    return slot.window;
  }

  /** How far to trust the slot over the global baseline, 0..1. */
  weight(ts: number): number {
    const slot = this.slots[this.slotOf(ts)];
    if (slot === undefined || slot.window.count === 0) {
      return 0;
    }
    return Math.min(1, slot.periodsSeen / this.options.minPeriods);
  }

  add(ts: number, value: number): void {
    const index = this.slotOf(ts);
    let slot = this.slots[index];
    if (slot === undefined) {
      slot = { window: new SortedWindow(this.windowOptions()), periodsSeen: 0, lastPeriod: -1 };
      this.slots[index] = slot;
    }
    const period = Math.floor(this.localTime(ts) / this.periodMs);
    if (period !== slot.lastPeriod) {
      slot.periodsSeen++;
      slot.lastPeriod = period;
    }
    slot.window.add(ts, value);
  }

  /** Points held over all slots. */
  pointCount(): number {
    let count = 0;
    for (const slot of this.slots) {
      count += slot?.window.count ?? 0;
    }
    return count;
  }

  /** Points not admitted or pushed out, over all slots. */
  dropped(): { thinned: number; evicted: number } {
    let thinned = 0;
    let evicted = 0;
    for (const slot of this.slots) {
      thinned += slot?.window.thinned ?? 0;
      evicted += slot?.window.evicted ?? 0;
    }
    return { thinned, evicted };
  }

  toJSON(): SeasonalState {
    const state = {
      slots: [] as number[],
      counts: [] as number[],
      periodsSeen: [] as number[],
      lastPeriod: [] as number[],
      lastAdmittedTs: [] as (number | null)[],
      thinned: [] as number[],
      evicted: [] as number[],
    };
    const times: number[] = [];
    const values: number[] = [];
    this.slots.forEach((slot, index) => {
      if (slot === undefined) {
        return;
      }
      const points = slot.window.points();
      const counters = slot.window.counters();
      state.slots.push(index);
      state.counts.push(points.values.length);
      state.periodsSeen.push(slot.periodsSeen);
      state.lastPeriod.push(slot.lastPeriod);
      state.lastAdmittedTs.push(counters.lastAdmittedTs);
      state.thinned.push(counters.thinned);
      state.evicted.push(counters.evicted);
      for (let k = 0; k < points.values.length; k++) {
        times.push(points.times[k] as number);
        values.push(points.values[k] as number);
      }
    });
    return { ...state, times: packFloat64(times, true), values: packFloat64(values) };
  }

  /** Restores toJSON output whose shape streamingState.ts validated; throws RangeError if it is inconsistent. */
  static fromJSON(options: SeasonalOptions, state: SeasonalState): SeasonalBaseline {
    const baseline = new SeasonalBaseline(options);
    const n = state.slots.length;
    const columns = [state.counts, state.periodsSeen, state.lastPeriod, state.lastAdmittedTs, state.thinned];
    if ([...columns, state.evicted].some((column) => column.length !== n)) {
      throw new RangeError("seasonal slot columns differ in length");
    }
    const maxPoints = baseline.slots.length * options.capacity;
    const times = unpackFloat64(state.times, maxPoints);
    const values = unpackFloat64(state.values, maxPoints);
    let at = 0;
    for (let i = 0; i < n; i++) {
      const index = state.slots[i] as number;
      const count = state.counts[i] as number;
      if (index >= baseline.slots.length || baseline.slots[index] !== undefined) {
        throw new RangeError(`seasonal slot ${index} is out of range or repeated`);
      }
      if (at + count > values.length || times.length !== values.length) {
        throw new RangeError("seasonal slots hold fewer points than their counts say");
      }
      const counters: WindowCounters = {
        lastAdmittedTs: state.lastAdmittedTs[i] as number | null,
        thinned: state.thinned[i] as number,
        evicted: state.evicted[i] as number,
      };
      baseline.slots[index] = {
        window: SortedWindow.fromPoints(
          baseline.windowOptions(),
          times.subarray(at, at + count),
          values.subarray(at, at + count),
          counters,
        ),
        periodsSeen: state.periodsSeen[i] as number,
        lastPeriod: state.lastPeriod[i] as number,
      };
      at += count;
    }
    if (at !== values.length) {
      throw new RangeError("seasonal slots hold more points than their counts say");
    }
    return baseline;
  }

  private windowOptions() {
    const { periodsKept, capacity } = this.options;
    return {
      windowMs: periodsKept * this.periodMs,
      capacity,
      minSpacingMs: (periodsKept * HOUR_MS) / capacity,
      minPoints: 0,
    };
  }
}
