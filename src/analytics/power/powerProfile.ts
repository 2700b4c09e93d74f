/**
 * A machine's power profile (issue #6 item 2): learnt operating states (off / idle / loaded ...)
 * with their normal bands, dwell times and transitions, and typed findings per reading. A pure
 * core: readings in, findings out, time passed in as `ts`; no I/O, no timers.
 *
 *   const profile = fitPowerProfile(history, { seed: 1, tags, nominalVoltage: 400 });
 *   const monitor = new PowerProfileMonitor();          // or PowerProfileMonitor.fromJSON(saved)
 *   profile.score({ ts, power, current, voltage, powerFactor }, { inSchedule }, monitor) // Finding[]
 *
 * The model is immutable and may be shared; each machine's run-time state (current state, rule
 * persistence) lives in its monitor, so a retrained model swaps in without losing it.
 */
import type { Finding } from "../findings.js";
import { type FitPowerOptions, fitPowerModel } from "./powerFit.js";
import {
  type PowerContext,
  type PowerModel,
  type PowerReading,
  type PowerState,
  stateIndexOf,
} from "./powerModel.js";
import type { PowerProfileMonitor } from "./powerMonitor.js";
import { type PowerProfileJson, parsePowerProfileJson, powerModelToJson } from "./powerProfileJson.js";
import { scorePowerReading } from "./powerRules.js";

export class PowerProfile {
  /** Use fitPowerProfile() or PowerProfile.fromJSON(); this takes a model already checked. */
  constructor(readonly model: PowerModel) {}

  /** Loads a profile written by toJSON(); throws ProfileFormatError saying what is wrong with a bad one. */
  static fromJSON(json: unknown): PowerProfile {
    return new PowerProfile(parsePowerProfileJson(json));
  }

  /** The learnt states, ascending by power. */
  get states(): readonly PowerState[] {
    return this.model.states;
  }

  /** The state a power value falls in (by the learnt boundaries). */
  stateOf(power: number): PowerState {
    return this.model.states[stateIndexOf(this.model.boundaries, power)] as PowerState;
  }

  /**
   * Scores one reading, advancing `monitor` (this machine's run-time state); returns findings of
   * the rules whose condition has persisted, heaviest first, usually none. Readings must come in
   * time order; a late one, or one whose time or power is not finite, is counted in
   * monitor.stats and changes nothing. A non-finite optional field is treated as absent.
   */
  score(reading: PowerReading, context: PowerContext, monitor: PowerProfileMonitor): readonly Finding[] {
    return scorePowerReading(this.model, reading, context, monitor);
  }

  toJSON(): PowerProfileJson {
    return powerModelToJson(this.model);
  }
}

/**
 * Learns a profile from a machine's history. Readings whose time or power is not finite are
 * skipped (counted in training.skippedReadings). Throws RangeError with fewer than
 * options.minReadings (default 200) usable readings.
 */
export function fitPowerProfile(readings: Iterable<PowerReading>, options: FitPowerOptions): PowerProfile {
  return new PowerProfile(fitPowerModel(readings, options));
}
