/**
 * Retraining one machine off the poll path (issue #6 item 5): read its history from the
 * HistorySource in batches (the main thread owns the ledger; each batch yields to the event loop),
 * collect bounded training vectors (MachineHistory), fit in a worker thread, save each model with
 * its card (temp file + rename), then swap the new detectors in between two samples. A detector
 * whose training fails keeps its previous model.
 */
import type { EventRecord } from "../../records.js";
import type { AnalyticsConfig, MachineConfig, ShiftConfig } from "../machine/machineConfig.js";
import type { MachineDetector } from "../machine/machineDetector.js";
import type { StreamingTagsDetector } from "../machine/streamingTags.js";
import type { ModelStore, StoredModel } from "../models/modelStore.js";
import type { HistorySource } from "../training/historySource.js";
import { type CollectedSeries, MachineHistory } from "../training/machineHistory.js";
import type { TrainerInput, TrainingProgress } from "../training/trainers.js";
import type { TrainingPlan } from "../training/trainingPlan.js";
import type { TrainingResult } from "../training/trainMachine.js";

export interface RetrainRequest {
  readonly machine: MachineConfig;
  readonly plan: TrainingPlan;
  readonly history: HistorySource;
  readonly fromTs: number;
  readonly now: number;
  readonly timeZone: string;
  readonly shifts: readonly ShiftConfig[];
  readonly backend: AnalyticsConfig["backend"];
  readonly source: "ledger" | "csv";
  /** Fewer usable vectors than this: that detector is not trained (analytics.training.minSamples). */
  readonly minSamples: number;
  readonly signal?: AbortSignal;
  /** Streaming detectors to warm on the same history (`train`); the daemon's learn live. */
  readonly warm?: StreamingTagsDetector;
}

/** Fits the inputs; `signal` aborts the fit (the daemon stopping), rejecting the promise. */
export type TrainFn = (
  inputs: readonly TrainerInput[],
  progress: TrainingProgress,
  signal?: AbortSignal,
) => Promise<TrainingResult[]>;

export interface RetrainOutcome {
  readonly device: string;
  readonly samples: number;
  readonly results: readonly TrainingResult[];
}

export interface CollectedTraining {
  readonly inputs: TrainerInput[];
  /** Detectors with too little history: "not enough data" results. */
  readonly skipped: TrainingResult[];
  readonly samples: number;
}

/**
 * Reads the history once for all `requests` (they share its source, window and signal: the first
 * request's), dispatching each sample to its machine, and builds each machine's trainer inputs;
 * one pass over days of log, however many machines there are.
 */
export async function collectTrainings(requests: readonly RetrainRequest[]): Promise<CollectedTraining[]> {
  const [first] = requests;
  if (first === undefined) {
    return [];
  }
  const collectors = requests.map((request) => ({ request, history: new MachineHistory(request.plan) }));
  const byDevice = new Map(collectors.map((collector) => [collector.request.plan.device, collector]));
  for await (const sample of first.history.samples(new Set(byDevice.keys()), first.fromTs, first.signal)) {
    const collector = byDevice.get(sample.device);
    if (collector === undefined) {
      continue;
    }
    const updates = collector.history.add(sample);
    if (collector.request.warm !== undefined && updates.length > 0) {
      collector.request.warm.observe(sample.ts, updates);
    }
  }
  return collectors.map(({ request, history }) => inputsOf(request, history));
}

/** The trainer inputs of one machine's history; vectors under minSamples become "not enough data". */
function inputsOf(request: RetrainRequest, history: MachineHistory): CollectedTraining {
  const skipped: TrainingResult[] = [];
  const enough = (collected: CollectedSeries) => {
    if (collected.series.offered >= request.minSamples) {
      return true;
    }
    skipped.push({
      kind: collected.plan.kind,
      ok: false,
      notEnoughData: true,
      reason: `${collected.series.offered} usable vectors since ${new Date(request.fromTs).toISOString()}, at least ${request.minSamples} needed (analytics.training.minSamples)`,
    });
    return false;
  };
  const { machine, source, timeZone, shifts, backend, now } = request;
  const inputs = history.inputs({ machine, source, timeZone, shifts, backend, now }, enough);
  return { inputs, skipped, samples: history.samples };
}

/** Fits one machine's collected history and reports what was trained and what not. */
export async function trainCollected(
  device: string,
  collected: CollectedTraining,
  train: TrainFn,
  progress: TrainingProgress,
  signal?: AbortSignal,
): Promise<RetrainOutcome> {
  signal?.throwIfAborted();
  const { inputs, skipped, samples } = collected;
  const results = inputs.length === 0 ? [] : await train(inputs, progress, signal);
  return { device, samples, results: [...skipped, ...results] };
}

/** Saves the trained models and builds their live detectors; a model that fails either is reported. */
export async function saveAndLoad(
  store: ModelStore,
  results: readonly TrainingResult[],
  load: (stored: StoredModel) => MachineDetector | undefined,
): Promise<{ detectors: MachineDetector[]; failures: { kind: string; reason: string }[] }> {
  const detectors: MachineDetector[] = [];
  const failures: { kind: string; reason: string }[] = [];
  for (const result of results) {
    if (!result.ok) {
      continue;
    }
    try {
      const detector = load(result.stored);
      await store.saveModel(result.stored);
      if (detector !== undefined) {
        detectors.push(detector);
      }
    } catch (error) {
      failures.push({ kind: result.kind, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return { detectors, failures };
}

/** The event that says what a retrain did: which detectors were trained, which not and why. */
export function trainingEvent(
  device: string,
  reason: string,
  outcome: RetrainOutcome,
  failures: readonly { kind: string; reason: string }[],
): Omit<EventRecord, "kind" | "ts" | "clockSynced"> {
  const trained = outcome.results.filter((result) => result.ok).map((result) => result.kind);
  const notTrained = [
    ...outcome.results
      .filter((result) => !result.ok)
      .map((result) => ({ kind: result.kind, reason: result.reason })),
    ...failures,
  ];
  return {
    type: "analytics.trained",
    severity: notTrained.length === 0 ? "info" : "warning",
    message: `models of ${device} trained (${reason}): ${trained.join(", ") || "none"}${notTrained.length === 0 ? "" : `; not trained: ${notTrained.map((n) => n.kind).join(", ")}`}`,
    details: { device, reason, samples: outcome.samples, trained, notTrained },
  };
}

/** The event of a retrain that failed as a whole for `device` (reading history, the worker). */
export function trainingFailedEvent(
  device: string,
  error: unknown,
): Omit<EventRecord, "kind" | "ts" | "clockSynced"> {
  return {
    type: "analytics.training-failed",
    severity: "warning",
    message: `training of ${device} failed; its models stay as they were`,
    details: { device, reason: error instanceof Error ? error.message : String(error) },
  };
}
