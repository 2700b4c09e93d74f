/**
 * Runs trainMachine in a worker thread and resolves with its results (issue #6 item 5). The rows
 * are transferred, not copied, so a 50 MB training set does not exist twice. A worker that dies or
 * exceeds `timeoutMs` is terminated and the training fails; the live models stay as they were.
 */
import { Worker } from "node:worker_threads";
import type { TrainerInput, TrainingProgress } from "./trainers.js";
import type { TrainingResult } from "./trainMachine.js";
import type { WorkerMessage } from "./workerProtocol.js";

export interface WorkerOptions {
  readonly timeoutMs: number;
  /** Cap on the worker's JS heap (a Pi with 1 GB must not be pushed into swap by a retrain). */
  readonly maxHeapMb?: number;
  readonly signal?: AbortSignal;
}

const WORKER_URL = new URL("./trainWorker.js", import.meta.url);

export function trainInWorker(
  inputs: readonly TrainerInput[],
  progress: TrainingProgress,
  options: WorkerOptions,
): Promise<TrainingResult[]> {
  if (options.signal?.aborted === true) {
    return Promise.reject(new Error("training cancelled"));
  }
  const transfer = inputs.flatMap((input) => [input.rows.buffer, input.times.buffer]) as ArrayBuffer[];
  const worker = new Worker(WORKER_URL, {
    workerData: { inputs },
    transferList: transfer,
    resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb ?? 256 },
  });
  return new Promise<TrainingResult[]>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, results?: TrainingResult[]) => {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      void worker.terminate();
      if (error === undefined) {
        resolve(results ?? []);
      } else {
        reject(error);
      }
    };
    const onAbort = () => finish(new Error("training cancelled"));
    const timer = setTimeout(
      () => finish(new Error(`training took longer than ${options.timeoutMs} ms; stopped`)),
      options.timeoutMs,
    );
    timer.unref();
    options.signal?.addEventListener("abort", onAbort);
    worker.on("message", (message: WorkerMessage) => {
      switch (message.type) {
        case "progress":
          progress(message.kind, message.fraction, message.status);
          break;
        case "done":
          finish(undefined, message.results);
          break;
        case "failed":
          finish(new Error(`training failed: ${message.reason}`));
          break;
      }
    });
    worker.on("error", (error) => finish(error));
    worker.on("exit", (code) => finish(new Error(`training worker exited with code ${code}`)));
  });
}
