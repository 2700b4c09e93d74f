/** Messages from the training worker (trainWorker.ts) to the thread that started it. */
import type { TrainableKind } from "./trainingPlan.js";
import type { TrainingResult } from "./trainMachine.js";

export type WorkerMessage =
  | {
      readonly type: "progress";
      readonly kind: TrainableKind;
      readonly fraction: number;
      readonly status: string;
    }
  | { readonly type: "done"; readonly results: TrainingResult[] }
  | { readonly type: "failed"; readonly reason: string };
