/**
 * Collects one machine's training data from its history (issue #6 item 5: "from the ledger's
 * stored samples of the device ... or from a CSV export"), whatever the history comes from: each
 * sample goes through the same TagHold the live stage uses, so a training vector is exactly the
 * vector the detector will be shown live (last good value of each tag; a bad reading makes its tag
 * unknown). Memory is bounded by the series' capacity, whatever the length of the history.
 */
import type { Sample } from "../../records.js";
import { TagHold, type TagUpdate } from "../machine/tagHold.js";
import { DecimatingSeries } from "./decimatingSeries.js";
import type { TrainerInput } from "./trainers.js";
import type { TrainingPlan, VectorPlan } from "./trainingPlan.js";

/** Rows kept per detector: enough for every model here (the autoencoder fits on at most 50,000). */
export const DEFAULT_SERIES_CAPACITY = 65_536;

export interface CollectedSeries {
  readonly plan: VectorPlan;
  readonly series: DecimatingSeries;
  /** Readings of the vector's tags when a required tag had no usable value. */
  incomplete: number;
}

/** What a trainer needs besides the rows: the machine, where the rows came from, the calendar. */
export type TrainingContext = Omit<TrainerInput, "plan" | "rows" | "times" | "incomplete">;

export class MachineHistory {
  readonly hold = new TagHold();
  readonly collected: CollectedSeries[];
  #samples = 0;
  readonly #row: Float64Array;

  constructor(
    readonly plan: TrainingPlan,
    capacity = DEFAULT_SERIES_CAPACITY,
  ) {
    this.collected = plan.vectors.map((vector) => ({
      plan: vector,
      series: new DecimatingSeries(vector.tags.length, capacity),
      incomplete: 0,
    }));
    this.#row = new Float64Array(Math.max(1, ...plan.vectors.map((vector) => vector.tags.length)));
  }

  get samples(): number {
    return this.#samples;
  }

  /** The trainer inputs of the collected series (those that `keep` keeps; all by default). */
  inputs(
    context: TrainingContext,
    keep: (collected: CollectedSeries) => boolean = () => true,
  ): TrainerInput[] {
    return this.collected.filter(keep).map((collected) => ({
      ...context,
      plan: collected.plan,
      rows: collected.series.rows(),
      times: collected.series.times(),
      incomplete: collected.incomplete,
    }));
  }

  /** Takes one sample of the machine's device (others are ignored); returns its usable values. */
  add(sample: Sample): TagUpdate[] {
    if (sample.device !== this.plan.device) {
      return [];
    }
    this.#samples++;
    const updates = this.hold.update(sample);
    if (updates.length === 0) {
      return updates;
    }
    const updated = new Set(updates.map((update) => update.tag));
    for (const entry of this.collected) {
      const { tags, required } = entry.plan;
      if (!tags.some((tag) => updated.has(tag))) {
        continue;
      }
      let complete = true;
      for (let i = 0; i < tags.length; i++) {
        const held = this.hold.get(tags[i] as string);
        if (held === undefined && i < required) {
          complete = false;
          break;
        }
        this.#row[i] = held?.value ?? Number.NaN;
      }
      if (complete) {
        entry.series.push(sample.ts, this.#row);
      } else {
        entry.incomplete++;
      }
    }
    return updates;
  }
}
