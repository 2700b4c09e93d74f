/**
 * OEE as a machine's derived samples (issue #6 item 4: "availability, performance, quality and
 * OEE per shift ... emitted as samples"): the machine's readings feed the OEE tracker; its figures
 * come out as samples of the machine's device, group "oee", appended to the ledger like readings.
 */
import type { Sample } from "../../records.js";
import { type OeeMachineConfig, OeeTracker, oeeCalendar, oeeReadingFromSample } from "../oee/index.js";
import type { DerivedSamples } from "./machineAnalytics.js";
import type { ShiftConfig } from "./machineConfig.js";

export class OeeDerived implements DerivedSamples {
  readonly tracker: OeeTracker;

  constructor(
    device: string,
    readonly config: OeeMachineConfig,
    shifts: readonly ShiftConfig[],
    timeZone: string,
    saved?: unknown,
  ) {
    const options = { device, config, calendar: oeeCalendar(shifts, timeZone) };
    this.tracker = saved === undefined ? new OeeTracker(options) : OeeTracker.fromJSON(saved, options);
  }

  observe(sample: Sample): Sample[] {
    const reading = oeeReadingFromSample(sample, this.config);
    return reading === null ? [] : this.tracker.observe(reading);
  }

  tick(now: number): Sample[] {
    return this.tracker.tick(now);
  }

  saveState(): unknown {
    return this.tracker.toJSON();
  }
}
