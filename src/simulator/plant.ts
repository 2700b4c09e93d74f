/**
 * The simulated plant (issue #7 item 1): advances every machine in fixed steps of simulated time,
 * derives shift and daily load from the simulated wall clock, applies scheduled and injected
 * faults, and exposes the signal values. Pure computation: time comes in through advanceTo.
 */
import { seededRandom } from "../analytics/random.js";
import { type ActiveFault, applyFault, type FaultEffects, MAX_FAULTS, noEffects } from "./faults.js";
import {
  DriveModel,
  FurnaceModel,
  type MachineModel,
  PressModel,
  type StepContext,
} from "./machineModels.js";
import type { FaultKind, PlantSpec } from "./plantSchema.js";
import { checkFault, signalsOf } from "./plantSignals.js";

/** One advance never computes more than this many steps; a longer jump skips time instead. */
export const MAX_STEPS_PER_ADVANCE = 2_000_000;

export interface FaultRequest {
  readonly machine: string;
  readonly fault: FaultKind;
  readonly durationS: number;
  readonly signal?: string | undefined;
}

export interface PlantState {
  readonly elapsedS: number;
  readonly simulatedTime: string;
  readonly shift: string | null;
  readonly machines: Record<string, Record<string, number>>;
  readonly faults: readonly ActiveFault[];
}

export class Plant {
  private readonly models = new Map<string, MachineModel>();
  private readonly faults: ActiveFault[];
  /** Values a stuck sensor keeps showing, by "machine.signal". */
  private readonly frozen = new Map<string, number>();
  private readonly random: () => number;
  private readonly stepS: number;
  private readonly startMs: number;
  private steps = 0;

  constructor(readonly spec: PlantSpec) {
    this.random = seededRandom(spec.seed);
    this.stepS = spec.step / 1000;
    this.startMs = Date.parse(spec.startAt);
    this.faults = spec.faults.map((f) => ({
      machine: f.machine,
      fault: f.fault,
      startS: f.at / 1000,
      durationS: f.duration / 1000,
      ...(f.signal === undefined ? {} : { signal: f.signal }),
    }));
    for (const machine of spec.machines) {
      const model =
        machine.kind === "drive"
          ? new DriveModel(machine)
          : machine.kind === "furnace"
            ? new FurnaceModel(machine)
            : new PressModel(machine);
      this.models.set(machine.name, model);
      if (model instanceof DriveModel) {
        model.settle(this.context(machine.name, 0));
      }
    }
    this.stepAll();
  }

  get elapsedS(): number {
    return this.steps * this.stepS;
  }

  advanceTo(elapsedS: number): void {
    const target = Math.floor(elapsedS / this.stepS + 1e-9);
    if (target - this.steps > MAX_STEPS_PER_ADVANCE) {
      this.steps = target - MAX_STEPS_PER_ADVANCE;
    }
    while (this.steps < target) {
      this.steps++;
      this.stepAll();
    }
  }

  /** Starts a fault now; returns why it was refused, or undefined. */
  inject(request: FaultRequest): string | undefined {
    const problem = checkFault(this.spec, request);
    if (problem !== undefined) {
      return problem;
    }
    if (!Number.isFinite(request.durationS) || request.durationS <= 0 || request.durationS > 30 * 86_400) {
      return "durationS must be a number of seconds from 1 to 2592000";
    }
    this.dropEnded();
    if (this.faults.length >= MAX_FAULTS) {
      return `at most ${MAX_FAULTS} faults may be pending`;
    }
    this.faults.push({
      machine: request.machine,
      fault: request.fault,
      startS: this.elapsedS,
      durationS: request.durationS,
      ...(request.signal === undefined ? {} : { signal: request.signal }),
    });
    return undefined;
  }

  values(machine: string): Record<string, number> {
    const raw = this.models.get(machine)?.values() ?? {};
    const out = { ...raw };
    for (const [key, value] of this.frozen) {
      const [owner, signal] = key.split("\u0000");
      if (owner === machine && signal !== undefined) {
        out[signal] = value;
      }
    }
    return out;
  }

  state(): PlantState {
    const machines: Record<string, Record<string, number>> = {};
    for (const name of this.models.keys()) {
      machines[name] = this.values(name);
    }
    return {
      elapsedS: this.elapsedS,
      simulatedTime: new Date(this.wallMs()).toISOString(),
      shift: this.shiftAt(this.minuteOfDay())?.name ?? null,
      machines,
      faults: this.faults.filter((f) => this.isActive(f)),
    };
  }

  private stepAll(): void {
    const now = this.elapsedS;
    for (const [name, model] of this.models) {
      model.step(this.context(name, now));
    }
    this.updateFrozen(now);
  }

  private context(machine: string, now: number): StepContext {
    const minute = this.minuteOfDay();
    const shift = this.shiftAt(minute);
    // The daily swing peaks at 14:00, the hottest and busiest part of a plant's day.
    const swing = 1 + this.spec.dailyAmplitude * Math.sin((2 * Math.PI * (minute - 480)) / 1440);
    return {
      dtS: this.stepS,
      shiftLoad: shift === undefined ? undefined : shift.load * swing,
      minuteOfDay: minute,
      effects: this.effects(machine, now),
      gauss: () => this.gauss(),
      uniform: this.random,
    };
  }

  private effects(machine: string, now: number): FaultEffects {
    const effects = noEffects();
    for (const fault of this.faults) {
      if (fault.machine === machine && this.isActive(fault, now)) {
        applyFault(fault.fault, (now - fault.startS) / fault.durationS, effects);
      }
    }
    return effects;
  }

  private updateFrozen(now: number): void {
    const stuck = new Set<string>();
    for (const fault of this.faults) {
      if (fault.fault === "stuck-sensor" && this.isActive(fault, now)) {
        stuck.add(`${fault.machine}\u0000${fault.signal ?? this.firstSignal(fault.machine)}`);
      }
    }
    for (const key of [...this.frozen.keys()]) {
      if (!stuck.has(key)) {
        this.frozen.delete(key);
      }
    }
    for (const key of stuck) {
      if (!this.frozen.has(key)) {
        const [machine = "", signal = ""] = key.split("\u0000");
        this.frozen.set(key, this.models.get(machine)?.values()[signal] ?? 0);
      }
    }
  }

  private firstSignal(machine: string): string {
    const index = this.spec.machines.findIndex((m) => m.name === machine);
    const spec = this.spec.machines[index];
    return spec === undefined ? "" : (signalsOf(spec, index)[0]?.name ?? "");
  }

  private isActive(fault: ActiveFault, now = this.elapsedS): boolean {
    return now >= fault.startS && now < fault.startS + fault.durationS;
  }

  private dropEnded(): void {
    const now = this.elapsedS;
    for (let i = this.faults.length - 1; i >= 0; i--) {
      const fault = this.faults[i];
      if (fault !== undefined && now >= fault.startS + fault.durationS) {
        this.faults.splice(i, 1);
      }
    }
  }

  private wallMs(): number {
    return this.startMs + this.elapsedS * 1000;
  }

  private minuteOfDay(): number {
    const d = new Date(this.wallMs());
    return d.getUTCHours() * 60 + d.getUTCMinutes() + d.getUTCSeconds() / 60;
  }

  private shiftAt(minute: number): PlantSpec["shifts"][number] | undefined {
    return this.spec.shifts.find((s) =>
      s.start < s.end ? minute >= s.start && minute < s.end : minute >= s.start || minute < s.end,
    );
  }

  /** Box–Muller on the seeded stream; 1 - u keeps log() away from 0. */
  private gauss(): number {
    const u = 1 - this.random();
    const v = this.random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}
