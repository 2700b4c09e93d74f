/**
 * The demo's trained models (issue #7 item 4: "injects a fault after about 20 s so that an
 * anomaly appears"). A gateway learns for analytics.learningPeriod (24 h) before it alerts; a
 * demo has a minute. So before the daemon starts, the demo runs a second copy of the plant
 * through one simulated day (no faults, its own seed stream) and trains the configured models of
 * each analytics machine on it, exactly as `train --from-csv` would on an export of that day
 * (collectTrainings, trainMachine, ModelStore: the daemon's own path), into the models directory
 * the daemon loads at start. The power profile then knows the drive's idle and shift states and
 * its typed rules (overload, voltage sag, ...) speak from the first reading.
 *
 * The tags are matched to the plant's signals by register (unit id, table, address), so a demo
 * config that renames a tag still trains on the right signal.
 */

import { ModelStore } from "../analytics/models/modelStore.js";
import { collectTrainings, type RetrainRequest } from "../analytics/stage/retrainer.js";
import type { HistorySource } from "../analytics/training/historySource.js";
import { planTraining } from "../analytics/training/trainingPlan.js";
import { trainMachine } from "../analytics/training/trainMachine.js";
import type { Config } from "../config/schema/index.js";
import type { Sample, TagReading } from "../records.js";
import { Plant } from "../simulator/plant.js";
import type { PlantSpec } from "../simulator/plantSchema.js";
import { signalsOf } from "../simulator/plantSignals.js";

/** One simulated day: the drive's idle night and both shifts with the daily swing. */
export const HISTORY_HOURS = 24;
/** A reading every 2 s: 43,200 per device, under the collector's 65,536 rows (no decimation). */
const HISTORY_INTERVAL_S = 2;
/** The history plant steps a second at a time (the live one 100 ms): 10x fewer steps, same noise. */
const HISTORY_STEP_MS = 1_000;

export interface TrainedModel {
  readonly device: string;
  readonly kind: string;
  readonly ok: boolean;
  /** "3 states: idle, running-1, running-2" or why it could not be trained. */
  readonly summary: string;
}

/** device tag -> plant signal of one device, matched by unit id and register. */
interface TagSource {
  readonly machine: string;
  readonly signals: ReadonlyMap<string, string>;
}

export function tagSources(config: Config, plant: PlantSpec): Map<string, TagSource> {
  const sources = new Map<string, TagSource>();
  for (const device of config.devices) {
    if (device.protocol !== "modbus-tcp") {
      continue;
    }
    const index = plant.machines.findIndex((m) => m.unitId === device.unitId);
    const machine = plant.machines[index];
    if (machine === undefined) {
      continue;
    }
    const byRegister = new Map(
      signalsOf(machine, index).map((s) => [`${s.register.table}:${s.register.address}`, s.name]),
    );
    const signals = new Map<string, string>();
    for (const tag of device.pollGroups.flatMap((group) => group.tags)) {
      const signal = byRegister.get(`${tag.table}:${tag.address}`);
      if (signal !== undefined) {
        signals.set(tag.name, signal);
      }
    }
    sources.set(device.name, { machine: machine.name, signals });
  }
  return sources;
}

/**
 * The day before the live plant's start, as samples stamped so that the day ends at `endTs`.
 * A generator: the samples are made as the collector reads them, never held all at once.
 */
function* simulatedDay(
  plant: PlantSpec,
  sources: ReadonlyMap<string, TagSource>,
  devices: ReadonlySet<string>,
  endTs: number,
): Generator<Sample> {
  const dayMs = HISTORY_HOURS * 3_600_000;
  const startAt = new Date(Date.parse(plant.startAt) - dayMs).toISOString();
  // A different seed: the history must not replay the live run's noise draw for draw.
  const history = new Plant({ ...plant, startAt, step: HISTORY_STEP_MS, faults: [], seed: plant.seed + 1 });
  const steps = (HISTORY_HOURS * 3_600) / HISTORY_INTERVAL_S;
  for (let i = 1; i <= steps; i++) {
    const elapsedS = i * HISTORY_INTERVAL_S;
    history.advanceTo(elapsedS);
    const ts = endTs - dayMs + elapsedS * 1_000;
    for (const [device, source] of sources) {
      if (!devices.has(device)) {
        continue;
      }
      const signalValues = history.values(source.machine);
      const values: Record<string, TagReading> = {};
      for (const [tag, signal] of source.signals) {
        const value = signalValues[signal];
        if (value !== undefined) {
          values[tag] = { value, quality: "good" };
        }
      }
      yield { kind: "sample", device, ts, clockSynced: true, values };
    }
  }
}

/** Trains every trainable detector of config.analytics on a simulated day; saves them for the daemon. */
export async function trainDemoModels(
  config: Config,
  plant: PlantSpec,
  now: number,
): Promise<TrainedModel[]> {
  const analytics = config.analytics;
  if (analytics === undefined || analytics.modelDir === undefined) {
    return [];
  }
  const sources = tagSources(config, plant);
  const machines = analytics.machines.filter(
    (machine) => planTraining(machine).vectors.length > 0 && sources.has(machine.device),
  );
  const history: HistorySource = {
    async *samples(devices) {
      const wanted = typeof devices === "string" ? new Set([devices]) : devices;
      yield* simulatedDay(plant, sources, wanted, now);
    },
  };
  const requests: RetrainRequest[] = machines.map((machine) => ({
    machine,
    plan: planTraining(machine),
    history,
    fromTs: Number.NEGATIVE_INFINITY,
    now,
    timeZone: config.gateway.timezone,
    shifts: analytics.shifts,
    backend: analytics.backend,
    // What `train --from-csv` records: history from outside the ledger.
    source: "csv",
    minSamples: analytics.training.minSamples,
  }));
  const collected = await collectTrainings(requests);
  const store = new ModelStore(analytics.modelDir);
  const trained: TrainedModel[] = [];
  for (const [i, machine] of machines.entries()) {
    const { inputs, skipped } = collected[i] ?? { inputs: [], skipped: [] };
    for (const result of [...skipped, ...(await trainMachine(inputs, () => undefined))]) {
      if (!result.ok) {
        trained.push({ device: machine.device, kind: result.kind, ok: false, summary: result.reason });
        continue;
      }
      await store.saveModel(result.stored);
      const notes = result.stored.card.notes;
      trained.push({
        device: machine.device,
        kind: result.kind,
        ok: true,
        summary: `trained on ${result.stored.card.training.rows} readings of a simulated day${notes.length > 0 ? `: ${notes.join("; ")}` : ""}`,
      });
    }
  }
  return trained;
}
