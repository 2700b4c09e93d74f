/**
 * One detector of one machine, as the analytics stage drives it (issue #6 item 1: "detectors
 * behind one interface"). The cores (streaming/, isolationForest/, autoencoder/, power/,
 * gatewayProfile/) know nothing of tags, holds or samples; an adapter implementing this interface
 * feeds each its input from the machine's TagHold and turns its output into Findings.
 */
import type { DetectorKind, Finding } from "../findings.js";
import type { TagHold, TagUpdate } from "./tagHold.js";

/** What a reading's detectors may need beyond the tag values. */
export interface ScoreContext {
  /** Is the machine inside its scheduled shifts? undefined when it has no schedule. */
  readonly inSchedule: boolean | undefined;
  /**
   * The gateway's own workload, for its profile (the stage measures it); a function, so the
   * readings of every other machine do not pay for computing it.
   */
  readonly workload?: () => { readonly samplesPerSecond: number; readonly uplinkBytesPerSecond: number };
}

export interface MachineDetector {
  readonly kind: DetectorKind;
  /**
   * Scores the reading at `ts` whose usable values are `updates` (already in `hold`). Must not
   * throw on any value a TagHold lets through, and must not let a refused one into its state.
   * Returns undefined when none of the detector's tags is in `updates`: its last verdict stands,
   * as the tags' last values do (a Modbus device's poll groups arrive as separate samples, and a
   * sample of the temperature group says nothing about an overload seen in the power group).
   */
  observe(
    ts: number,
    updates: readonly TagUpdate[],
    hold: TagHold,
    context: ScoreContext,
  ): readonly Finding[] | undefined;
  /** Run-time state worth keeping across a restart (JSON-able), or undefined if the model file is all. */
  saveState?(): unknown;
}

/** Finds below this probability are not reported at all: far under any LOW threshold (0 < low < 1). */
export const REPORT_FLOOR = 0.5;

/** Numbers in explanations: 4 significant digits, no exponent for plant-sized values. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) {
    return String(value);
  }
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e6 || magnitude < 1e-3)) {
    return value.toPrecision(3);
  }
  return String(Number(value.toPrecision(4)));
}
