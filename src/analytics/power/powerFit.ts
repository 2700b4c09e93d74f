/**
 * Training a machine's power profile (issue #6 item 2): operating states by clustering active
 * power, each state's normal bands, dwell times and transitions, and the voltage band.
 *
 * States are clustered on y = asinh(power / epsilon), epsilon = 2 % of the p99.5 power: linear
 * near zero (so "off" readings around 0, even slightly negative meter noise, stay one cluster) and
 * logarithmic above (so a state's noise, which grows with its level, weighs alike at every level:
 * on raw kW a wide loaded state outweighs the whole off/idle distinction in the k-means sum of
 * squares). asinh is monotone, so states remain power intervals; their bands are raw quantiles.
 */

import { seededRandom } from "../random.js";
import { chooseStates, STATE_CHOICE_DEFAULTS } from "./kmeans1d.js";
import {
  type Band,
  type DwellStats,
  POWER_TUNING_DEFAULTS,
  type PowerModel,
  type PowerReading,
  type PowerState,
  type PowerTagNames,
  type PowerTuning,
  type StateRole,
  stateIndexOf,
  type VoltageBand,
} from "./powerModel.js";
import { clamp, quantileSorted, robustSigma, sortedCopy } from "./robustStats.js";

export interface FitPowerOptions {
  /** Seed of the clustering's random draws: the same readings and seed give the same profile. */
  readonly seed: number;
  /** Configured tag names, for explanations; defaults to power/current/voltage/powerFactor. */
  readonly tags?: Partial<PowerTagNames> | undefined;
  /** Supply voltage Un (config nominalVoltage); without it the voltage band is learnt. */
  readonly nominalVoltage?: number | undefined;
  /** Refuse to train on fewer readings with a finite power (default 200). */
  readonly minReadings?: number | undefined;
  readonly tuning?: Partial<PowerTuning> | undefined;
}

/** Readings clustered and used for band quantiles at most; a seeded uniform sample beyond it. */
const MAX_SAMPLE = 50_000;
/** A state whose median is below this share of the top state's median is "off". */
const OFF_FRACTION = 0.05;
/**
 * EN 50160 (voltage characteristics of public distribution networks), clause on supply voltage
 * variations: 95 % of the 10-minute mean r.m.s. values within Un +-10 %; IEC 60038 gives the same
 * +-10 % range around 230/400 V. A reading outside it is a sag or a swell.
 */
const NOMINAL_TOLERANCE = 0.1;

const NAMES: readonly (readonly string[])[] = [
  [],
  ["loaded"],
  ["idle", "loaded"],
  ["idle", "loaded", "peak"],
  ["idle", "light", "loaded", "peak"],
  ["idle", "light", "medium", "loaded", "peak"],
];

function finite(x: number | undefined): x is number {
  return x !== undefined && Number.isFinite(x);
}

/** The band p0.5..p99.5 widened by max(10 % of its width, sigma / 2). */
function band(sorted: Float64Array, sigmaFloor: number): Band {
  const lo = quantileSorted(sorted, 0.005);
  const hi = quantileSorted(sorted, 0.995);
  const sigma = robustSigma(sorted, sigmaFloor);
  const margin = Math.max(0.1 * (hi - lo), 0.5 * sigma);
  return { lo: lo - margin, hi: hi + margin, sigma };
}

/** Seeded sample of min(n, MAX_SAMPLE) distinct indices, ascending (partial Fisher-Yates). */
function sampleIndices(n: number, random: () => number): Int32Array {
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    all[i] = i;
  }
  if (n <= MAX_SAMPLE) {
    return all;
  }
  for (let i = 0; i < MAX_SAMPLE; i++) {
    const j = i + Math.floor(random() * (n - i));
    const t = all[i] as number;
    all[i] = all[j] as number;
    all[j] = t;
  }
  return all.slice(0, MAX_SAMPLE).sort();
}

function dwellStats(runs: number[]): DwellStats {
  if (runs.length === 0) {
    return { medianMs: 0, p95Ms: 0, maxMs: 0 };
  }
  const sorted = sortedCopy(runs);
  return {
    medianMs: quantileSorted(sorted, 0.5),
    p95Ms: quantileSorted(sorted, 0.95),
    maxMs: sorted[sorted.length - 1] as number,
  };
}

function namesAndRoles(medians: readonly number[]): { name: string; role: StateRole }[] {
  const top = medians[medians.length - 1] as number;
  const offCount = medians.length > 1 && (medians[0] as number) <= OFF_FRACTION * top ? 1 : 0;
  const onNames = NAMES[medians.length - offCount] ?? [];
  return medians.map((_, i) => {
    if (i < offCount) {
      return { name: "off", role: "off" };
    }
    const j = i - offCount;
    const role: StateRole = j === 0 && onNames.length > 1 ? "idle" : "running";
    return { name: onNames[j] ?? `state-${i}`, role };
  });
}

interface CleanReadings {
  readonly rows: PowerReading[];
  readonly skipped: number;
  readonly ignoredFields: number;
}

function clean(readings: Iterable<PowerReading>): CleanReadings {
  const rows: PowerReading[] = [];
  let skipped = 0;
  let ignoredFields = 0;
  for (const r of readings) {
    if (!Number.isFinite(r.ts) || !Number.isFinite(r.power)) {
      skipped++;
      continue;
    }
    for (const field of [r.current, r.voltage, r.powerFactor]) {
      if (field !== undefined && !Number.isFinite(field)) {
        ignoredFields++;
      }
    }
    rows.push(r);
  }
  // Sort only when needed: history normally arrives in time order.
  if (rows.some((r, i) => i > 0 && r.ts < (rows[i - 1] as PowerReading).ts)) {
    rows.sort((a, b) => a.ts - b.ts);
  }
  return { rows, skipped, ignoredFields };
}

function medianInterval(rows: readonly PowerReading[]): number {
  const gaps: number[] = [];
  for (let i = 1; i < rows.length; i++) {
    const gap = (rows[i] as PowerReading).ts - (rows[i - 1] as PowerReading).ts;
    if (gap > 0) {
      gaps.push(gap);
    }
  }
  return gaps.length === 0 ? 1000 : quantileSorted(sortedCopy(gaps), 0.5);
}

function voltageBand(values: number[], nominal: number | undefined): VoltageBand | null {
  if (nominal !== undefined) {
    if (!(nominal > 0 && Number.isFinite(nominal))) {
      throw new RangeError(`nominalVoltage must be a positive number, got ${nominal}`);
    }
    const lo = nominal * (1 - NOMINAL_TOLERANCE);
    const hi = nominal * (1 + NOMINAL_TOLERANCE);
    return { source: "nominal", nominal, lo, hi, scale: 0.01 * nominal };
  }
  if (values.length < STATE_CHOICE_DEFAULTS.minCount) {
    return null;
  }
  const sorted = sortedCopy(values);
  const median = quantileSorted(sorted, 0.5);
  const floor = Math.max(0.005 * Math.abs(median), 1e-9);
  const b = band(sorted, floor);
  return { source: "learnt", nominal: null, lo: b.lo, hi: b.hi, scale: b.sigma };
}

/** Dwell times and transition counts over the whole time-ordered history. */
function sequenceStats(rows: readonly PowerReading[], boundaries: readonly number[], maxGapMs: number) {
  const k = boundaries.length + 1;
  const counts = new Array<number>(k).fill(0);
  const dwell: number[][] = Array.from({ length: k }, () => []);
  const transitions = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let current = -1;
  let since = 0;
  let previousTs = 0;
  for (const r of rows) {
    const s = stateIndexOf(boundaries, r.power);
    counts[s] = (counts[s] as number) + 1;
    if (current >= 0 && r.ts - previousTs > maxGapMs) {
      dwell[current]?.push(previousTs - since);
      current = -1;
    }
    if (s !== current) {
      if (current >= 0) {
        dwell[current]?.push(r.ts - since);
        const row = transitions[current] as number[];
        row[s] = (row[s] as number) + 1;
      }
      current = s;
      since = r.ts;
    }
    previousTs = r.ts;
  }
  if (current >= 0) {
    dwell[current]?.push(previousTs - since);
  }
  return { counts, dwell, transitions };
}

export function fitPowerModel(readings: Iterable<PowerReading>, options: FitPowerOptions): PowerModel {
  const minReadings = options.minReadings ?? 200;
  const { rows, skipped, ignoredFields } = clean(readings);
  if (rows.length < minReadings) {
    throw new RangeError(
      `a power profile needs at least ${minReadings} readings with a finite power value, got ${rows.length} (${skipped} skipped)`,
    );
  }
  const random = seededRandom(options.seed);
  const sample = Array.from(sampleIndices(rows.length, random), (i) => rows[i] as PowerReading);
  const powers = sortedCopy(sample.map((r) => r.power));
  const epsilon = Math.max(0.02 * quantileSorted(powers.map(Math.abs).sort(), 0.995), 1e-9);
  const y = powers.map((p) => Math.asinh(p / epsilon));
  const choice = chooseStates(y, random);
  const { centres } = choice.clustering;
  const boundaries: number[] = [];
  for (let c = 0; c + 1 < centres.length; c++) {
    boundaries.push(epsilon * Math.sinh(((centres[c] as number) + (centres[c + 1] as number)) / 2));
  }

  const intervalMs = medianInterval(rows);
  const maxGapMs = options.tuning?.maxGapMs ?? clamp(10 * intervalMs, 60_000, 3_600_000);
  const tuning = { ...POWER_TUNING_DEFAULTS, ...options.tuning };
  const { counts, dwell, transitions } = sequenceStats(rows, boundaries, maxGapMs);

  const k = centres.length;
  const byState = Array.from({ length: k }, () => ({
    power: [] as number[],
    current: [] as number[],
    pf: [] as number[],
  }));
  for (const r of sample) {
    const bucket = byState[stateIndexOf(boundaries, r.power)];
    bucket?.power.push(r.power);
    if (finite(r.current)) {
      bucket?.current.push(r.current);
    }
    if (finite(r.powerFactor)) {
      bucket?.pf.push(r.powerFactor);
    }
  }
  const range = (powers[powers.length - 1] as number) - (powers[0] as number);
  const medians = byState.map((b) => (b.power.length > 0 ? quantileSorted(sortedCopy(b.power), 0.5) : 0));
  const labels = namesAndRoles(medians);
  const minCount = STATE_CHOICE_DEFAULTS.minCount;
  const states: PowerState[] = byState.map((b, i): PowerState => {
    const label = labels[i] as { name: string; role: StateRole };
    const power = sortedCopy(b.power);
    const median = medians[i] as number;
    const current = b.current.length >= minCount ? sortedCopy(b.current) : null;
    const pf = b.pf.length >= minCount ? sortedCopy(b.pf) : null;
    const pfSigma = pf === null ? 0 : robustSigma(pf, 0.01);
    return {
      ...label,
      median,
      power: band(power, Math.max(1e-3 * range, 1e-3 * Math.abs(median), 1e-12)),
      current:
        current === null
          ? null
          : band(current, Math.max(1e-3 * Math.abs(quantileSorted(current, 0.5)), 1e-9)),
      powerFactor:
        pf === null ? null : { low: quantileSorted(pf, 0.005) - Math.max(0.02, pfSigma), sigma: pfSigma },
      share: (counts[i] as number) / rows.length,
      dwell: dwellStats(dwell[i] as number[]),
    };
  });

  const voltages = sample.flatMap((r) => (finite(r.voltage) ? [r.voltage] : []));
  const tags: PowerTagNames = {
    power: options.tags?.power ?? "power",
    current: options.tags?.current ?? "current",
    voltage: options.tags?.voltage ?? "voltage",
    powerFactor: options.tags?.powerFactor ?? "powerFactor",
  };
  return {
    tags,
    seed: options.seed,
    training: {
      readings: rows.length,
      skippedReadings: skipped,
      ignoredFields,
      fromTs: (rows[0] as PowerReading).ts,
      toTs: (rows[rows.length - 1] as PowerReading).ts,
      medianIntervalMs: intervalMs,
    },
    epsilon,
    kTrials: choice.trials,
    states,
    boundaries,
    transitions,
    voltage: voltageBand(voltages, options.nominalVoltage),
    tuning: {
      // In the save format's key order, so a loaded model writes the same text.
      persistence: tuning.persistence,
      maxGapMs,
      idleGraceMinMs: tuning.idleGraceMinMs,
      idleGraceMaxMs: tuning.idleGraceMaxMs,
      longIdleFactor: tuning.longIdleFactor,
    },
  };
}
