/**
 * What every detector of issue #6 says about one reading, and the words the alerts stage speaks.
 * Detectors differ inside (a rolling median, a forest, an autoencoder, learnt power states) but
 * report in this one shape, so the ensemble (alerts/) can combine them, weigh them against the
 * machine's thresholds and name the tags that drove an alert.
 */

/** Which detector produced a finding; also the model file name in the models directory. */
export const DETECTOR_KINDS = [
  "streaming",
  "isolation-forest",
  "autoencoder",
  "power-profile",
  "gateway-profile",
] as const;
export type DetectorKind = (typeof DETECTOR_KINDS)[number];

/**
 * The anomaly's type (issue #6 items 2 and 3). The generic detectors report a signal that left
 * its baseline (streaming) or a combination of tags never seen in training (isolation forest,
 * autoencoder); the profiles type what they find.
 */
export const ANOMALY_TYPES = [
  // generic
  "signal-outlier",
  "multivariate",
  // machine power profile
  "overload",
  "idle-draw",
  "voltage-sag",
  "voltage-swell",
  "power-factor-drop",
  "outside-schedule",
  // the gateway's own profile
  "crypto-mining",
  "botnet-egress",
  "overheating",
] as const;
export type AnomalyType = (typeof ANOMALY_TYPES)[number];

export const SEVERITIES = ["LOW", "MEDIUM", "HIGH", "CRITICAL"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** How much one tag drove a finding. */
export interface TagContribution {
  readonly tag: string;
  /** Share of the finding this tag explains, in [0, 1]; a finding's weights sum to about 1. */
  readonly weight: number;
  /** The value seen, when one tag's value says it (a streaming outlier, an overload). */
  readonly value?: number;
  /** What was expected instead (the baseline, the band's edge). */
  readonly expected?: number;
}

/** One detector's verdict on one reading of one device; detectors return none when all is normal. */
export interface Finding {
  readonly detector: DetectorKind;
  readonly type: AnomalyType;
  /** Probability that this reading is anomalous, in [0, 1]; the thresholds apply to it. */
  readonly probability: number;
  /** The detector's raw score (robust z, path-length score, reconstruction error, ...), finite. */
  readonly score: number;
  /** The tags that drove it, heaviest first; never empty. */
  readonly tags: readonly TagContribution[];
  /** One plain sentence for a technician, e.g. "power 41.2 kW above the loaded band 18.0-30.0 kW". */
  readonly explanation: string;
}
