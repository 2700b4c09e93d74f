/**
 * The isolation forest as a machine's vector model (issue #6 item 1b): the forest, the per-feature
 * training statistics that name the tags behind a score (featureStats.ts), and the threshold at
 * the configured percentile of the training scores. Stored as the `model` of
 * <device>/isolation-forest.json; fromJSON validates every part.
 */
import * as z from "zod";
import type { TagContribution } from "../findings.js";
import { ModelFormatError } from "../isolationForest/forestJson.js";
import { IsolationForest } from "../isolationForest/isolationForest.js";
import type { ScoreDistribution } from "./exceedance.js";
import { contributions, type FeatureStats } from "./featureStats.js";
import type { VectorModel } from "./vectorDetector.js";

const finite = z.number().refine(Number.isFinite, { error: "not a finite number" });

const wrapperSchema = z.strictObject({
  forest: z.unknown(),
  features: z.array(z.string().min(1)).min(1),
  featureStats: z.strictObject({ medians: z.array(finite), scales: z.array(finite.positive()) }),
  thresholdPercentile: z.number().min(50).max(100),
});

export type ForestVectorModelJson = z.output<typeof wrapperSchema>;

export class ForestVectorModel implements VectorModel {
  readonly threshold: number;
  readonly medianScore: number;
  readonly distribution: ScoreDistribution;

  constructor(
    readonly forest: IsolationForest,
    readonly features: readonly string[],
    readonly featureStats: FeatureStats,
    readonly thresholdPercentile: number,
  ) {
    if (features.length !== forest.dims || featureStats.medians.length !== forest.dims) {
      throw new ModelFormatError(
        `the forest has ${forest.dims} features, the model names ${features.length} and has stats for ${featureStats.medians.length}`,
      );
    }
    this.threshold = forest.scoreAtPercentile(thresholdPercentile);
    this.distribution = { quantiles: forest.scoreQuantiles, thresholdPercentile };
    this.medianScore = forest.scoreAtPercentile(50);
  }

  static fromJSON(json: unknown): ForestVectorModel {
    const parsed = wrapperSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ModelFormatError(`wrapper: ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`);
    }
    const { forest, features, featureStats, thresholdPercentile } = parsed.data;
    return new ForestVectorModel(
      IsolationForest.fromJSON(forest),
      features,
      featureStats,
      thresholdPercentile,
    );
  }

  score(row: Float64Array): number | undefined {
    return this.forest.score(row);
  }

  explain(row: Float64Array): TagContribution[] {
    return contributions(this.features, row, this.featureStats);
  }

  toJSON(): ForestVectorModelJson {
    return {
      forest: this.forest.toJSON(),
      features: [...this.features],
      featureStats: { medians: [...this.featureStats.medians], scales: [...this.featureStats.scales] },
      thresholdPercentile: this.thresholdPercentile,
    };
  }
}
