/**
 * The power profile's typed rules (issue #6 item 2 and its must-shows): each anomaly type injected
 * into seeded synthetic machine data is flagged with the right type and no other type dominates;
 * clean data stays quiet; one spike is not an alert; non-finite values never poison the state.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  fitPowerProfile,
  type PowerProfile,
  PowerProfileMonitor,
  type PowerReading,
} from "../../src/analytics/power/index.js";
import {
  countFlags,
  LOW,
  type MachineRow,
  MINUTE,
  POWER_INJECTIONS,
  powerScenario,
} from "./support/powerMachine.js";

const SEEDS = [1, 2, 3, 4];
const tags = { power: "spindle_kw", current: "spindle_a", voltage: "supply_v", powerFactor: "spindle_pf" };

/** Profiles by seed: every scenario of a seed shares its training history. */
const profiles = new Map<number, PowerProfile>();
function profileFor(seed: number): PowerProfile {
  let p = profiles.get(seed);
  if (p === undefined) {
    const train = powerScenario("none", seed).train.map((r) => r.reading);
    p = fitPowerProfile(train, { seed, tags, nominalVoltage: 400 });
    profiles.set(seed, p);
  }
  return p;
}

function run(profile: PowerProfile, rows: readonly MachineRow[], schedule = true) {
  const monitor = new PowerProfileMonitor();
  const findings = rows.map((r) =>
    profile.score(r.reading, schedule ? r.context : { inSchedule: undefined }, monitor),
  );
  return { monitor, findings };
}

describe.each(POWER_INJECTIONS)("injected %s", (type) => {
  it("is flagged with its type inside the span, and no other type dominates (seeds 1-4)", () => {
    for (const seed of SEEDS) {
      const scenario = powerScenario(type, seed);
      const { findings } = run(profileFor(seed), scenario.test);
      const counts = countFlags(scenario.test, findings, scenario.span, HELD_AFTER_MS);
      const mine = counts.inSpan[type] ?? 0;
      expect(counts.dominant, `seed ${seed}`).toBe(type);
      expect(mine, `seed ${seed}`).toBeGreaterThanOrEqual(10);
      for (const [other, n] of Object.entries(counts.inSpan)) {
        if (other !== type) {
          expect(n, `seed ${seed}: ${other} inside a ${type} span`).toBeLessThan(0.15 * mine);
        }
      }
      const falseAlarms = Object.values(counts.outside).reduce((a, b) => a + b, 0);
      expect(falseAlarms, `seed ${seed}: ${JSON.stringify(counts.outside)}`).toBeLessThanOrEqual(2);
    }
  });
});

/** A finding held through readings its rule cannot judge may outlast the injected span by a pause. */
const HELD_AFTER_MS = 30 * 60_000;

describe("clean data", () => {
  it("gives no finding at LOW or above over two days, for seeds 1-6", () => {
    for (const seed of [...SEEDS, 5, 6]) {
      const profile =
        seed <= 4
          ? profileFor(seed)
          : fitPowerProfile(
              powerScenario("none", seed).train.map((r) => r.reading),
              { seed },
            );
      const scenario = powerScenario("none", seed);
      const { findings, monitor } = run(profile, scenario.test);
      expect(
        findings.flat().filter((f) => f.probability >= LOW),
        `seed ${seed}`,
      ).toEqual([]);
      expect(findings.flat().length, `seed ${seed}`).toBeLessThanOrEqual(3);
      expect(monitor.stats.accepted).toBe(scenario.test.length);
    }
  });
});

describe("persistence and probability", () => {
  const profile = profileFor(1);
  const loadedHi = profile.states[2]?.power.hi ?? 0;
  const t0 = powerScenario("none", 1).test[0]?.reading.ts ?? 0;
  const at = (i: number, power: number, extra: Partial<PowerReading> = {}): PowerReading => ({
    ts: t0 + 9 * 60 * MINUTE + i * MINUTE,
    power,
    voltage: 400,
    powerFactor: 0.86,
    ...extra,
  });
  const onShift = { inSchedule: true };

  it("does not alert on one or two spikes; the third consecutive reading speaks", () => {
    const monitor = new PowerProfileMonitor();
    const out = [22, 40, 22, 40, 40, 22, 40, 40, 40].map((p, i) => profile.score(at(i, p), onShift, monitor));
    expect(out.slice(0, 8).every((f) => f.length === 0)).toBe(true);
    expect(out[8]?.map((f) => f.type)).toEqual(["overload"]);
  });

  it("gives a higher probability the further and the longer past the band", () => {
    const series = (factor: number) => {
      const monitor = new PowerProfileMonitor();
      return Array.from(
        { length: 30 },
        (_, i) => profile.score(at(i, loadedHi * factor), onShift, monitor)[0]?.probability ?? 0,
      );
    };
    const near = series(1.05);
    const far = series(1.3);
    expect(far[2]).toBeGreaterThan(near[2] ?? 1);
    for (let i = 3; i < 30; i++) {
      expect(near[i]).toBeGreaterThanOrEqual(near[i - 1] ?? 1);
    }
    expect(near[29]).toBeGreaterThan(near[2] ?? 1);
    expect(far.every((p, i) => i < 2 || (p > 0.9 && p <= 1))).toBe(true);
  });

  it("explains with the configured tag names and the numbers", () => {
    const monitor = new PowerProfileMonitor();
    let last: readonly { explanation: string; tags: readonly { tag: string }[] }[] = [];
    for (let i = 0; i < 4; i++) {
      last = profile.score(at(i, 33.3, { voltage: 340 }), onShift, monitor);
    }
    const texts = last.map((f) => f.explanation);
    expect(texts).toContainEqual(
      expect.stringMatching(
        /^spindle_kw 33\.3 above the loaded band \d+\.\d–\d+\.\d for 4 readings \(3 min\)$/,
      ),
    );
    expect(texts).toContainEqual(
      expect.stringMatching(/^supply_v 340 below the supply band 360–440 \(Un 400 V ±10 %\) for 4 readings/),
    );
    expect(last.flatMap((f) => f.tags.map((t) => t.tag)).sort()).toEqual(["spindle_kw", "supply_v"]);
  });

  it("ends every run after a gap in the data longer than maxGapMs", () => {
    const monitor = new PowerProfileMonitor();
    profile.score(at(0, 40), onShift, monitor);
    profile.score(at(1, 40), onShift, monitor);
    const gap = profile.model.tuning.maxGapMs / MINUTE + 2;
    expect(profile.score(at(gap, 40), onShift, monitor)).toEqual([]);
    expect(profile.score(at(gap + 1, 40), onShift, monitor)).toEqual([]);
    expect(profile.score(at(gap + 2, 40), onShift, monitor).map((f) => f.type)).toEqual(["overload"]);
  });
});

describe("idle-draw and outside-schedule", () => {
  it("types a machine left idle after the shift as idle-draw, 'left running'", () => {
    const scenario = powerScenario("idle-draw", 2); // even seed: left on
    const { findings } = run(profileFor(2), scenario.test);
    const texts = findings
      .flat()
      .filter((f) => f.type === "idle-draw")
      .map((f) => f.explanation);
    expect(texts[0]).toMatch(
      /^spindle_kw \d\.\d: idle for \d+ min outside the schedule \(a normal pause is up to \d+ min\): machine left running$/,
    );
  });

  it("types a machine working out of hours as outside-schedule, holding through its normal pauses", () => {
    const scenario = powerScenario("outside-schedule", 1);
    const { findings } = run(profileFor(1), scenario.test);
    const flagged = findings.flat().filter((f) => f.type === "outside-schedule");
    expect(flagged[0]?.explanation).toMatch(
      /^spindle_kw \d+\.\d \(loaded\) outside the schedule for \d+ min$/,
    );
    // Readings in idle pauses within the run carry no finding, but the run continues after them.
    const lengths = findings.map((f) => f.some((x) => x.type === "outside-schedule"));
    const firstFlag = lengths.indexOf(true);
    const last = lengths.lastIndexOf(true);
    expect(last - firstFlag).toBeGreaterThan(120);
  });

  it("without a schedule, never flags outside-schedule; a machine idle for hours is still idle-draw", () => {
    const outside = powerScenario("outside-schedule", 1);
    const a = run(profileFor(1), outside.test, false);
    expect(a.findings.flat().filter((f) => f.type === "outside-schedule")).toEqual([]);
    const leftOn = powerScenario("idle-draw", 2);
    const b = run(profileFor(2), leftOn.test, false);
    const idle = b.findings.flat().filter((f) => f.type === "idle-draw" && f.probability >= LOW);
    expect(idle.length).toBeGreaterThan(60);
    expect(idle[0]?.explanation).toMatch(/longer than it ever idles/);
  });
});

describe("non-finite and late values never poison the state (issue #6 must-show)", () => {
  const profile = profileFor(3);
  const scenario = powerScenario("voltage-sag", 3);
  const span = scenario.span ?? { from: 0, to: 0 };
  const rows = scenario.test.filter(
    (r) => r.reading.ts >= span.from - 60 * MINUTE && r.reading.ts < span.to + 60 * MINUTE,
  );
  const FIELDS = ["power", "current", "voltage", "powerFactor", "ts"] as const;
  const BAD = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];

  it("a corrupted reading acts as if absent, a non-finite field as if missing (property, 40 runs)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(rows.length - 1), fc.constantFrom(...FIELDS), fc.constantFrom(...BAD)), {
          maxLength: 40,
        }),
        (corruptions) => {
          const bad = new Map<number, Map<string, number>>();
          for (const [i, field, value] of corruptions) {
            bad.set(i, (bad.get(i) ?? new Map()).set(field, value));
          }
          const corrupted = new PowerProfileMonitor();
          const clean = new PowerProfileMonitor();
          rows.forEach((row, i) => {
            const edits = bad.get(i);
            const reading = { ...row.reading, ...Object.fromEntries(edits ?? []) } as PowerReading;
            const a = profile.score(reading, row.context, corrupted);
            // The reference: a reading whose time or power is bad is dropped; a bad field is left out.
            if (edits?.has("ts") || edits?.has("power")) {
              expect(a).toEqual([]);
              return;
            }
            const stripped: Record<string, number | undefined> = { ...row.reading };
            for (const field of edits?.keys() ?? []) {
              delete stripped[field];
            }
            const b = profile.score(stripped as unknown as PowerReading, row.context, clean);
            expect(a).toEqual(b);
          });
          expect(corrupted.toJSON()).toEqual(clean.toJSON());
          const fieldEdits = [...bad.values()].filter((e) => !e.has("ts") && !e.has("power"));
          const refused = [...bad.values()].length - fieldEdits.length;
          expect(corrupted.stats.refusedNonFinite).toBe(refused);
          expect(corrupted.stats.ignoredFields).toBe(fieldEdits.reduce((n, e) => n + e.size, 0));
        },
      ),
      { numRuns: 40 },
    );
  });

  it("refuses a reading not after the last one, and counts it", () => {
    const monitor = new PowerProfileMonitor();
    const first = rows[0] as MachineRow;
    profile.score(first.reading, first.context, monitor);
    const before = JSON.stringify(monitor);
    expect(profile.score({ ...first.reading, power: 99 }, first.context, monitor)).toEqual([]);
    expect(JSON.stringify(monitor)).toBe(before);
    expect(monitor.stats.refusedOutOfOrder).toBe(1);
  });
});
