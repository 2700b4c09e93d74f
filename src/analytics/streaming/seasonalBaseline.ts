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
 * 3600 x periodsKept. Hours are taken at a fixed UTC offset; the lead maps gateway.timezone to
 * it (a DST change shifts the slots by an hour twice a year, which the blend absorbs).
 */
import { SortedWindow, type SortedWindowState } from "./sortedWindow.js";

export type Seasonality = "none" | "daily" | "weekly";

const HOUR_MS = 3_600_000;
const PERIOD_MS = { daily: 24 * HOUR_MS, weekly: 7 * 24 * HOUR_MS } as const;

export interface SeasonalOptions {
  readonly seasonality: "daily" | "weekly";
  readonly periodsKept: number;
  readonly capacity: number;
  readonly minPeriods: number;
  readonly utcOffsetMinutes: number;
}

export interface SlotState {
  readonly slot: number;
  readonly window: SortedWindowState;
  readonly periodsSeen: number;
  readonly lastPeriod: number;
}

interface Slot {
  readonly window: SortedWindow;
  periodsSeen: number;
  lastPeriod: number;
}

export class SeasonalBaseline {
  private readonly slots: (Slot | undefined)[];
  private readonly periodMs: number;

  constructor(readonly options: SeasonalOptions) {
    this.periodMs = PERIOD_MS[options.seasonality];
    this.slots = new Array<Slot | undefined>(this.periodMs / HOUR_MS).fill(undefined);
  }

  get slotCount(): number {
    return this.slots.length;
  }

  slotOf(ts: number): number {
    const local = ts + this.options.utcOffsetMinutes * 60_000;
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
    const period = Math.floor((ts + this.options.utcOffsetMinutes * 60_000) / this.periodMs);
    if (period !== slot.lastPeriod) {
      slot.periodsSeen++;
      slot.lastPeriod = period;
    }
    slot.window.add(ts, value);
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

  toJSON(): SlotState[] {
    const out: SlotState[] = [];
    this.slots.forEach((slot, index) => {
      if (slot !== undefined) {
        out.push({
          slot: index,
          window: slot.window.toJSON(),
          periodsSeen: slot.periodsSeen,
          lastPeriod: slot.lastPeriod,
        });
      }
    });
    return out;
  }

  static fromJSON(options: SeasonalOptions, state: readonly SlotState[]): SeasonalBaseline {
    const baseline = new SeasonalBaseline(options);
    for (const slot of state) {
      if (slot.slot >= baseline.slots.length || baseline.slots[slot.slot] !== undefined) {
        throw new RangeError(`seasonal slot ${slot.slot} is out of range or repeated`);
      }
      baseline.slots[slot.slot] = {
        window: SortedWindow.fromJSON(baseline.windowOptions(), slot.window),
        periodsSeen: slot.periodsSeen,
        lastPeriod: slot.lastPeriod,
      };
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
