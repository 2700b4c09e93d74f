/** The autoencoder as a machine's vector model (issue #6 item 1c): its JS forward pass scores; tfjs is not loaded. */
import { Autoencoder } from "../autoencoder/index.js";
import type { TagContribution } from "../findings.js";
import type { ScoreDistribution } from "./exceedance.js";
import type { VectorModel } from "./vectorDetector.js";

export class AutoencoderVectorModel implements VectorModel {
  readonly distribution: ScoreDistribution;
  readonly threshold: number;

  constructor(readonly model: Autoencoder) {
    this.distribution = { quantiles: model.errorQuantiles, thresholdPercentile: model.thresholdPercentile };
    this.threshold = model.threshold;
  }

  static fromJSON(json: unknown): AutoencoderVectorModel {
    return new AutoencoderVectorModel(Autoencoder.fromJSON(json));
  }

  get features(): readonly string[] {
    return this.model.features;
  }

  score(row: Float64Array): number | undefined {
    return this.model.score(row);
  }

  explain(row: Float64Array): readonly TagContribution[] {
    return this.model.explain(row)?.tags ?? [];
  }
}
