/**
 * The adapter shared by the per-device vector models (isolation forest, autoencoder; issue #6
 * items 1b and 1c): when a sample brings a value of one of the features, build the vector from the
 * machine's holds and score it; a vector with a missing feature is not scored (counted). The raw
 * score becomes a probability through anomalyProbability (exceedance.ts), and the tags that
 * drove it come from the model's own attribution.
 */
import type { DetectorKind, Finding, TagContribution } from "../findings.js";
import { anomalyProbability, type ScoreDistribution } from "./exceedance.js";
import { formatNumber, type MachineDetector, REPORT_FLOOR } from "./machineDetector.js";
import type { TagHold, TagUpdate } from "./tagHold.js";

/** What the adapter needs of a fitted vector model. */
export interface VectorModel {
  /** Raw score of one vector (higher is more anomalous); undefined when it cannot be scored. */
  score(row: Float64Array): number | undefined;
  /** The tags that drove a vector's score, heaviest first. */
  explain(row: Float64Array): readonly TagContribution[];
  /** Its training scores' quantiles and threshold percentile. */
  readonly distribution: ScoreDistribution;
  /** The raw score at the threshold percentile, for explanations. */
  readonly threshold: number;
}

export interface VectorDetectorStats {
  readonly scored: number;
  /** Readings of a feature when another feature had no usable value. */
  readonly incomplete: number;
}

export class VectorDetector implements MachineDetector {
  readonly #row: Float64Array;
  readonly #features: ReadonlySet<string>;
  #scored = 0;
  #incomplete = 0;

  constructor(
    readonly kind: Extract<DetectorKind, "isolation-forest" | "autoencoder">,
    readonly features: readonly string[],
    readonly model: VectorModel,
    private readonly label: string,
  ) {
    this.#row = new Float64Array(features.length);
    this.#features = new Set(features);
  }

  observe(_ts: number, updates: readonly TagUpdate[], hold: TagHold): Finding[] | undefined {
    if (!updates.some((update) => this.#features.has(update.tag))) {
      return undefined;
    }
    if (!hold.vector(this.features, this.#row)) {
      this.#incomplete++;
      return [];
    }
    const score = this.model.score(this.#row);
    if (score === undefined) {
      this.#incomplete++;
      return [];
    }
    this.#scored++;
    const probability = anomalyProbability(score, this.model.distribution);
    if (probability < REPORT_FLOOR) {
      return [];
    }
    const tags = this.model.explain(this.#row);
    const named = tags
      .slice(0, 3)
      .map(
        (t) =>
          `${t.tag} ${formatNumber(t.value ?? Number.NaN)}${t.expected === undefined ? "" : ` (typical ${formatNumber(t.expected)})`}`,
      );
    return [
      {
        detector: this.kind,
        type: "multivariate",
        probability,
        score,
        tags,
        explanation: `${this.label} score ${formatNumber(score)} over its threshold ${formatNumber(this.model.threshold)}, driven by ${named.join(", ")}`,
      },
    ];
  }

  stats(): VectorDetectorStats {
    return { scored: this.#scored, incomplete: this.#incomplete };
  }
}
