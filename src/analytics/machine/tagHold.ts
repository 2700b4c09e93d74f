/**
 * The latest usable value of each tag of one device (issue #6: detectors score "per-device feature
 * vectors", but a Sample holds only the tags that passed the publish filter, and a Modbus device's
 * poll groups arrive as separate samples). A multivariate detector needs every feature at once, so
 * the analytics stage holds the last good value of each tag and builds vectors from the holds.
 *
 * What may enter a hold (FAULTS: "anomaly models reject non-finite input so a rolling mean never
 * turns NaN forever"): a reading of quality "good" whose value is a finite number, a boolean (1/0:
 * run states, stop flags) or a bigint within 2^53. A bad or uncertain reading, or a non-finite
 * value, clears the tag's hold instead: the tag is "unknown" until it reads good again, so no vector
 * is built from a value the device has since said is wrong. Strings never enter (not a measurement).
 */
import type { Sample, TagReading } from "../../records.js";

export interface HeldValue {
  readonly value: number;
  readonly ts: number;
}

export interface TagUpdate {
  readonly tag: string;
  readonly value: number;
}

export interface TagHoldStats {
  /** Readings that cleared a hold: quality not good, or a non-finite / unusable value. */
  readonly refused: number;
}

/** The number a good reading means to a detector, or undefined when it means none. */
export function numericValue(reading: TagReading): number | undefined {
  if (reading.quality !== "good") {
    return undefined;
  }
  const { value } = reading;
  if (typeof value === "number") {
    return Number.isFinite(value) ? value : undefined;
  }
  if (typeof value === "boolean") {
    return value ? 1 : 0;
  }
  if (typeof value === "bigint") {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : undefined;
  }
  return undefined;
}

export class TagHold {
  readonly #held = new Map<string, HeldValue>();
  #refused = 0;

  /** Takes one sample; returns the tags it brought a usable value for, in the sample's order. */
  update(sample: Sample): TagUpdate[] {
    const updates: TagUpdate[] = [];
    for (const [tag, reading] of Object.entries(sample.values)) {
      const value = numericValue(reading);
      if (value === undefined) {
        if (typeof reading.value !== "string" || reading.quality !== "good") {
          this.#refused++;
          this.#held.delete(tag);
        }
        continue;
      }
      this.#held.set(tag, { value, ts: sample.ts });
      updates.push({ tag, value });
    }
    return updates;
  }

  get(tag: string): HeldValue | undefined {
    return this.#held.get(tag);
  }

  /**
   * The vector of `tags` in order, written into `out`; false (and `out` untouched past the first
   * missing tag) when any tag has no usable value.
   */
  vector(tags: readonly string[], out: Float64Array): boolean {
    for (let i = 0; i < tags.length; i++) {
      const held = this.#held.get(tags[i] as string);
      if (held === undefined) {
        return false;
      }
      out[i] = held.value;
    }
    return true;
  }

  stats(): TagHoldStats {
    return { refused: this.#refused };
  }
}
