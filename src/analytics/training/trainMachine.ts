/**
 * Trains every trainable detector of one machine from its collected history (issue #6 item 5).
 * One detector's failure (too little data, a fit that diverged) does not stop the others: each
 * result says trained or why not, and the caller keeps the previous model of a failed one.
 */
import type { StoredModel } from "../models/modelStore.js";
import { trainAutoencoderModel, trainGatewayProfile, trainPowerProfile } from "./profileTrainers.js";
import type { Trainer, TrainerInput, TrainingProgress } from "./trainers.js";
import { NotEnoughDataError, trainIsolationForest } from "./trainers.js";
import type { TrainableKind } from "./trainingPlan.js";

export type TrainingResult =
  | { readonly kind: TrainableKind; readonly ok: true; readonly stored: StoredModel }
  | {
      readonly kind: TrainableKind;
      readonly ok: false;
      readonly reason: string;
      readonly notEnoughData: boolean;
    };

const TRAINERS: ReadonlyMap<TrainableKind, Trainer> = new Map<TrainableKind, Trainer>([
  ["isolation-forest", trainIsolationForest],
  ["autoencoder", trainAutoencoderModel],
  ["power-profile", trainPowerProfile],
  ["gateway-profile", trainGatewayProfile],
]);

export async function trainMachine(
  inputs: readonly TrainerInput[],
  progress: TrainingProgress,
): Promise<TrainingResult[]> {
  const results: TrainingResult[] = [];
  for (const input of inputs) {
    const kind = input.plan.kind;
    const trainer = TRAINERS.get(kind);
    if (trainer === undefined) {
      results.push({ kind, ok: false, reason: `no trainer for ${kind}`, notEnoughData: false });
      continue;
    }
    try {
      results.push({ kind, ok: true, stored: await trainer(input, progress) });
    } catch (error) {
      results.push({
        kind,
        ok: false,
        reason: error instanceof Error ? error.message : String(error),
        notEnoughData: error instanceof NotEnoughDataError,
      });
    }
  }
  return results;
}
