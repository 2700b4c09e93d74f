/**
 * The injectable faults of issue #7 item 1, each a function of its progress that says how it
 * bends a machine's physics: the models read the combined effects, never the fault list.
 */
import type { FaultKind } from "./plantSchema.js";

export interface FaultEffects {
  /** Multiplies the scheduled load (overload). */
  loadFactor: number;
  /** Load fraction the drive keeps drawing while no shift runs (idle drain). */
  idleFloor: number;
  /** Multiplies the supply voltage (sag). */
  voltageFactor: number;
  /** Added to the power factor (compensation lost). */
  pfDelta: number;
  /** Added to the winding temperature reading: heat conducted from a failing bearing. */
  tempAddC: number;
  /** Added to the vibration reading. */
  vibrationAdd: number;
  /** The press keeps running but its counters stop. */
  counterStall: boolean;
}

export function noEffects(): FaultEffects {
  return {
    loadFactor: 1,
    idleFloor: 0,
    voltageFactor: 1,
    pfDelta: 0,
    tempAddC: 0,
    vibrationAdd: 0,
    counterStall: false,
  };
}

/**
 * Applies one fault at `progress` (0 at onset, 1 at its end). A bearing fault is a drift, so it
 * grows with progress; the electrical faults are steps, as a tripped capacitor bank or a weak
 * supply are. stuck-sensor acts on the output, not on the physics, so it changes nothing here.
 */
export function applyFault(kind: FaultKind, progress: number, effects: FaultEffects): void {
  const p = Math.min(1, Math.max(0, progress));
  switch (kind) {
    case "bearing-overheat":
      effects.tempAddC += 35 * p;
      effects.vibrationAdd += 4 * p;
      return;
    case "overload":
      effects.loadFactor *= 1.45;
      return;
    case "idle-drain":
      effects.idleFloor = Math.max(effects.idleFloor, 0.35);
      return;
    case "voltage-sag":
      effects.voltageFactor *= 0.85;
      return;
    case "power-factor-drop":
      effects.pfDelta -= 0.25;
      return;
    case "counter-stall":
      effects.counterStall = true;
      return;
    case "stuck-sensor":
      return;
  }
}

export interface ActiveFault {
  readonly machine: string;
  readonly fault: FaultKind;
  readonly startS: number;
  readonly durationS: number;
  readonly signal?: string;
}

/** Faults scheduled in the file plus those injected; bounded so a looping client cannot grow it. */
export const MAX_FAULTS = 256;
