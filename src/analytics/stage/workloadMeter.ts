/**
 * The gateway's own workload (issue #6 item 2: "sustained CPU with no matching workload ...
 * unusual network egress"): samples per second through the pipeline and bytes per second of the
 * records appended, over the last minute. Once a minute the stage records it as a sample of the
 * gateway (group "workload"), so it is in the ledger for training and upstream for people.
 */
import type { Sample } from "../../records.js";
import { WORKLOAD_TAGS } from "../machine/profileDetectors.js";
import { RateMeter } from "./rateMeter.js";

export class WorkloadMeter {
  readonly #samples = new RateMeter();
  readonly #bytes = new RateMeter();

  /** One sample accepted at monotonic `now`, whose record took `bytes`. */
  add(now: number, bytes: number): void {
    this.#samples.add(now);
    this.#bytes.add(now, bytes);
  }

  current(now: number): { samplesPerSecond: number; uplinkBytesPerSecond: number } {
    return {
      samplesPerSecond: this.#samples.perSecond(now),
      uplinkBytesPerSecond: this.#bytes.perSecond(now),
    };
  }

  /** The workload as a sample of `device` at wall time `ts`. */
  sample(device: string, ts: number, clockSynced: boolean, now: number): Sample {
    const { samplesPerSecond, uplinkBytesPerSecond } = this.current(now);
    const round = (x: number) => Math.round(x * 100) / 100;
    return {
      kind: "sample",
      device,
      group: "workload",
      ts,
      clockSynced,
      values: {
        [WORKLOAD_TAGS.samplesPerSecond]: { value: round(samplesPerSecond), quality: "good", unit: "1/s" },
        [WORKLOAD_TAGS.recordBytesPerSecond]: {
          value: round(uplinkBytesPerSecond),
          quality: "good",
          unit: "B/s",
        },
      },
    };
  }
}
