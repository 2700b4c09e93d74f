/**
 * Training a machine's power profile (issue #6 item 2): operating states by clustering, their
 * bands, dwell and transitions, the voltage band, and the save format (item 5: models survive a
 * restart; a corrupt file is refused with a reason).
 */
import { describe, expect, it } from "vitest";
import {
  fitPowerProfile,
  POWER_PROFILE_FORMAT,
  PowerProfile,
  type PowerProfileJson,
  PowerProfileMonitor,
  type PowerReading,
  ProfileFormatError,
} from "../../src/analytics/power/index.js";
import { chooseStates, kmeans1d } from "../../src/analytics/power/kmeans1d.js";
import { seededRandom } from "../../src/analytics/random.js";
import { DAY, gaussian, generateMachine, MINUTE, MONDAY, powerScenario } from "./support/powerMachine.js";

const history = generateMachine(11, MONDAY, MONDAY + 14 * DAY);
const readings = history.map((r) => r.reading);
const tags = { power: "spindle_kw", current: "spindle_a", voltage: "supply_v", powerFactor: "spindle_pf" };
const profile = fitPowerProfile(readings, { seed: 1, tags, nominalVoltage: 400 });

/** Readings cycling through the given levels (kW), `minutes` each, with 3 % noise. */
function levels(values: readonly number[], minutes: number, cycles: number, seed: number): PowerReading[] {
  const g = gaussian(seededRandom(seed));
  const out: PowerReading[] = [];
  let ts = MONDAY;
  for (let c = 0; c < cycles; c++) {
    for (const level of values) {
      for (let m = 0; m < minutes; m++) {
        out.push({ ts, power: level === 0 ? Math.abs(0.01 * g()) : level * (1 + 0.03 * g()) });
        ts += MINUTE;
      }
    }
  }
  return out;
}

describe("operating states", () => {
  it("finds off, idle and loaded on a shift-cycling machine, for several seeds", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rows = generateMachine(seed, MONDAY, MONDAY + 14 * DAY).map((r) => r.reading);
      const p = fitPowerProfile(rows, { seed });
      expect(p.states.map((s) => `${s.name}:${s.role}`)).toEqual(["off:off", "idle:idle", "loaded:running"]);
      expect(p.model.kTrials.find((t) => t.k === 4)?.accepted).toBe(false);
    }
  });

  it("learns each state's level, band, share, dwell and the transitions between them", () => {
    const [off, idle, loaded] = profile.states;
    expect(off?.median).toBeCloseTo(0.05, 1);
    expect(idle?.median).toBeCloseTo(3, 0);
    expect(loaded?.median).toBeGreaterThan(20);
    expect(loaded?.median).toBeLessThan(24);
    // The loaded band holds the product mix (22 kW +-10 %) and its noise, and stops short of +45 %.
    expect(loaded?.power.lo).toBeLessThan(19);
    expect(loaded?.power.hi).toBeGreaterThan(25);
    expect(loaded?.power.hi).toBeLessThan(30);
    expect(loaded?.powerFactor?.low).toBeGreaterThan(0.78);
    expect(loaded?.powerFactor?.low).toBeLessThan(0.85);
    expect(idle?.current?.hi).toBeLessThan(loaded?.current?.lo ?? 0);
    const shares = profile.states.map((s) => s.share);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    // Loaded cycles last 8-25 min, idle pauses mostly 2-8 min.
    expect(loaded?.dwell.medianMs).toBeGreaterThan(10 * MINUTE);
    expect(loaded?.dwell.maxMs).toBeLessThanOrEqual(26 * MINUTE);
    expect(idle?.dwell.medianMs).toBeLessThan(10 * MINUTE);
    // The machine never goes from off straight to loaded: it warms up idle.
    const t = profile.model.transitions;
    expect(t[0]?.[2]).toBe(0);
    expect(t[0]?.[1]).toBeGreaterThan(5);
    expect(t[1]?.[2]).toBeGreaterThan(100);
    expect(profile.model.boundaries).toHaveLength(2);
    expect(profile.stateOf(10).name).toBe("loaded");
    expect(profile.stateOf(0.2).name).toBe("off");
  });

  it("names four levels off / idle / loaded / peak and a machine with no off state idle / loaded", () => {
    const four = fitPowerProfile(levels([0, 3, 20, 40], 10, 40, 1), { seed: 2 });
    expect(four.states.map((s) => s.name)).toEqual(["off", "idle", "loaded", "peak"]);
    expect(four.states.map((s) => s.role)).toEqual(["off", "idle", "running", "running"]);
    const alwaysOn = fitPowerProfile(levels([3, 20], 10, 40, 2), { seed: 2 });
    expect(alwaysOn.states.map((s) => s.name)).toEqual(["idle", "loaded"]);
  });

  it("keeps one state for one noisy level rather than splitting it", () => {
    const one = fitPowerProfile(levels([20], 600, 1, 3), { seed: 4 });
    expect(one.states).toHaveLength(1);
    expect(one.states[0]?.role).toBe("running");
  });

  it("is deterministic for a seed", () => {
    const again = fitPowerProfile(readings, { seed: 1, tags, nominalVoltage: 400 });
    expect(JSON.stringify(again)).toBe(JSON.stringify(profile));
  });

  it("takes the voltage band from Un +-10 % when given, else learns it from the history", () => {
    expect(profile.model.voltage).toMatchObject({ source: "nominal", nominal: 400, scale: 4 });
    expect(profile.model.voltage?.lo).toBeCloseTo(360, 9);
    expect(profile.model.voltage?.hi).toBeCloseTo(440, 9);
    const learnt = fitPowerProfile(readings, { seed: 1 }).model.voltage;
    expect(learnt?.source).toBe("learnt");
    expect(learnt?.lo).toBeGreaterThan(380);
    expect(learnt?.hi).toBeLessThan(420);
  });

  it("refuses too few readings with a clear error, counting the non-finite ones it skipped", () => {
    const few = readings.slice(0, 150).map((r, i) => (i % 3 === 0 ? { ...r, power: Number.NaN } : r));
    expect(() => fitPowerProfile(few, { seed: 1 })).toThrow(
      /needs at least 200 readings with a finite power value, got 100 \(50 skipped\)/,
    );
    const poisoned = readings.map((r, i) =>
      i % 50 === 0 ? { ...r, power: Number.POSITIVE_INFINITY, voltage: Number.NaN } : r,
    );
    const p = fitPowerProfile(poisoned, { seed: 1 });
    expect(p.model.training.skippedReadings).toBe(Math.ceil(readings.length / 50));
    expect(p.states.every((s) => Number.isFinite(s.power.hi) && Number.isFinite(s.median))).toBe(true);
  });
});

describe("k-means and the choice of k", () => {
  it("k-means finds well-separated centres and contiguous clusters", () => {
    const data = Float64Array.from([1, 1.1, 0.9, 5, 5.2, 4.8, 9, 9.1, 8.9]).sort();
    const c = kmeans1d(data, 3, seededRandom(1));
    expect(Array.from(c.centres, (x) => Math.round(x))).toEqual([1, 5, 9]);
    expect(Array.from(c.ends)).toEqual([3, 6, 9]);
  });

  it("refuses a split of one Gaussian that Ashman's D alone would accept", () => {
    const g = gaussian(seededRandom(9));
    const data = Float64Array.from({ length: 5000 }, () => g()).sort();
    const choice = chooseStates(data, seededRandom(1));
    expect(choice.clustering.k).toBe(1);
    expect(choice.trials.find((t) => t.k === 2)?.minSeparation).toBeLessThan(2);
  });
});

describe("toJSON / fromJSON", () => {
  const saved = (): PowerProfileJson => JSON.parse(JSON.stringify(profile));

  it("round-trips through JSON text to the same model and the same findings", () => {
    const text = JSON.stringify(profile);
    const loaded = PowerProfile.fromJSON(JSON.parse(text));
    expect(JSON.stringify(loaded)).toBe(text);
    const scenario = powerScenario("overload", 11);
    const a = new PowerProfileMonitor();
    const b = new PowerProfileMonitor();
    for (const row of scenario.test) {
      expect(loaded.score(row.reading, row.context, b)).toEqual(profile.score(row.reading, row.context, a));
    }
    expect(b.toJSON()).toEqual(a.toJSON());
  });

  it("names its format and version, and keeps the configured tag names", () => {
    expect(saved()).toMatchObject({ format: POWER_PROFILE_FORMAT, version: 1, tags });
  });

  it("refuses a corrupt or foreign file with the reason", () => {
    const rejects = (edit: (json: Record<string, unknown>) => void, reason: RegExp) => {
      const json = saved() as unknown as Record<string, unknown>;
      edit(json);
      expect(() => PowerProfile.fromJSON(json)).toThrow(ProfileFormatError);
      expect(() => PowerProfile.fromJSON(json)).toThrow(reason);
    };
    expect(() => PowerProfile.fromJSON([1])).toThrow(/expected a JSON object, got an array/);
    rejects((j) => {
      j.format = "edgewarden.isolation-forest";
    }, /"format" is "edgewarden.isolation-forest"/);
    rejects((j) => {
      j.version = 2;
    }, /version 2 is not supported/);
    rejects((j) => {
      j.boundaries = [5];
    }, /1 boundaries for 3 states, expected 2/);
    rejects((j) => {
      j.boundaries = [5, 1];
    }, /boundaries\[1\] = 1 is not above/);
    rejects((j) => {
      (j.states as { power: { sigma: number } }[])[0] = {
        ...(j.states as object[])[0],
        power: { lo: 0, hi: 1, sigma: 0 },
      } as never;
    }, /states\.0\.power\.sigma/);
    rejects((j) => {
      delete j.transitions;
    }, /transitions/);
  });
});

describe("monitor state", () => {
  it("round-trips through JSON and continues exactly as the original", () => {
    const scenario = powerScenario("power-factor-drop", 12);
    const half = Math.floor(scenario.test.length / 2) + 500;
    const original = new PowerProfileMonitor();
    const first = scenario.test.slice(0, half).map((r) => profile.score(r.reading, r.context, original));
    expect(first.some((f) => f.length > 0)).toBe(true);
    const restored = PowerProfileMonitor.fromJSON(JSON.parse(JSON.stringify(original)));
    expect(restored.toJSON()).toEqual(original.toJSON());
    for (const row of scenario.test.slice(half)) {
      expect(profile.score(row.reading, row.context, restored)).toEqual(
        profile.score(row.reading, row.context, original),
      );
    }
  });

  it("refuses a state with an unknown rule or a bad run", () => {
    const json = new PowerProfileMonitor().toJSON();
    expect(() =>
      PowerProfileMonitor.fromJSON({ ...json, runs: { mining: { count: 1, sinceTs: 0, excessSum: 0 } } }),
    ).toThrow(RangeError);
    expect(() =>
      PowerProfileMonitor.fromJSON({ ...json, runs: { overload: { count: 0, sinceTs: 0, excessSum: 0 } } }),
    ).toThrow(/runs\.overload\.count/);
    expect(() => PowerProfileMonitor.fromJSON({ ...json, version: 2 })).toThrow(RangeError);
  });
});
