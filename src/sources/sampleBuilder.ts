/**
 * One round of decoded tag values to one Sample (issue #4 item 7), through each tag's publish
 * filter (deadband.ts). Shared by the Modbus pollers and the serial-line source, so both stamp,
 * filter and shape samples the same way. Quality changes always pass the filter, so a tag going
 * bad (and back) is never filtered away.
 */
import type { Clock } from "../clock.js";
import type { Sample, TagReading } from "../records.js";
import { type Deadband, PublishFilter } from "./deadband.js";
import type { DecodedValue } from "./modbus/decodeResult.js";

/** The parts of a configured tag (Modbus or serial-line) that shape its published reading. */
export interface PublishedTag {
  readonly name: string;
  readonly unit?: string | undefined;
  readonly deadband?: Deadband | undefined;
  /** Publish at least this often (ms) even inside the deadband. */
  readonly heartbeat?: number | undefined;
}

export class SampleBuilder {
  readonly #device: string;
  readonly #group: string | undefined;
  readonly #clock: Clock;
  readonly #tags: ReadonlyMap<string, { readonly unit: string | undefined; readonly filter: PublishFilter }>;

  constructor(device: string, group: string | undefined, tags: readonly PublishedTag[], clock: Clock) {
    this.#device = device;
    this.#group = group;
    this.#clock = clock;
    this.#tags = new Map(
      tags.map((tag) => [
        tag.name,
        {
          unit: tag.unit,
          filter: new PublishFilter({ deadband: tag.deadband, heartbeat: tag.heartbeat }, clock),
        },
      ]),
    );
  }

  /**
   * The Sample for this round: the readings that pass their tag's filter, stamped now.
   * Undefined when none pass. Readings of tags this builder does not know are a bug: they throw.
   */
  build(readings: ReadonlyMap<string, DecodedValue>): Sample | undefined {
    const values: Record<string, TagReading> = {};
    let any = false;
    for (const [name, reading] of readings) {
      const tag = this.#tags.get(name);
      if (tag === undefined) {
        throw new RangeError(`SampleBuilder(${this.#device}): unknown tag ${name}`);
      }
      if (!tag.filter.shouldPublish(reading)) {
        continue;
      }
      values[name] = {
        value: reading.value,
        quality: reading.quality,
        ...(reading.quality === "good" ? {} : { reason: reading.reason }),
        ...(tag.unit === undefined ? {} : { unit: tag.unit }),
      };
      any = true;
    }
    if (!any) {
      return undefined;
    }
    return {
      kind: "sample",
      device: this.#device,
      ...(this.#group === undefined ? {} : { group: this.#group }),
      ts: this.#clock.wallNow(),
      clockSynced: this.#clock.wallSynced(),
      values,
    };
  }

  /** Every tag with the same reading, e.g. bad("disconnected: …") for a lost port. */
  buildAll(reading: DecodedValue): Sample | undefined {
    return this.build(new Map([...this.#tags.keys()].map((name) => [name, reading])));
  }

  /** Forget what was published (after a reload): the next round publishes every tag. */
  reset(): void {
    for (const tag of this.#tags.values()) {
      tag.filter.reset();
    }
  }
}
