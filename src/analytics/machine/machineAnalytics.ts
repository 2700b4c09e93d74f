/**
 * All analytics of one machine (issue #6 items 1-4), as the stage drives it per sample: update the
 * tag holds, let each detector score, let the alert engine turn the findings into anomaly records,
 * and let the OEE tracker turn the counters into OEE samples. Pure: no timers, no I/O; the stage
 * appends what comes out and saves saveState() now and then.
 */
import type { Sample } from "../../records.js";
import type { AlertEngine, AlertEngineState, AnomalyBody } from "../alerts/index.js";
import type { DetectorKind, Finding } from "../findings.js";
import type { MachineDetector, ScoreContext } from "./machineDetector.js";
import { TagHold } from "./tagHold.js";

/** A part that turns the machine's readings into samples of its own (OEE, issue #6 item 4). */
export interface DerivedSamples {
  /** Takes a reading of the machine; returns samples it completes (e.g. a shift's final figures). */
  observe(sample: Sample): Sample[];
  /** Samples due at `now` (running figures, a shift's final figures). */
  tick(now: number): Sample[];
  saveState(): unknown;
}

export interface MachineParts {
  readonly device: string;
  readonly detectors: readonly MachineDetector[];
  readonly alerts: AlertEngine;
  readonly derived?: DerivedSamples | undefined;
  /** Is the machine inside its scheduled shifts at ts? undefined when it has no schedule. */
  readonly inSchedule?: ((ts: number) => boolean | undefined) | undefined;
}

export interface MachineOutput {
  readonly anomalies: AnomalyBody[];
  readonly findings: readonly Finding[];
  /** Samples the machine derives (OEE), to append after the reading. */
  readonly derived: readonly Sample[];
}

export interface MachineState {
  readonly version: 1;
  readonly detectors: Partial<Record<DetectorKind, unknown>>;
  readonly alerts: AlertEngineState;
  readonly derived?: unknown;
}

const NO_OUTPUT: MachineOutput = { anomalies: [], findings: [], derived: [] };

export class MachineAnalytics {
  readonly device: string;
  readonly hold = new TagHold();
  readonly #parts: MachineParts;
  #detectors: readonly MachineDetector[];
  /** Each detector's last verdict, which stands while none of its tags brings a new value. */
  readonly #verdicts = new Map<MachineDetector, readonly Finding[]>();
  /** The last detector error, for the stage's log (cleared when read). */
  lastError: { kind: DetectorKind; error: unknown } | undefined;

  constructor(parts: MachineParts) {
    this.#parts = parts;
    this.#detectors = parts.detectors;
    this.device = parts.device;
  }

  get alerts(): AlertEngine {
    return this.#parts.alerts;
  }

  get detectors(): readonly MachineDetector[] {
    return this.#detectors;
  }

  /**
   * Swaps in newly trained detectors (issue #6 item 5: "models swapped atomically"): each replaces
   * the detector of its kind, in one assignment between two samples, so no reading is scored by a
   * mix of old and new, and polling never waits for it.
   */
  replaceDetectors(fresh: readonly MachineDetector[]): void {
    const kinds = new Set(fresh.map((detector) => detector.kind));
    for (const old of this.#detectors) {
      if (kinds.has(old.kind)) {
        this.#verdicts.delete(old);
      }
    }
    this.#detectors = [...this.#detectors.filter((detector) => !kinds.has(detector.kind)), ...fresh];
  }

  observe(sample: Sample, workload?: ScoreContext["workload"]): MachineOutput {
    if (sample.device !== this.device) {
      return NO_OUTPUT;
    }
    const updates = this.hold.update(sample);
    const derived = this.#parts.derived?.observe(sample) ?? [];
    if (updates.length === 0) {
      return derived.length === 0 ? NO_OUTPUT : { ...NO_OUTPUT, derived };
    }
    const context: ScoreContext = {
      inSchedule: this.#parts.inSchedule?.(sample.ts),
      ...(workload === undefined ? {} : { workload }),
    };
    const findings: Finding[] = [];
    for (const detector of this.#detectors) {
      try {
        const verdict = detector.observe(sample.ts, updates, this.hold, context);
        if (verdict !== undefined) {
          this.#verdicts.set(detector, verdict);
        }
        findings.push(...(verdict ?? this.#verdicts.get(detector) ?? []));
      } catch (error) {
        this.lastError = { kind: detector.kind, error };
      }
    }
    return { anomalies: this.#parts.alerts.observe(sample.ts, findings), findings, derived };
  }

  tick(now: number): Sample[] {
    return this.#parts.derived?.tick(now) ?? [];
  }

  saveState(): MachineState {
    const detectors: Partial<Record<DetectorKind, unknown>> = {};
    for (const detector of this.#detectors) {
      const state = detector.saveState?.();
      if (state !== undefined) {
        detectors[detector.kind] = state;
      }
    }
    const derived = this.#parts.derived?.saveState();
    return {
      version: 1,
      detectors,
      alerts: this.#parts.alerts.toJSON(),
      ...(derived === undefined ? {} : { derived }),
    };
  }
}
