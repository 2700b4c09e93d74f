/**
 * Physics-lite models of the plant's machines (issue #7 item 1): enough physics that the
 * gateway's detectors see consistent signals (current follows power, temperatures lag load,
 * counters advance with the cycle time), not a process simulation.
 */
import type { FaultEffects } from "./faults.js";
import type { DriveSpec, FurnaceSpec, PressSpec } from "./plantSchema.js";

export interface StepContext {
  readonly dtS: number;
  /** Load fraction of the running shift including the daily swing; undefined when no shift runs. */
  readonly shiftLoad: number | undefined;
  readonly minuteOfDay: number;
  readonly effects: FaultEffects;
  /** Standard normal draw from the plant's seeded generator. */
  readonly gauss: () => number;
  /** Uniform [0, 1) draw from the same generator. */
  readonly uniform: () => number;
}

export interface MachineModel {
  step(context: StepContext): void;
  /** Current signal values (bools as 0/1), noise included. */
  values(): Record<string, number>;
}

const SQRT3 = Math.sqrt(3);
const lag = (dtS: number, tauS: number) => 1 - Math.exp(-dtS / tauS);

export class DriveModel implements MachineModel {
  private windingC: number;
  private out: Record<string, number> = {};

  constructor(private readonly spec: DriveSpec) {
    this.windingC = spec.ambientC;
  }

  step(c: StepContext): void {
    const s = this.spec;
    const scheduled = c.shiftLoad ?? s.idleLoad;
    const load =
      Math.max(c.shiftLoad === undefined ? c.effects.idleFloor : 0, scheduled) * c.effects.loadFactor;
    const noisy = (value: number) => value * (1 + s.noise * c.gauss());
    const power = Math.max(0, noisy(s.ratedPowerKw * load));
    const voltage = noisy(s.nominalVoltageV * c.effects.voltageFactor);
    // Part load lowers an induction motor's power factor; a lost capacitor bank lowers it further.
    const pf = Math.min(
      1,
      Math.max(0.05, s.powerFactor - 0.08 * (1 - Math.min(load, 1)) + c.effects.pfDelta),
    );
    const current = (power * 1000) / (SQRT3 * voltage * pf);
    const ratedCurrent = (s.ratedPowerKw * 1000) / (SQRT3 * s.nominalVoltageV * s.powerFactor);
    // Copper losses go with I²: the winding settles at ambient + rated rise × (I/Ir)².
    const target = s.ambientC + s.ratedTempRiseC * (current / ratedCurrent) ** 2;
    this.windingC += (target - this.windingC) * lag(c.dtS, s.thermalTimeConstant / 1000);
    this.out = {
      current,
      voltage,
      active_power: power,
      power_factor: Math.min(1, Math.max(0, pf + 0.002 * c.gauss())),
      winding_temp: this.windingC + c.effects.tempAddC + 0.2 * c.gauss(),
      vibration: Math.max(
        0,
        noisy(s.vibrationMmS * (0.6 + 0.4 * Math.min(load, 1.5))) + c.effects.vibrationAdd,
      ),
    };
  }

  /** Starts the winding at its steady temperature so a fresh simulator shows no warm-up transient. */
  settle(c: StepContext): void {
    this.step(c);
    const s = this.spec;
    const ratio =
      (this.out.current ?? 0) / ((s.ratedPowerKw * 1000) / (SQRT3 * s.nominalVoltageV * s.powerFactor));
    this.windingC = s.ambientC + s.ratedTempRiseC * ratio ** 2;
  }

  values(): Record<string, number> {
    return this.out;
  }
}

export class FurnaceModel implements MachineModel {
  private readonly zoneC: number[];
  private out: Record<string, number> = {};

  constructor(private readonly spec: FurnaceSpec) {
    this.zoneC = spec.zones.map((zone) => zone.setpointC);
  }

  step(c: StepContext): void {
    const s = this.spec;
    const load = c.shiftLoad ?? 0.2;
    const out: Record<string, number> = {};
    let gas = 0;
    s.zones.forEach((zone, i) => {
      // More throughput pulls the zones slightly below setpoint; burners fire harder to hold them.
      const target = s.ambientC + (zone.setpointC - s.ambientC) * (0.94 + 0.06 * Math.min(load, 1));
      const now = this.zoneC[i] ?? target;
      const next = now + (target - now) * lag(c.dtS, s.timeConstant / 1000);
      this.zoneC[i] = next;
      const deficit = (target - next) / (zone.setpointC - s.ambientC);
      gas += s.gasPerZoneM3h * Math.min(2, Math.max(0, 0.4 + 0.6 * load + 5 * deficit));
      out[`zone${i + 1}_temp`] = next + 1.5 * c.gauss();
    });
    out.gas_flow = Math.max(0, gas * (1 + s.noise * c.gauss()));
    this.out = out;
  }

  values(): Record<string, number> {
    return this.out;
  }
}

export class PressModel implements MachineModel {
  private phaseS = 0;
  private cycles = 0;
  private good = 0;
  private scrap = 0;
  private out: Record<string, number> = {};

  constructor(private readonly spec: PressSpec) {}

  step(c: StepContext): void {
    const s = this.spec;
    const plannedStop = s.plannedStops.some((stop) => {
      const since = (c.minuteOfDay - stop.start + 1440) % 1440;
      return since * 60_000 < stop.duration;
    });
    const running = c.shiftLoad !== undefined && !plannedStop;
    if (running) {
      this.phaseS += c.dtS;
      const cycleS = s.cycleTime / 1000;
      while (this.phaseS >= cycleS) {
        this.phaseS -= cycleS;
        if (!c.effects.counterStall) {
          this.cycles++;
          if (c.uniform() < s.scrapRate) {
            this.scrap++;
          } else {
            this.good++;
          }
        }
      }
    }
    // Counters wrap like the PLC's 32-bit registers do.
    this.out = {
      run_state: running ? 1 : 0,
      planned_stop: plannedStop ? 1 : 0,
      cycle_count: this.cycles % 2 ** 32,
      good_count: this.good % 2 ** 32,
      scrap_count: this.scrap % 2 ** 32,
    };
  }

  values(): Record<string, number> {
    return this.out;
  }
}
