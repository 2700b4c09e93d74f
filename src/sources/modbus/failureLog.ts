/**
 * Logs a device's failing tags on change, not per poll (issue #4 item 4): one line per poll group
 * and reason when the set of tags failing for that reason changes, and one when it clears. A
 * configuration error (exceptions 01-03: the device refuses the function, address or quantity)
 * carries a hint once, where a technician can act on it (FAULTS 8.3 "config hint logged once").
 */
import type { Logger } from "../../observability/logger.js";
import type { DecodedValue } from "./decodeResult.js";

const MAX_NAMED_TAGS = 10;

const HINTS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^exception 01/, "the device does not support this table's read function: check the tag's table"],
  [/^exception 02/, "the device has no such address: check the address, the table and the addressing option"],
  [/^exception 03/, "the device refuses this quantity: check type/length, or lower maxRegistersPerRead"],
  [/^CRC error/, "replies arrive corrupted: check baud rate, parity, wiring and termination"],
];

export class FailureLog {
  readonly #device: string;
  readonly #logger: Logger;
  /** group → reason → failing tag names, as last logged. */
  readonly #last = new Map<string, Map<string, string>>();

  constructor(device: string, logger: Logger) {
    this.#device = device;
    this.#logger = logger;
  }

  update(group: string, results: ReadonlyMap<string, DecodedValue>): void {
    const now = new Map<string, string[]>();
    for (const [tag, value] of results) {
      if (value.quality === "bad") {
        now.set(value.reason, [...(now.get(value.reason) ?? []), tag]);
      }
    }
    const previous = this.#last.get(group) ?? new Map<string, string>();
    const current = new Map<string, string>();
    for (const [reason, tags] of now) {
      const key = tags.join(",");
      current.set(reason, key);
      if (previous.get(reason) !== key) {
        const hint = HINTS.find(([pattern]) => pattern.test(reason))?.[1];
        this.#logger.warn(
          {
            device: this.#device,
            group,
            reason,
            count: tags.length,
            tags: tags.slice(0, MAX_NAMED_TAGS),
            ...(hint === undefined ? {} : { hint }),
          },
          `${tags.length} tag${tags.length === 1 ? "" : "s"} of ${this.#device}/${group} bad: ${reason}`,
        );
      }
    }
    for (const reason of previous.keys()) {
      if (!current.has(reason)) {
        this.#logger.info(
          { device: this.#device, group, reason },
          `${this.#device}/${group}: cleared: ${reason}`,
        );
      }
    }
    this.#last.set(group, current);
  }
}
