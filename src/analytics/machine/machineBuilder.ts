/**
 * Builds a machine's analytics from its config, its stored models and its saved state (issue #6:
 * "models survive a restart (loaded from the models directory)"). A model is used only if its card
 * says it was trained for the detector's current settings (configDigest); a model for other
 * settings, or a state that cannot be restored, is left out with a note for the log, and that
 * detector learns afresh: a bad file never stops the daemon.
 */
import { streamingSchema } from "../../config/schema/analytics.js";
import { AlertEngine } from "../alerts/index.js";
import type { DetectorKind } from "../findings.js";
import { GatewayProfile, untrainedGatewayProfile } from "../gatewayProfile/index.js";
import type { StoredModel } from "../models/modelStore.js";
import { PowerProfile } from "../power/index.js";
import { ShiftCalendar } from "../shiftCalendar.js";
import type { StreamingDetectorConfig } from "../streaming/index.js";
import { gatewayTrainingPlan, planTraining, type TrainableKind } from "../training/trainingPlan.js";
import { AutoencoderVectorModel } from "./autoencoderVectorModel.js";
import { ForestVectorModel } from "./forestVectorModel.js";
import { MachineAnalytics, type MachineState } from "./machineAnalytics.js";
import type { MachineConfig, ShiftConfig } from "./machineConfig.js";
import type { MachineDetector } from "./machineDetector.js";
import { OeeDerived } from "./oeeDerived.js";
import { GatewayDetector, PowerDetector } from "./profileDetectors.js";
import { StreamingTagsDetector } from "./streamingTags.js";
import { VectorDetector } from "./vectorDetector.js";

export interface MachineInputs {
  readonly machine: MachineConfig;
  /** Every tag of the machine's device (config order), for the default streaming detector. */
  readonly deviceTags: readonly string[];
  readonly models: ReadonlyMap<DetectorKind, StoredModel>;
  readonly state?: unknown;
  readonly timeZone: string;
  /** analytics.shifts: the OEE periods and the power profile's schedule. */
  readonly shifts?: readonly ShiftConfig[];
  readonly muted: boolean;
}

export interface BuiltMachine {
  readonly analytics: MachineAnalytics;
  /** Which trainable detectors are configured but have no usable model yet. */
  readonly untrained: readonly TrainableKind[];
  readonly notes: readonly string[];
}

/**
 * The streaming detector's settings, or the default when the machine configures no detector at
 * all (issue #6 item 6: "a device with one tag `value` and the default detector configuration must
 * work"): median-mad over every tag of the device, 1 h window, no seasonality.
 */
export function streamingSettings(
  machine: MachineConfig,
  deviceTags: readonly string[],
  timeZone: string,
): { tags: readonly string[]; config: StreamingDetectorConfig } | undefined {
  const { streaming, isolationForest, autoencoder } = machine.detectors;
  if (streaming === undefined && (isolationForest !== undefined || autoencoder !== undefined)) {
    return undefined;
  }
  // The schema's own defaults, over every tag of the device.
  const { tags, method, window, seasonality } = streaming ?? streamingSchema.parse({ tags: deviceTags });
  return { tags, config: { method, windowMs: window, seasonality, tuning: { timeZone } } };
}

export function buildMachine(inputs: MachineInputs): BuiltMachine {
  const { machine } = inputs;
  const notes: string[] = [];
  const untrained: TrainableKind[] = [];
  const saved = asMachineState(inputs.state, notes);
  const detectors: MachineDetector[] = [];

  const streaming = streamingSettings(machine, inputs.deviceTags, inputs.timeZone);
  if (streaming !== undefined) {
    const detector = new StreamingTagsDetector(streaming.tags, streaming.config, saved?.detectors.streaming);
    for (const failure of detector.restoreFailures) {
      notes.push(`streaming state of ${failure.tag} not restored (${failure.reason}); it learns afresh`);
    }
    detectors.push(detector);
  }

  for (const plan of planTraining(machine).vectors) {
    const stored = inputs.models.get(plan.kind);
    if (stored === undefined) {
      untrained.push(plan.kind);
      continue;
    }
    if (stored.card.configDigest !== plan.configDigest) {
      notes.push(`${plan.kind} model was trained for other settings; not used until retrained`);
      untrained.push(plan.kind);
      continue;
    }
    try {
      const detector = detectorFromModel(machine, plan.kind, stored, saved?.detectors[plan.kind]);
      if (detector !== undefined) {
        detectors.push(detector);
      }
    } catch (error) {
      notes.push(`${plan.kind} model not loaded: ${message(error)}`);
      untrained.push(plan.kind);
    }
  }

  let derived: OeeDerived | undefined;
  if (machine.oee !== undefined) {
    try {
      derived = new OeeDerived(
        machine.device,
        machine.oee,
        inputs.shifts ?? [],
        inputs.timeZone,
        saved?.derived,
      );
    } catch (error) {
      notes.push(`OEE totals of the running shift not restored (${message(error)}); counting from now`);
      derived = new OeeDerived(machine.device, machine.oee, inputs.shifts ?? [], inputs.timeZone);
    }
  }
  const schedule = machine.power?.schedule;
  const calendar =
    schedule === undefined || (inputs.shifts ?? []).length === 0
      ? undefined
      : new ShiftCalendar(inputs.shifts ?? [], inputs.timeZone);
  const inSchedule =
    calendar === undefined || schedule === undefined
      ? undefined
      : (ts: number) => calendar.inSchedule(ts, schedule);

  const alerts = alertEngineFor(machine, inputs.muted, saved, notes);
  return {
    analytics: new MachineAnalytics({
      device: machine.device,
      detectors,
      alerts,
      derived,
      inSchedule,
    }),
    untrained,
    notes,
  };
}

/**
 * The gateway's own analytics (issue #6 item 2): its profile, trained or (until trained) the
 * untrained profile's absolute limits, over the self-health and workload samples of `device`.
 */
export function buildGatewayMachine(inputs: {
  machine: MachineConfig;
  stored: StoredModel | undefined;
  state: unknown;
  muted: boolean;
}): BuiltMachine {
  const notes: string[] = [];
  const saved = asMachineState(inputs.state, notes);
  const plan = gatewayTrainingPlan(inputs.machine.device).vectors[0];
  let profile = untrainedGatewayProfile();
  let untrained: TrainableKind[] = ["gateway-profile"];
  if (
    inputs.stored !== undefined &&
    plan !== undefined &&
    inputs.stored.card.configDigest === plan.configDigest
  ) {
    try {
      profile = GatewayProfile.fromJSON(inputs.stored.model);
      untrained = [];
    } catch (error) {
      notes.push(`gateway profile not loaded (${message(error)}); absolute limits until retrained`);
    }
  }
  const alerts = alertEngineFor(inputs.machine, inputs.muted, saved, notes);
  const detector = new GatewayDetector(profile, saved?.detectors["gateway-profile"]);
  return {
    analytics: new MachineAnalytics({ device: inputs.machine.device, detectors: [detector], alerts }),
    untrained,
    notes,
  };
}

function alertEngineFor(
  machine: MachineConfig,
  muted: boolean,
  saved: MachineState | undefined,
  notes: string[],
): AlertEngine {
  const options = {
    device: machine.device,
    thresholds: machine.thresholds,
    cooldownMs: machine.cooldown,
    muted,
  };
  if (saved === undefined) {
    return new AlertEngine(options);
  }
  try {
    return AlertEngine.fromJSON(options, saved.alerts);
  } catch (error) {
    notes.push(`open alerts not restored (${message(error)})`);
    return new AlertEngine(options);
  }
}

/**
 * The live detector for a stored model of `machine` (and the run-time state of the detector it
 * replaces or was saved from, if any: a power profile's persistence monitor); throws on a bad model.
 */
export function detectorFromModel(
  machine: MachineConfig,
  kind: DetectorKind,
  stored: StoredModel,
  state: unknown,
): MachineDetector | undefined {
  switch (kind) {
    case "isolation-forest": {
      const model = ForestVectorModel.fromJSON(stored.model);
      return new VectorDetector("isolation-forest", model.features, model, "isolation forest");
    }
    case "autoencoder": {
      const model = AutoencoderVectorModel.fromJSON(stored.model);
      return new VectorDetector("autoencoder", model.features, model, "autoencoder");
    }
    case "power-profile":
      return machine.power === undefined
        ? undefined
        : new PowerDetector(PowerProfile.fromJSON(stored.model), machine.power, state);
    case "gateway-profile":
      return new GatewayDetector(GatewayProfile.fromJSON(stored.model), state);
    case "streaming":
      return undefined;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function asMachineState(state: unknown, notes: string[]): MachineState | undefined {
  if (state === undefined) {
    return undefined;
  }
  if (
    typeof state === "object" &&
    state !== null &&
    "version" in state &&
    state.version === 1 &&
    "detectors" in state &&
    typeof state.detectors === "object" &&
    state.detectors !== null &&
    "alerts" in state
  ) {
    return state as MachineState;
  }
  notes.push("saved state is not a machine state of version 1; everything learns afresh");
  return undefined;
}
