/** The shipped plant file, loaded once, and plants built from it for the simulator tests. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadPlantText } from "../../src/simulator/loadPlant.js";
import { Plant } from "../../src/simulator/plant.js";
import type { PlantSpec } from "../../src/simulator/plantSchema.js";
import { repoRoot } from "../helpers/paths.js";

export const plantPath = join(repoRoot, "config", "plant-sim.yaml");
export const devicesPath = join(repoRoot, "config", "plant-sim.devices.yaml");

export function shippedPlant(): PlantSpec {
  const loaded = loadPlantText(readFileSync(plantPath, "utf8"), "plant-sim.yaml");
  if (!loaded.ok) {
    throw new Error(loaded.errors.map((e) => e.message).join("\n"));
  }
  return loaded.plant;
}

/** The shipped plant without its scheduled faults, so a test sees only what it injects. */
export function quietPlant(overrides: Partial<PlantSpec> = {}): Plant {
  // 1 s steps: the physics is the same at this resolution and a simulated day runs ten times faster.
  return new Plant({ ...shippedPlant(), faults: [], step: 1000, ...overrides });
}

export const HOUR = 3600;
/** Seconds from the shipped start (06:00 UTC) to a time of day on the first day. */
export const at = (hh: number, mm = 0): number => (hh - 6) * HOUR + mm * 60;
