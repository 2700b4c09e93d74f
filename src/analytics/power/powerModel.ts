/**
 * What a machine's power profile holds (issue #6 item 2): its learnt operating states with their
 * normal bands and dwell times, the transitions between them, the supply voltage band and the
 * rules' tuning. Plain data, written to the models directory as JSON (powerProfileJson.ts).
 */
import type { AnomalyType } from "../findings.js";
import type { KTrial } from "./kmeans1d.js";
import type { Persistence } from "./rulePersistence.js";

/** The anomaly types a power profile reports, in the order the rules run. */
export const POWER_RULE_TYPES = [
  "overload",
  "idle-draw",
  "voltage-sag",
  "voltage-swell",
  "power-factor-drop",
  "outside-schedule",
] as const satisfies readonly AnomalyType[];
export type PowerRuleType = (typeof POWER_RULE_TYPES)[number];

/** One reading of a machine; the caller has already dropped bad-quality values. */
export interface PowerReading {
  /** Wall time, ms since the epoch. */
  readonly ts: number;
  /** Active power. */
  readonly power: number;
  readonly current?: number | undefined;
  readonly voltage?: number | undefined;
  readonly powerFactor?: number | undefined;
}

/** The schedule at the reading's time: undefined when the machine has no schedule configured. */
export interface PowerContext {
  readonly inSchedule: boolean | undefined;
}

/** The configured tag names (analytics.machines[].power), so explanations name the real tags. */
export interface PowerTagNames {
  readonly power: string;
  readonly current: string;
  readonly voltage: string;
  readonly powerFactor: string;
}

/**
 * off: near zero (controls only). idle: the lowest state above off when there are two or more,
 * powered but not working. running: every state above idle (loaded, peak, ...).
 */
export type StateRole = "off" | "idle" | "running";

/** A normal band: [lo, hi] already widened by its margin; sigma is the robust spread inside it. */
export interface Band {
  readonly lo: number;
  readonly hi: number;
  readonly sigma: number;
}

export interface DwellStats {
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly maxMs: number;
}

export interface PowerState {
  readonly name: string;
  readonly role: StateRole;
  /** Median active power of the state. */
  readonly median: number;
  readonly power: Band;
  /** Band of the current tag in this state; null without a current tag or too few values. */
  readonly current: Band | null;
  /** The state's power factor: low edge of its normal band, and its spread; null as for current. */
  readonly powerFactor: { readonly low: number; readonly sigma: number } | null;
  /** Share of the training readings in this state. */
  readonly share: number;
  readonly dwell: DwellStats;
}

export interface VoltageBand {
  /** "nominal": Un +-10 % from config; "learnt": from the training readings. */
  readonly source: "nominal" | "learnt";
  readonly nominal: number | null;
  readonly lo: number;
  readonly hi: number;
  /** The unit for "how far outside": 1 % of Un, or the learnt robust spread. */
  readonly scale: number;
}

export interface PowerTuning {
  readonly persistence: Readonly<Record<PowerRuleType, Persistence>>;
  /** A gap between readings longer than this ends every run and the state's dwell. */
  readonly maxGapMs: number;
  /** Out of schedule, idle is "left running" after the learnt p95 idle dwell, within these bounds. */
  readonly idleGraceMinMs: number;
  readonly idleGraceMaxMs: number;
  /** In schedule, idle is waste after max(factor x p95 idle dwell, 1.5 x longest, 2 x grace). */
  readonly longIdleFactor: number;
}

export const POWER_TUNING_DEFAULTS: Omit<PowerTuning, "maxGapMs"> = {
  persistence: {
    overload: { readings: 3, ms: 0 },
    "idle-draw": { readings: 3, ms: 0 },
    "voltage-sag": { readings: 3, ms: 0 },
    "voltage-swell": { readings: 3, ms: 0 },
    // PF is noisy at part load; five readings.
    "power-factor-drop": { readings: 5, ms: 0 },
    // A shift that overruns by a few minutes is not out of hours.
    "outside-schedule": { readings: 5, ms: 600_000 },
  },
  idleGraceMinMs: 300_000,
  idleGraceMaxMs: 7_200_000,
  longIdleFactor: 3,
};

export interface PowerTrainingSummary {
  readonly readings: number;
  /** Readings refused: power or time not finite. */
  readonly skippedReadings: number;
  /** Optional fields that were present but not finite, ignored. */
  readonly ignoredFields: number;
  readonly fromTs: number;
  readonly toTs: number;
  readonly medianIntervalMs: number;
}

export interface PowerModel {
  readonly tags: PowerTagNames;
  readonly seed: number;
  readonly training: PowerTrainingSummary;
  /** Scale of the clustering transform asinh(power / epsilon) (powerFit.ts). */
  readonly epsilon: number;
  readonly kTrials: readonly KTrial[];
  /** Ascending by power. */
  readonly states: readonly PowerState[];
  /** Power at which a reading passes from state i to state i+1; ascending, states - 1 long. */
  readonly boundaries: readonly number[];
  /** transitions[i][j]: state changes from i to j seen in training (i != j). */
  readonly transitions: readonly (readonly number[])[];
  readonly voltage: VoltageBand | null;
  readonly tuning: PowerTuning;
}

/** Index of the state a power value falls in (boundaries ascending; at most 4 compares). */
export function stateIndexOf(boundaries: readonly number[], power: number): number {
  let i = 0;
  while (i < boundaries.length && power >= (boundaries[i] as number)) {
    i++;
  }
  return i;
}
