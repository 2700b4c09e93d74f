/**
 * The signals each machine kind offers and the faults that can act on it (issue #7 item 1), plus
 * the cross-checks a schema cannot express: unique names and unit ids, no two signals on one
 * register, faults naming a machine and a signal that exist.
 */
import type { ConfigPath } from "../config/configIssue.js";
import type { FaultKind, MachineSpec, PlantSpec, RegisterSpec } from "./plantSchema.js";

export interface SignalSpec {
  readonly name: string;
  readonly register: RegisterSpec;
  /** Where the register is written in the plant file, for error messages. */
  readonly path: ConfigPath;
}

export function signalsOf(machine: MachineSpec, index: number): SignalSpec[] {
  const base: ConfigPath = ["machines", index];
  const named = Object.entries(machine.signals).map(([signal, register]) => ({
    name: signal,
    register,
    path: [...base, "signals", signal],
  }));
  if (machine.kind !== "furnace") {
    return named;
  }
  const zones = machine.zones.map((zone, z) => ({
    name: `zone${z + 1}_temp`,
    register: zone.temp,
    path: [...base, "zones", z, "temp"],
  }));
  return [...zones, ...named];
}

export const FAULTS_BY_KIND: Readonly<Record<MachineSpec["kind"], readonly FaultKind[]>> = {
  drive: ["bearing-overheat", "overload", "idle-drain", "voltage-sag", "power-factor-drop", "stuck-sensor"],
  furnace: ["stuck-sensor"],
  press: ["counter-stall", "stuck-sensor"],
};

export interface PlantProblem {
  readonly path: ConfigPath;
  readonly message: string;
}

export function registerWidth(register: RegisterSpec): number {
  return register.type === "uint32" || register.type === "float32" ? 2 : 1;
}

/** A fault is valid for a machine when its kind allows it and a stuck sensor names a real signal. */
export function checkFault(
  plant: PlantSpec,
  fault: { machine: string; fault: FaultKind; signal?: string | undefined },
): string | undefined {
  const index = plant.machines.findIndex((m) => m.name === fault.machine);
  const machine = plant.machines[index];
  if (machine === undefined) {
    return `no machine "${fault.machine}"; machines: ${plant.machines.map((m) => m.name).join(", ")}`;
  }
  if (!FAULTS_BY_KIND[machine.kind].includes(fault.fault)) {
    return `fault ${fault.fault} does not apply to a ${machine.kind}; it takes ${FAULTS_BY_KIND[machine.kind].join(", ")}`;
  }
  if (fault.signal !== undefined) {
    const names = signalsOf(machine, index).map((s) => s.name);
    if (!names.includes(fault.signal)) {
      return `${machine.name} has no signal "${fault.signal}"; signals: ${names.join(", ")}`;
    }
  }
  return undefined;
}

export function crossCheckPlant(plant: PlantSpec): PlantProblem[] {
  const problems: PlantProblem[] = [];
  const names = new Set<string>();
  const units = new Set<number>();
  const taken = new Map<string, string>();
  plant.machines.forEach((machine, index) => {
    if (names.has(machine.name)) {
      problems.push({
        path: ["machines", index, "name"],
        message: `machine name "${machine.name}" is used twice`,
      });
    }
    names.add(machine.name);
    if (units.has(machine.unitId)) {
      problems.push({
        path: ["machines", index, "unitId"],
        message: `unit id ${machine.unitId} is used twice`,
      });
    }
    units.add(machine.unitId);
    for (const signal of signalsOf(machine, index)) {
      for (let offset = 0; offset < registerWidth(signal.register); offset++) {
        const key = `${machine.unitId}/${signal.register.table}/${signal.register.address + offset}`;
        const holder = taken.get(key);
        if (holder !== undefined) {
          problems.push({
            path: [...signal.path, "address"],
            message: `${signal.register.table} ${signal.register.address + offset} of unit ${machine.unitId} is already ${holder}`,
          });
          break;
        }
        taken.set(key, `${machine.name}.${signal.name}`);
      }
    }
  });
  plant.faults.forEach((fault, index) => {
    const problem = checkFault(plant, fault);
    if (problem !== undefined) {
      problems.push({ path: ["faults", index], message: problem });
    }
  });
  return problems;
}
