/**
 * What to learn for one machine, derived from its config (issue #6 item 5): which vectors each
 * trainable detector reads, in which order, and which of those tags must be present. The same plan
 * drives the collection of history (machineHistory.ts) and the fit (trainMachine.ts), in the main
 * thread or a worker, so the two can never disagree on a vector's layout.
 */
import { createHash } from "node:crypto";
import type { MachineConfig } from "../machine/machineConfig.js";
import { GATEWAY_VECTOR_TAGS } from "../machine/profileDetectors.js";

export type TrainableKind = "isolation-forest" | "autoencoder" | "power-profile" | "gateway-profile";

export interface VectorPlan {
  readonly kind: TrainableKind;
  /** Tags in vector order. */
  readonly tags: readonly string[];
  /** The first `required` tags must have a usable value; later ones are NaN when missing. */
  readonly required: number;
  /** Digest of the settings the model depends on: a model for other settings is not loaded. */
  readonly configDigest: string;
}

export interface TrainingPlan {
  readonly device: string;
  readonly vectors: readonly VectorPlan[];
}

export function digest(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
}

/** The gateway's own profile (device "gateway", from self-health and the recorded workload). */
export function gatewayTrainingPlan(device: string): TrainingPlan {
  return {
    device,
    vectors: [
      {
        kind: "gateway-profile",
        tags: GATEWAY_VECTOR_TAGS,
        required: 2,
        configDigest: digest({ tags: GATEWAY_VECTOR_TAGS }),
      },
    ],
  };
}

/**
 * A vector model over its `features`, all required. The digest covers every setting of its config
 * section, so a setting added to the schema later invalidates old models without a change here.
 */
function vectorPlan(kind: TrainableKind, settings: { readonly features: readonly string[] }): VectorPlan {
  return {
    kind,
    tags: settings.features,
    required: settings.features.length,
    configDigest: digest(settings),
  };
}

export function planTraining(machine: MachineConfig): TrainingPlan {
  const vectors: VectorPlan[] = [];
  const { isolationForest, autoencoder } = machine.detectors;
  if (isolationForest !== undefined) {
    vectors.push(vectorPlan("isolation-forest", isolationForest));
  }
  if (autoencoder !== undefined) {
    vectors.push(vectorPlan("autoencoder", autoencoder));
  }
  if (machine.power !== undefined) {
    const { power, current, voltage, powerFactor, nominalVoltage } = machine.power;
    // Fixed roles by position; "" is a role the config leaves out (never a tag name: names are non-empty).
    const tags = [power, current ?? "", voltage ?? "", powerFactor ?? ""];
    vectors.push({
      kind: "power-profile",
      tags,
      required: 1,
      configDigest: digest({ tags, nominalVoltage: nominalVoltage ?? null }),
    });
  }
  return { device: machine.device, vectors };
}
