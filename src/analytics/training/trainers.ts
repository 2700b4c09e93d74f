/**
 * One trainer per trainable detector kind (issue #6 item 5): collected rows in, a model and its
 * card out. Pure computation (no I/O), so the daemon can run it in a worker thread and `train` in
 * the main one. Every trainer holds out every 10th row (spread over the whole window, not the last
 * days only, which may be unusual) to report validation figures on data the model did not see.
 */
import { packageVersion } from "../../version.js";
import { fitIsolationForest } from "../isolationForest/isolationForest.js";
import { featureStats } from "../machine/featureStats.js";
import { ForestVectorModel } from "../machine/forestVectorModel.js";
import type { AnalyticsConfig, MachineConfig, ShiftConfig } from "../machine/machineConfig.js";
import type { ModelCard } from "../models/modelCard.js";
import type { StoredModel } from "../models/modelStore.js";
import type { TrainableKind, VectorPlan } from "./trainingPlan.js";

export interface TrainerInput {
  readonly machine: MachineConfig;
  readonly plan: VectorPlan;
  /** Row-major, plan.tags.length wide, time-ordered. */
  readonly rows: Float64Array;
  readonly times: Float64Array;
  /** Vectors left out while collecting (a required tag unknown). */
  readonly incomplete: number;
  readonly source: "ledger" | "csv";
  readonly timeZone: string;
  /** analytics.shifts, for the power profile's schedule. */
  readonly shifts: readonly ShiftConfig[];
  /** analytics.backend, for the autoencoder. */
  readonly backend: AnalyticsConfig["backend"];
  /** Wall-clock ms, for the card. */
  readonly now: number;
}

/** Detector kind, fraction done in [0, 1], and a short status ("epoch 12/50, loss 0.031"). */
export type TrainingProgress = (kind: TrainableKind, fraction: number, status: string) => void;

export type Trainer = (input: TrainerInput, progress: TrainingProgress) => StoredModel | Promise<StoredModel>;

/** Not enough usable history to train this detector; the caller keeps the previous model. */
export class NotEnoughDataError extends Error {
  override readonly name = "NotEnoughDataError";
}

/** Splits rows into fit and validation sets: every 10th row validates. */
export function holdOut(rows: Float64Array, dims: number): { fit: Float64Array; validation: Float64Array } {
  const count = rows.length / dims;
  const validationCount = Math.floor(count / 10);
  const fit = new Float64Array((count - validationCount) * dims);
  const validation = new Float64Array(validationCount * dims);
  let f = 0;
  let v = 0;
  for (let r = 0; r < count; r++) {
    const row = rows.subarray(r * dims, (r + 1) * dims);
    if (r % 10 === 9) {
      validation.set(row, v++ * dims);
    } else {
      fit.set(row, f++ * dims);
    }
  }
  return { fit, validation };
}

export function cardFor(
  input: TrainerInput,
  fields: Pick<ModelCard, "threshold" | "thresholdPercentile" | "validation" | "seed"> & {
    rows: number;
    skipped: number;
    notes?: string[];
  },
): ModelCard {
  const count = input.times.length;
  return {
    format: "edgewarden.model-card",
    version: 1,
    device: input.machine.device,
    kind: input.plan.kind,
    features: input.plan.tags.filter((tag) => tag !== ""),
    configDigest: input.plan.configDigest,
    trainedAt: new Date(input.now).toISOString(),
    software: packageVersion(),
    training: {
      source: input.source,
      from: count === 0 ? input.now : (input.times[0] as number),
      to: count === 0 ? input.now : (input.times[count - 1] as number),
      rows: fields.rows,
      skipped: fields.skipped,
    },
    threshold: fields.threshold,
    thresholdPercentile: fields.thresholdPercentile,
    validation: fields.validation,
    seed: fields.seed,
    notes: fields.notes ?? [],
  };
}

export function requireRows(input: TrainerInput, minimum: number): number {
  const count = input.rows.length / input.plan.tags.length;
  if (count < minimum) {
    throw new NotEnoughDataError(
      `${input.plan.kind} of ${input.machine.device}: ${count} usable vectors, at least ${minimum} needed (${input.incomplete} incomplete)`,
    );
  }
  return count;
}

export const trainIsolationForest: Trainer = (input, progress) => {
  const settings = input.machine.detectors.isolationForest;
  if (settings === undefined) {
    throw new RangeError("no isolationForest settings");
  }
  const dims = input.plan.tags.length;
  requireRows(input, 20);
  progress("isolation-forest", 0, "growing trees");
  const { fit, validation } = holdOut(input.rows, dims);
  const forest = fitIsolationForest({ values: fit, dims }, settings);
  const model = new ForestVectorModel(
    forest,
    input.plan.tags,
    featureStats(fit, dims),
    settings.thresholdPercentile,
  );
  const scores = forest.scoreBatch({ values: validation, dims });
  let over = 0;
  let scored = 0;
  for (const score of scores) {
    if (!Number.isNaN(score)) {
      scored++;
      over += score > model.threshold ? 1 : 0;
    }
  }
  progress("isolation-forest", 1, `${settings.trees} trees`);
  return {
    card: cardFor(input, {
      rows: forest.training.rows,
      skipped: forest.training.skippedRows + input.incomplete,
      threshold: model.threshold,
      thresholdPercentile: settings.thresholdPercentile,
      seed: settings.seed,
      validation: {
        validationRows: scored,
        validationFalseAlarmRate: scored === 0 ? 0 : over / scored,
        trainingMedianScore: model.medianScore,
      },
    }),
    model: model.toJSON(),
  };
};
