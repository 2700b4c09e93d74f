import { describe, expect, it } from "vitest";
import type { FaultKind } from "../../src/simulator/plantSchema.js";
import { at, HOUR, quietPlant } from "./plantFixture.js";

const SQRT3 = Math.sqrt(3);

function sample(plant: ReturnType<typeof quietPlant>, machine: string, seconds: number) {
  plant.advanceTo(seconds);
  return plant.values(machine);
}

describe("the plant's physics", () => {
  it("draws the current that the power, voltage and power factor imply", () => {
    const plant = quietPlant();
    for (const time of [at(6, 30), at(10), at(15), at(23)]) {
      const v = sample(plant, "mill-drive", time);
      const implied = ((v.active_power ?? 0) * 1000) / (SQRT3 * (v.voltage ?? 1) * (v.power_factor ?? 1));
      expect((v.current ?? 0) / implied).toBeGreaterThan(0.98);
      expect((v.current ?? 0) / implied).toBeLessThan(1.02);
    }
  });

  it("follows the shift pattern: full load on shift, idle at night", () => {
    const plant = quietPlant();
    const day = sample(plant, "mill-drive", at(10));
    const night = sample(plant, "mill-drive", at(23, 30));
    expect(day.active_power).toBeGreaterThan(600);
    expect(night.active_power).toBeLessThan(60);
    expect(day.current).toBeGreaterThan(5 * (night.current ?? 0));
  });

  it("lets the winding temperature lag the load: it falls gradually after the shift ends", () => {
    const plant = quietPlant();
    const onShift = sample(plant, "mill-drive", at(21, 59)).winding_temp ?? 0;
    const justAfter = sample(plant, "mill-drive", at(22, 2)).winding_temp ?? 0;
    const later = sample(plant, "mill-drive", at(22, 40)).winding_temp ?? 0;
    const settled = sample(plant, "mill-drive", at(25)).winding_temp ?? 0;
    expect(onShift - justAfter).toBeLessThan(10);
    expect(justAfter).toBeGreaterThan(later + 10);
    expect(later).toBeGreaterThan(settled + 5);
    expect(settled).toBeLessThan(35);
  });

  it("keeps furnace zones near their setpoints and burns more gas on shift", () => {
    const plant = quietPlant();
    const day = sample(plant, "reheat-furnace", at(11));
    expect(day.zone1_temp).toBeGreaterThan(1000);
    expect(day.zone3_temp).toBeGreaterThan(day.zone1_temp ?? 0);
    const night = sample(plant, "reheat-furnace", at(27));
    expect(day.gas_flow).toBeGreaterThan((night.gas_flow ?? 0) * 1.5);
  });

  it("counts press cycles monotonically at the cycle time while running", () => {
    const plant = quietPlant();
    let last = -1;
    for (let minute = 1; minute <= 60; minute++) {
      const v = sample(plant, "press-line", at(6, minute));
      expect(v.run_state).toBe(1);
      expect(v.cycle_count).toBeGreaterThan(last);
      expect((v.good_count ?? 0) + (v.scrap_count ?? 0)).toBe(v.cycle_count);
      last = v.cycle_count ?? 0;
    }
    // 2.5 s cycles for an hour; the first step of the hour is already counted.
    expect(last).toBeGreaterThanOrEqual(1439);
    expect(last).toBeLessThanOrEqual(1440);
    const scrap = plant.values("press-line").scrap_count ?? 0;
    expect(scrap / last).toBeGreaterThan(0.01);
    expect(scrap / last).toBeLessThan(0.06);
  });

  it("stops the counters during a planned stop and resumes after it", () => {
    const plant = quietPlant();
    const before = sample(plant, "press-line", at(9, 31));
    expect(before).toMatchObject({ run_state: 0, planned_stop: 1 });
    const during = sample(plant, "press-line", at(9, 44));
    expect(during.cycle_count).toBe(before.cycle_count);
    const after = sample(plant, "press-line", at(9, 50));
    expect(after).toMatchObject({ run_state: 1, planned_stop: 0 });
    expect(after.cycle_count).toBeGreaterThan(during.cycle_count ?? 0);
  });

  it("gives the same history for the same seed and another for another seed", () => {
    const a = quietPlant();
    const b = quietPlant();
    const c = quietPlant({ seed: 99 });
    expect(sample(a, "mill-drive", at(7))).toEqual(sample(b, "mill-drive", at(7)));
    expect(sample(c, "mill-drive", at(7)).current).not.toBe(a.values("mill-drive").current);
  });
});

/** The same plant with and without one fault injected at 08:00; both at `offsetS` later. */
function withAndWithout(
  machine: string,
  fault: FaultKind,
  offsetS: number,
  startAt = at(8),
  signal?: string,
) {
  const baseline = quietPlant();
  const faulty = quietPlant();
  baseline.advanceTo(startAt);
  faulty.advanceTo(startAt);
  expect(faulty.inject({ machine, fault, durationS: HOUR, signal })).toBeUndefined();
  baseline.advanceTo(startAt + offsetS);
  faulty.advanceTo(startAt + offsetS);
  return { base: baseline.values(machine), hit: faulty.values(machine), faulty, baseline };
}

describe("the faults", () => {
  it("bearing-overheat drifts winding temperature and vibration upward over the fault", () => {
    const early = withAndWithout("mill-drive", "bearing-overheat", 0.2 * HOUR);
    const late = withAndWithout("mill-drive", "bearing-overheat", 0.9 * HOUR);
    const earlyRise = (early.hit.winding_temp ?? 0) - (early.base.winding_temp ?? 0);
    const lateRise = (late.hit.winding_temp ?? 0) - (late.base.winding_temp ?? 0);
    expect(earlyRise).toBeGreaterThan(3);
    expect(lateRise).toBeGreaterThan(25);
    expect((late.hit.vibration ?? 0) - (late.base.vibration ?? 0)).toBeGreaterThan(3);
  });

  it("overload raises power and current by about half", () => {
    const { base, hit } = withAndWithout("mill-drive", "overload", 600);
    expect((hit.active_power ?? 0) / (base.active_power ?? 1)).toBeGreaterThan(1.35);
    expect((hit.current ?? 0) / (base.current ?? 1)).toBeGreaterThan(1.35);
  });

  it("idle-drain keeps the drive drawing power after the shift has ended", () => {
    const { base, hit } = withAndWithout("mill-drive", "idle-drain", 1800, at(22, 10));
    expect(base.active_power).toBeLessThan(60);
    expect(hit.active_power).toBeGreaterThan(250);
  });

  it("voltage-sag lowers the voltage and raises the current for the same power", () => {
    const { base, hit } = withAndWithout("mill-drive", "voltage-sag", 600);
    expect((hit.voltage ?? 0) / (base.voltage ?? 1)).toBeCloseTo(0.85, 1);
    expect((hit.current ?? 0) / (base.current ?? 1)).toBeGreaterThan(1.12);
  });

  it("power-factor-drop lowers the power factor and raises the current", () => {
    const { base, hit } = withAndWithout("mill-drive", "power-factor-drop", 600);
    expect((base.power_factor ?? 0) - (hit.power_factor ?? 0)).toBeGreaterThan(0.2);
    expect((hit.current ?? 0) / (base.current ?? 1)).toBeGreaterThan(1.3);
  });

  it("stuck-sensor freezes the named signal while the others move, and releases it after", () => {
    const { faulty } = withAndWithout("reheat-furnace", "stuck-sensor", 1, at(8), "gas_flow");
    const frozen = faulty.values("reheat-furnace").gas_flow;
    const zone = faulty.values("reheat-furnace").zone1_temp;
    faulty.advanceTo(at(8, 30));
    expect(faulty.values("reheat-furnace").gas_flow).toBe(frozen);
    expect(faulty.values("reheat-furnace").zone1_temp).not.toBe(zone);
    faulty.advanceTo(at(9, 5));
    expect(faulty.values("reheat-furnace").gas_flow).not.toBe(frozen);
  });

  it("counter-stall keeps the press running with its counters standing still", () => {
    const { base, hit, faulty } = withAndWithout("press-line", "counter-stall", 1200);
    expect(hit.run_state).toBe(1);
    const stalledAt = hit.cycle_count;
    faulty.advanceTo(at(8, 50));
    expect(faulty.values("press-line")).toMatchObject({ run_state: 1, cycle_count: stalledAt });
    expect(base.cycle_count).toBeGreaterThan((stalledAt ?? 0) + 400);
  });

  it("refuses a fault for a machine that does not have it, an unknown machine or signal", () => {
    const plant = quietPlant();
    expect(plant.inject({ machine: "press-line", fault: "overload", durationS: 60 })).toMatch(
      /does not apply to a press/,
    );
    expect(plant.inject({ machine: "blast-furnace", fault: "overload", durationS: 60 })).toMatch(
      /no machine/,
    );
    expect(
      plant.inject({ machine: "mill-drive", fault: "stuck-sensor", durationS: 60, signal: "speed" }),
    ).toMatch(/no signal "speed"/);
    expect(plant.inject({ machine: "mill-drive", fault: "overload", durationS: -1 })).toMatch(/durationS/);
  });

  it("runs the faults scheduled in the plant file at their offset", () => {
    const plant = quietPlant({
      faults: [{ machine: "mill-drive", fault: "overload", at: 1_800_000, duration: 600_000 }],
    });
    plant.advanceTo(1700);
    expect(plant.state().faults).toEqual([]);
    plant.advanceTo(1900);
    expect(plant.state().faults).toMatchObject([{ machine: "mill-drive", fault: "overload" }]);
    plant.advanceTo(2500);
    expect(plant.state().faults).toEqual([]);
  });
});
