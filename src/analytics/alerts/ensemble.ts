/**
 * The ensemble of issue #6 item 3 ("per device, combine detector outputs into an anomaly record"):
 * one reading's findings grouped into alert kinds, each kind's probabilities combined into one,
 * its severity read off the device's thresholds, and its tags merged into the few that drove it.
 * Pure functions; the AlertEngine (alertEngine.ts) keeps the episodes.
 */
import { ANOMALY_TYPES, type AnomalyType, DETECTOR_KINDS, type Finding, type Severity } from "../findings.js";
import { type BodyTag, type DetectorVerdict, MAX_BODY_TAGS, MAX_TAG_CHARS } from "./anomalyBody.js";

/** The device's severity thresholds (config machines[].thresholds), probabilities in (0, 1), rising. */
export interface SeverityThresholds {
  readonly low: number;
  readonly medium: number;
  readonly high: number;
  readonly critical: number;
}

/**
 * What an episode is kept per. The generic findings, "signal-outlier" (streaming, one tag left its
 * baseline) and "multivariate" (isolation forest, autoencoder: the tags' combination was never
 * seen), share one key, "behaviour": when a machine misbehaves both kinds fire on the same
 * readings, and two alerts for one fault is what item 3's "one fault is one alert" rules out. The
 * typed findings of the power and gateway profiles (item 2) name a cause a technician acts on
 * differently (overload vs voltage sag), so each keeps its own episode even when they coincide.
 */
export type EpisodeKey = Exclude<AnomalyType, "signal-outlier" | "multivariate"> | "behaviour";

export function episodeKeyOf(type: AnomalyType): EpisodeKey {
  return type === "signal-outlier" || type === "multivariate" ? "behaviour" : type;
}

/** Every key, in a fixed order (the order an engine emits records of one reading in). */
export const EPISODE_KEYS: readonly EpisodeKey[] = [...new Set(ANOMALY_TYPES.map(episodeKeyOf))];

/**
 * How much a second (third, ...) detector's agreement adds, from 0 (the combined probability is the
 * strongest detector's: agreement adds nothing) to 1 (noisy-OR, 1 - prod(1 - p_i): detectors
 * treated as independent witnesses).
 *
 * Why 0.5 and not noisy-OR: our detectors are not independent. They read the same tags of the same
 * reading (a spindle overload moves power and current, so streaming, the forest and the autoencoder
 * all see it), and noisy-OR would turn two detectors at a LOW 0.6 into 0.84, a MEDIUM alert made
 * of correlation. Why not plain max: agreement of differently built models is real evidence (issue
 * #6's seeds ran an Isolation Forest + LSTM ensemble for that reason). Half weight in log-odds of
 * "normal" keeps the strongest detector's verdict as the floor and lets agreement lift it: two at
 * 0.6 give 0.75, two at 0.9 give 0.97, one alone is unchanged (so backtest and alert agree).
 */
export const DEFAULT_AGREEMENT_WEIGHT = 0.5;

/**
 * Combines per-detector probabilities: 1 - (1 - p_max) * prod_{others} (1 - p_i)^w. Never below the
 * largest input, never above their noisy-OR, monotone in each input, in [0, 1].
 */
export function combineProbabilities(probabilities: readonly number[], agreementWeight: number): number {
  if (probabilities.length === 0) {
    return 0;
  }
  const sorted = [...probabilities].sort((a, b) => b - a);
  let normal = 1 - (sorted[0] as number);
  for (let i = 1; i < sorted.length; i++) {
    normal *= (1 - (sorted[i] as number)) ** agreementWeight;
  }
  return Math.min(1, Math.max(0, 1 - normal));
}

/** The severity a combined probability reaches, or null below LOW (no alert). */
export function severityFor(probability: number, thresholds: SeverityThresholds): Severity | null {
  if (probability >= thresholds.critical) {
    return "CRITICAL";
  }
  if (probability >= thresholds.high) {
    return "HIGH";
  }
  if (probability >= thresholds.medium) {
    return "MEDIUM";
  }
  return probability >= thresholds.low ? "LOW" : null;
}

export function checkThresholds(t: SeverityThresholds): void {
  const values = [t.low, t.medium, t.high, t.critical];
  const ok = values.every((v, i) => v > 0 && v < 1 && (i === 0 || v > (values[i - 1] as number)));
  if (!ok) {
    throw new RangeError(`thresholds must rise within (0, 1): low < medium < high < critical, got ${values}`);
  }
}

/** One alert kind's evidence from one reading. */
export interface Evidence {
  readonly key: EpisodeKey;
  /** The type a record raised now would carry (for "behaviour": multivariate if a model saw it). */
  readonly type: AnomalyType;
  readonly probability: number;
  readonly severity: Severity | null;
  /** One verdict per detector (its strongest finding), strongest first. */
  readonly detectors: readonly DetectorVerdict[];
  /** The heaviest tags over all the key's findings, heaviest first, at most MAX_BODY_TAGS. */
  readonly tags: readonly BodyTag[];
}

const finite = (v: number | undefined): boolean => v === undefined || Number.isFinite(v);

/**
 * Can a finding enter the ensemble? Anything non-finite or out of range is refused whole (and
 * counted by the engine): it is a detector bug, and a NaN probability would poison every max and
 * product it touched (issue #6 must-show: non-finite values never poison state).
 */
export function isUsableFinding(f: Finding): boolean {
  return (
    DETECTOR_KINDS.includes(f.detector) &&
    ANOMALY_TYPES.includes(f.type) &&
    Number.isFinite(f.probability) &&
    f.probability >= 0 &&
    f.probability <= 1 &&
    Number.isFinite(f.score) &&
    f.tags.length > 0 &&
    f.tags.every(
      (t) =>
        t.tag.length > 0 &&
        t.tag.length <= MAX_TAG_CHARS &&
        Number.isFinite(t.weight) &&
        t.weight >= 0 &&
        t.weight <= 1 &&
        finite(t.value) &&
        finite(t.expected),
    )
  );
}

/**
 * Groups usable findings by episode key and combines each group. Per detector only its strongest
 * finding counts (several streaming tags of one fault are one witness, not several); across
 * detectors combineProbabilities applies.
 */
export function combineFindings(
  findings: readonly Finding[],
  thresholds: SeverityThresholds,
  agreementWeight: number,
): Evidence[] {
  const groups = new Map<EpisodeKey, Finding[]>();
  for (const finding of findings) {
    const key = episodeKeyOf(finding.type);
    const group = groups.get(key);
    if (group === undefined) {
      groups.set(key, [finding]);
    } else {
      group.push(finding);
    }
  }
  const out: Evidence[] = [];
  for (const key of EPISODE_KEYS) {
    const group = groups.get(key);
    if (group !== undefined) {
      out.push(combineGroup(key, group, thresholds, agreementWeight));
    }
  }
  return out;
}

function combineGroup(
  key: EpisodeKey,
  group: readonly Finding[],
  thresholds: SeverityThresholds,
  agreementWeight: number,
): Evidence {
  const strongest = new Map<Finding["detector"], Finding>();
  for (const f of group) {
    const held = strongest.get(f.detector);
    if (held === undefined || f.probability > held.probability) {
      strongest.set(f.detector, f);
    }
  }
  const detectors = [...strongest.values()]
    .sort((a, b) => b.probability - a.probability || order(a.detector) - order(b.detector))
    .map((f) => ({ detector: f.detector, probability: f.probability, score: f.score + 0 }));
  const probability = combineProbabilities(
    detectors.map((d) => d.probability),
    agreementWeight,
  );
  const type: AnomalyType =
    key !== "behaviour"
      ? key
      : group.some((f) => f.type === "multivariate")
        ? "multivariate"
        : "signal-outlier";
  return {
    key,
    type,
    probability,
    severity: severityFor(probability, thresholds),
    detectors,
    tags: mergeTags(group),
  };
}

const order = (d: Finding["detector"]): number => DETECTOR_KINDS.indexOf(d);

// "+ 0" turns -0 into 0: JSON writes -0 as 0, and a record must read back equal to what was sent.

/**
 * Merges tag weights over the findings, each finding's weights scaled by its probability, so a tag
 * two strong detectors blame outranks one a weak detector blames. The merged weights are shares of
 * all the evidence (they sum to about 1 before the list is cut to MAX_BODY_TAGS). A tag's value and
 * expected value come from its heaviest contribution that states them.
 */
export function mergeTags(findings: readonly Finding[]): BodyTag[] {
  interface Merged {
    weight: number;
    numbersFrom: number;
    value?: number;
    expected?: number;
  }
  const merged = new Map<string, Merged>();
  let total = 0;
  for (const f of findings) {
    for (const t of f.tags) {
      const share = f.probability * t.weight;
      total += share;
      let m = merged.get(t.tag);
      if (m === undefined) {
        m = { weight: 0, numbersFrom: -1 };
        merged.set(t.tag, m);
      }
      m.weight += share;
      if (t.value !== undefined && share > m.numbersFrom) {
        m.numbersFrom = share;
        m.value = t.value + 0;
        if (t.expected === undefined) {
          delete m.expected;
        } else {
          m.expected = t.expected + 0;
        }
      }
    }
  }
  const ranked = [...merged.entries()].sort(([ta, a], [tb, b]) => b.weight - a.weight || (ta < tb ? -1 : 1));
  return ranked.slice(0, MAX_BODY_TAGS).map(([tag, m]) => ({
    tag,
    // Four decimals: a share, not a measurement (0.7 rather than 0.7000000000000001 on the wire).
    // All findings at probability 0 (below any threshold, but possible): equal shares.
    weight: roundShare(total > 0 ? Math.min(1, m.weight / total) : 1 / merged.size),
    ...(m.value === undefined ? {} : { value: m.value }),
    ...(m.expected === undefined ? {} : { expected: m.expected }),
  }));
}

const roundShare = (share: number): number => Math.round(share * 10_000) / 10_000;
