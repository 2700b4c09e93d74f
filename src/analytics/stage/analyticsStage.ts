/**
 * The analytics stage (DESIGN.md data flow: sources -> analytics -> ledger; issue #6): every
 * sample a source emits comes through accept(), is appended to the ledger as it is, and is scored
 * by its machine's detectors in the same call (microseconds per sample); anomaly records and OEE
 * samples are appended right behind it. Off the poll path: model training (worker thread, on the
 * cron schedule and when the learning period ends) and saving the run-time state (every
 * saveIntervalMs and at stop).
 *
 * Constructors do no I/O; start() loads models and state; stop() saves state and stops training.
 */

import { machineSchema } from "../../config/schema/analytics.js";
import type { Sample } from "../../records.js";
import type { DetectorKind } from "../findings.js";
import type { MachineAnalytics } from "../machine/machineAnalytics.js";
import { buildGatewayMachine, buildMachine, detectorFromModel } from "../machine/machineBuilder.js";
import type { AnalyticsConfig, DeviceConfig, MachineConfig } from "../machine/machineConfig.js";
import { deviceTagNames } from "../machine/machineConfig.js";
import { ModelFileError, ModelStore, type StoredModel } from "../models/modelStore.js";
import { gatewayTrainingPlan, planTraining, type TrainingPlan } from "../training/trainingPlan.js";
import { endRemovedDevices } from "./removedDevices.js";
import {
  type CollectedTraining,
  collectTrainings,
  type RetrainOutcome,
  saveAndLoad,
  type TrainFn,
  trainCollected,
  trainingEvent,
  trainingFailedEvent,
} from "./retrainer.js";
import { RetrainSchedule } from "./retrainSchedule.js";
import type { StagePorts } from "./stagePorts.js";
import { WorkloadMeter } from "./workloadMeter.js";

export interface StageOptions {
  readonly analytics: AnalyticsConfig;
  readonly devices: readonly DeviceConfig[];
  readonly timeZone: string;
  /** How often the run-time state is saved (besides at stop). */
  readonly saveIntervalMs?: number;
  /** How often OEE figures and the learning period are looked at. */
  readonly tickIntervalMs?: number;
  /** Trains in a worker thread by default; tests and `train` may train in-thread. */
  readonly train: TrainFn;
  /** The self-health device, when it runs and analytics.gatewayProfile is on: the gateway's profile. */
  readonly gatewayDevice?: string | undefined;
}

export interface StageStats {
  readonly accepted: number;
  readonly scored: number;
  readonly anomalies: number;
  readonly derivedSamples: number;
  readonly detectorErrors: number;
  readonly retrains: number;
  readonly learning: boolean;
}

/** Hourly: a 1 Hz tag's baseline is ~40 KB, and an SD card should not rewrite 100 of them every few minutes. */
const DEFAULT_SAVE_INTERVAL_MS = 60 * 60_000;
const DEFAULT_TICK_INTERVAL_MS = 1_000;
/** The workload is recorded once a minute (the rate meters' window). */
const WORKLOAD_INTERVAL_MS = 60_000;

interface StageMachine {
  readonly config: MachineConfig;
  readonly plan: TrainingPlan;
  readonly analytics: MachineAnalytics;
}

export class AnalyticsStage {
  readonly #options: StageOptions;
  readonly #ports: StagePorts;
  readonly #store: ModelStore;
  readonly #machines = new Map<string, StageMachine>();
  readonly #workload = new WorkloadMeter();
  /** The workload now, for the gateway profile; one function for every reading (nothing allocated). */
  readonly #currentWorkload = () => this.#workload.current(this.#ports.clock.monotonicNow());
  #workloadDueAt = 0;
  #learningUntil = 0;
  #timers: NodeJS.Timeout[] = [];
  /** Devices with a configured detector that has no usable model. */
  readonly #untrained = new Set<string>();
  #schedule: RetrainSchedule | undefined;
  #training: Promise<RetrainOutcome[]> | undefined;
  readonly #abort = new AbortController();
  #stats = { accepted: 0, scored: 0, anomalies: 0, derivedSamples: 0, detectorErrors: 0, retrains: 0 };

  constructor(options: StageOptions, ports: StagePorts) {
    this.#options = options;
    this.#ports = ports;
    this.#store = new ModelStore(options.analytics.modelDir ?? "models");
  }

  get learning(): boolean {
    return this.#ports.clock.wallNow() < this.#learningUntil;
  }

  async start(): Promise<void> {
    const { analytics } = this.#options;
    const now = this.#ports.clock.wallNow();
    const meta = await this.#store.meta(now);
    // 0 once over: the "learning ended" step runs once per gateway, not at every restart.
    const until = meta.firstStartTs + analytics.learningPeriod;
    this.#learningUntil = until > now ? until : 0;
    const devices = new Map(this.#options.devices.map((device) => [device.name, device]));
    await this.#store.cleanTemps([
      ...analytics.machines.map((machine) => machine.device),
      ...(this.#options.gatewayDevice === undefined ? [] : [this.#options.gatewayDevice]),
    ]);
    for (const machine of analytics.machines) {
      const device = devices.get(machine.device);
      if (device === undefined || !device.enabled) {
        continue;
      }
      await this.#loadMachine(machine, deviceTagNames(device));
    }
    if (this.#options.gatewayDevice !== undefined && analytics.gatewayProfile) {
      await this.#loadGateway(this.#options.gatewayDevice);
    }
    this.#workloadDueAt = this.#ports.clock.monotonicNow() + WORKLOAD_INTERVAL_MS;
    await endRemovedDevices(this.#store, new Set(this.#machines.keys()), this.#ports);
    this.#timers.push(
      setInterval(() => this.#tick(), this.#options.tickIntervalMs ?? DEFAULT_TICK_INTERVAL_MS),
      setInterval(() => void this.saveState(), this.#options.saveIntervalMs ?? DEFAULT_SAVE_INTERVAL_MS),
    );
    for (const timer of this.#timers) {
      timer.unref();
    }
    this.#schedule = new RetrainSchedule(analytics.training.schedule, this.#options.timeZone, () => {
      void this.retrain("schedule");
    });
    this.#schedule.start();
    if (!this.learning && this.#untrained.size > 0) {
      // Past the learning period with detectors that have no model (a new machine, a changed
      // feature list, a deleted file): train them now rather than at the next scheduled run.
      void this.retrain("missing-models");
    }
    if (this.learning) {
      this.#ports.logger.info(
        { until: new Date(this.#learningUntil).toISOString() },
        "analytics learning: detectors learn and do not alert until then",
      );
    }
  }

  /** The sample sink the sources deliver to: appends, then scores. Never throws. */
  accept(sample: Sample): void {
    this.#stats.accepted++;
    const now = this.#ports.clock.monotonicNow();
    this.#workload.add(now, this.#ports.append.appendSample(sample));
    const machine = this.#machines.get(sample.device);
    if (machine === undefined) {
      return;
    }
    this.#stats.scored++;
    this.#score(machine, sample, now);
  }

  #score(machine: StageMachine, sample: Sample, now: number): void {
    const output = machine.analytics.observe(sample, this.#currentWorkload);
    const failure = machine.analytics.lastError;
    if (failure !== undefined) {
      machine.analytics.lastError = undefined;
      this.#stats.detectorErrors++;
      this.#ports.logger.error(
        { err: failure.error, device: sample.device, detector: failure.kind },
        "detector failed",
      );
    }
    for (const derived of output.derived) {
      this.#stats.derivedSamples++;
      this.#workload.add(now, this.#ports.append.appendSample(derived));
    }
    for (const body of output.anomalies) {
      this.#stats.anomalies++;
      this.#ports.append.appendAnomaly(body, sample.clockSynced);
      // One line per raise, escalation or end (never per reading): the journal tells the story too.
      this.#ports.logger.info(
        { device: body.device, type: body.type, severity: body.severity, state: body.state, id: body.id },
        `anomaly ${body.state}: ${body.explanation}`,
      );
    }
  }

  /**
   * Retrains every machine with a trainable detector, one after another, and swaps the new models
   * in. A retrain already running is joined, not doubled.
   */
  retrain(reason: "schedule" | "learning-ended" | "missing-models" | "request"): Promise<RetrainOutcome[]> {
    this.#training ??= this.#retrainAll(reason).finally(() => {
      this.#training = undefined;
    });
    return this.#training;
  }

  async saveState(): Promise<void> {
    for (const [device, machine] of this.#machines) {
      try {
        await this.#store.saveState(device, machine.analytics.saveState());
      } catch (error) {
        this.#ports.logger.warn({ err: error, device }, "analytics state not saved");
      }
    }
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers) {
      clearInterval(timer);
    }
    this.#timers = [];
    this.#schedule?.stop();
    this.#abort.abort();
    await this.#training?.catch(() => undefined);
    await this.saveState();
  }

  stats(): StageStats {
    return { ...this.#stats, learning: this.learning };
  }

  machine(device: string): MachineAnalytics | undefined {
    return this.#machines.get(device)?.analytics;
  }

  async #loadMachine(machine: MachineConfig, deviceTags: readonly string[]): Promise<void> {
    const plan = planTraining(machine);
    const models = new Map<DetectorKind, StoredModel>();
    for (const vector of plan.vectors) {
      try {
        const stored = await this.#store.loadModel(machine.device, vector.kind);
        if (stored !== undefined) {
          models.set(vector.kind, stored);
        }
      } catch (error) {
        this.#ports.logger.warn(
          {
            device: machine.device,
            detector: vector.kind,
            reason: error instanceof ModelFileError ? error.message : String(error),
          },
          "model not loaded; the detector waits for the next training",
        );
      }
    }
    const state = await this.#store.loadState(machine.device).catch((error: unknown) => {
      this.#ports.logger.warn(
        { err: error, device: machine.device },
        "analytics state not loaded; learning afresh",
      );
      return undefined;
    });
    const built = buildMachine({
      machine,
      deviceTags,
      models,
      state,
      timeZone: this.#options.timeZone,
      shifts: this.#options.analytics.shifts,
      muted: this.learning,
    });
    for (const note of built.notes) {
      this.#ports.logger.warn({ device: machine.device }, note);
    }
    this.#ports.logger.info(
      {
        device: machine.device,
        detectors: built.analytics.detectors.map((detector) => detector.kind),
        untrained: built.untrained,
      },
      "analytics ready",
    );
    if (built.untrained.length > 0) {
      this.#untrained.add(machine.device);
    }
    this.#machines.set(machine.device, { config: machine, plan, analytics: built.analytics });
  }

  async #loadGateway(device: string): Promise<void> {
    const machine = machineSchema.parse({ device });
    const stored = await this.#store.loadModel(device, "gateway-profile").catch((error: unknown) => {
      this.#ports.logger.warn(
        { err: error, device },
        "gateway profile not loaded; absolute limits until retrained",
      );
      return undefined;
    });
    const state = await this.#store.loadState(device).catch(() => undefined);
    const built = buildGatewayMachine({ machine, stored, state, muted: this.learning });
    for (const note of built.notes) {
      this.#ports.logger.warn({ device }, note);
    }
    this.#ports.logger.info(
      { device, detectors: ["gateway-profile"], untrained: built.untrained },
      "analytics ready",
    );
    if (built.untrained.length > 0) {
      this.#untrained.add(device);
    }
    this.#machines.set(device, {
      config: machine,
      plan: gatewayTrainingPlan(device),
      analytics: built.analytics,
    });
  }

  #tick(): void {
    const now = this.#ports.clock.wallNow();
    const monotonic = this.#ports.clock.monotonicNow();
    const gateway = this.#options.gatewayDevice;
    if (gateway !== undefined && monotonic >= this.#workloadDueAt) {
      this.#workloadDueAt = monotonic + WORKLOAD_INTERVAL_MS;
      const sample = this.#workload.sample(gateway, now, this.#ports.clock.wallSynced(), monotonic);
      this.#ports.append.appendSample(sample);
      const machine = this.#machines.get(gateway);
      if (machine !== undefined) {
        this.#score(machine, sample, monotonic);
      }
    }
    for (const machine of this.#machines.values()) {
      if (machine.analytics.alerts.muted && now >= this.#learningUntil) {
        machine.analytics.alerts.setMuted(false);
      }
      for (const sample of machine.analytics.tick(now)) {
        this.#stats.derivedSamples++;
        this.#ports.append.appendSample(sample);
      }
    }
    if (this.#learningUntil > 0 && now >= this.#learningUntil) {
      this.#learningUntil = 0;
      this.#ports.events.emit({
        type: "analytics.learning-ended",
        severity: "info",
        message: "the learning period is over: detectors now alert; training the models from history",
      });
      void this.retrain("learning-ended");
    }
  }

  async #retrainAll(reason: string): Promise<RetrainOutcome[]> {
    const { analytics, timeZone } = this.#options;
    const signal = this.#abort.signal;
    const now = this.#ports.clock.wallNow();
    const machines = [...this.#machines.values()].filter((machine) => machine.plan.vectors.length > 0);
    let collected: CollectedTraining[];
    try {
      // One pass over the ledger's history for every machine.
      collected = await collectTrainings(
        machines.map((machine) => ({
          machine: machine.config,
          plan: machine.plan,
          history: this.#ports.history,
          fromTs: now - analytics.training.history,
          now,
          timeZone,
          shifts: analytics.shifts,
          backend: analytics.backend,
          source: "ledger",
          minSamples: analytics.training.minSamples,
          signal,
        })),
      );
    } catch (error) {
      if (!signal.aborted) {
        for (const machine of machines) {
          this.#ports.events.emit(trainingFailedEvent(machine.config.device, error));
        }
      }
      return [];
    }
    const outcomes: RetrainOutcome[] = [];
    for (const [i, machine] of machines.entries()) {
      const device = machine.config.device;
      try {
        const outcome = await trainCollected(
          device,
          collected[i] as CollectedTraining,
          this.#options.train,
          (kind, fraction, status) =>
            this.#ports.logger.debug({ device, detector: kind, fraction, status }, "training"),
          signal,
        );
        const { detectors, failures } = await saveAndLoad(this.#store, outcome.results, (stored) =>
          detectorFromModel(
            machine.config,
            stored.card.kind,
            stored,
            // The new model keeps the run-time state of the old (how long a condition has held).
            machine.analytics.detectors.find((d) => d.kind === stored.card.kind)?.saveState?.(),
          ),
        );
        machine.analytics.replaceDetectors(detectors);
        if (outcome.results.every((result) => result.ok)) {
          this.#untrained.delete(device);
        }
        this.#stats.retrains++;
        this.#ports.events.emit(trainingEvent(device, reason, outcome, failures));
        outcomes.push(outcome);
      } catch (error) {
        if (signal.aborted) {
          break;
        }
        this.#ports.events.emit(trainingFailedEvent(device, error));
      }
    }
    return outcomes;
  }
}
