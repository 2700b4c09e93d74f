/**
 * The gateway's own profile (issue #6 item 2): crypto-mining-like CPU, botnet-like egress and
 * overheating injected into seeded synthetic self-health data are flagged with the right type,
 * trained and untrained; load the workload explains is not; bad values never poison the state.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  fitGatewayProfile,
  GATEWAY_PROFILE_FORMAT,
  GatewayProfile,
  GatewayProfileMonitor,
  type GatewayReading,
  type GatewayWorkload,
  untrainedGatewayProfile,
} from "../../src/analytics/gatewayProfile/index.js";
import { ProfileFormatError } from "../../src/analytics/power/index.js";
import {
  countFlags,
  DAY,
  GATEWAY_INJECTIONS,
  type GatewayRow,
  gatewayScenario,
  generateGateway,
  LOW,
  MINUTE,
  MONDAY,
} from "./support/powerMachine.js";

const SEEDS = [1, 2, 3, 4];

const profiles = new Map<number, GatewayProfile>();
function profileFor(seed: number): GatewayProfile {
  let p = profiles.get(seed);
  if (p === undefined) {
    p = fitGatewayProfile(
      gatewayScenario("none", seed).train.map((r) => ({ ...r.reading, ...r.workload })),
      { seed },
    );
    profiles.set(seed, p);
  }
  return p;
}

function run(profile: GatewayProfile, rows: readonly GatewayRow[]) {
  const monitor = new GatewayProfileMonitor();
  return { monitor, findings: rows.map((r) => profile.score(r.reading, r.workload, monitor)) };
}

describe.each(GATEWAY_INJECTIONS)("injected %s", (type) => {
  it.each([
    ["trained", profileFor],
    ["untrained", () => untrainedGatewayProfile()],
  ] as const)("is flagged with its type by the %s profile, and nothing else (seeds 1-4)", (_, make) => {
    for (const seed of SEEDS) {
      const scenario = gatewayScenario(type, seed);
      const { findings } = run(make(seed), scenario.test);
      const counts = countFlags(scenario.test, findings, scenario.span);
      expect(counts.dominant, `seed ${seed}`).toBe(type);
      expect(counts.inSpan[type] ?? 0, `seed ${seed}`).toBeGreaterThanOrEqual(60);
      expect(Object.keys(counts.inSpan), `seed ${seed}`).toEqual([type]);
      expect(counts.outside, `seed ${seed}`).toEqual({});
    }
  });
});

describe("clean self-health data", () => {
  it("gives no finding over a day with the nightly retrain and download burst, for seeds 1-5", () => {
    for (const seed of [...SEEDS, 5]) {
      const scenario = gatewayScenario("none", seed);
      for (const profile of [profileFor(seed), untrainedGatewayProfile()]) {
        expect(run(profile, scenario.test).findings.flat(), `seed ${seed}`).toEqual([]);
      }
    }
  });
});

describe("learnt relations", () => {
  const model = profileFor(1).model;

  it("learns CPU per sample/s, the uplink's overhead ratio and temperature per % CPU", () => {
    expect(model.cpu?.source).toBe("theil-sen");
    expect(model.cpu?.slope).toBeCloseTo(0.06, 2);
    expect(model.egress?.slope).toBeCloseTo(1.25, 1);
    expect(model.egress?.intercept).toBeGreaterThan(2000);
    expect(model.egress?.intercept).toBeLessThan(4000);
    expect(model.temperature?.slope).toBeGreaterThan(0.1);
  });

  it("falls back to a proportional line when the workload never varied in training", () => {
    const flat = generateGateway(3, MONDAY, MONDAY + DAY).map((r) => ({
      ...r.reading,
      ...r.workload,
      samplesPerSecond: 200,
    }));
    const p = fitGatewayProfile(flat, { seed: 1 });
    expect(p.model.cpu?.source).toBe("proportional");
    expect(p.model.cpu?.intercept).toBe(0);
  });

  it("refuses too few rows with a clear error", () => {
    const rows = generateGateway(1, MONDAY, MONDAY + 30 * MINUTE).map((r) => ({
      ...r.reading,
      ...r.workload,
    }));
    expect(() => fitGatewayProfile(rows, { seed: 1 })).toThrow(
      /needs at least 100 rows with a finite time, got 60/,
    );
  });
});

describe("what the workload explains is not an anomaly", () => {
  const profile = profileFor(2);
  const t0 = MONDAY + 7 * DAY + 14 * 60 * MINUTE;
  const sample = (
    i: number,
    cpuPercent: number,
    samplesPerSecond: number,
    txRate = 20_000,
    uplink = 11_000,
  ) => ({
    reading: { ts: t0 + i * 30_000, cpuPercent, temperature: 55, txRate, load1m: 1 } satisfies GatewayReading,
    workload: { samplesPerSecond, uplinkBytesPerSecond: uplink } satisfies GatewayWorkload,
  });
  const types = (rows: ReturnType<typeof sample>[]) => {
    const monitor = new GatewayProfileMonitor();
    return new Set(rows.flatMap((r) => profile.score(r.reading, r.workload, monitor).map((f) => f.type)));
  };

  it("95 % CPU for 20 min is crypto-mining at 250 samples/s, not at 1500 samples/s", () => {
    const n = 40;
    expect(types(Array.from({ length: n }, (_, i) => sample(i, 95, 250)))).toEqual(
      new Set(["crypto-mining"]),
    );
    expect(types(Array.from({ length: n }, (_, i) => sample(i, 95, 1500)))).toEqual(new Set());
  });

  it("a 4-minute CPU burst is not sustained enough", () => {
    expect(types(Array.from({ length: 8 }, (_, i) => sample(i, 99, 250)))).toEqual(new Set());
  });

  it("2 MB/s egress is botnet-like on an 11 kB/s uplink, not when the uplink sends 1.6 MB/s", () => {
    const n = 20;
    expect(types(Array.from({ length: n }, (_, i) => sample(i, 20, 250, 2_000_000)))).toEqual(
      new Set(["botnet-egress"]),
    );
    expect(types(Array.from({ length: n }, (_, i) => sample(i, 20, 250, 2_000_000, 1_600_000)))).toEqual(
      new Set(),
    );
  });

  it("81 degC is overheating even untrained (Raspberry Pi throttling starts at 80 degC)", () => {
    const monitor = new GatewayProfileMonitor();
    const untrained = untrainedGatewayProfile();
    const out = Array.from({ length: 6 }, (_, i) =>
      untrained.score(
        { ts: t0 + i * 30_000, temperature: 81 },
        { samplesPerSecond: 1, uplinkBytesPerSecond: 1 },
        monitor,
      ),
    );
    expect(out[5]?.[0]?.type).toBe("overheating");
    expect(out[5]?.[0]?.explanation).toMatch(
      /^temperature 81\.0 degC above 80\.0 degC \(Pi throttling limit\) for 6 readings/,
    );
  });
});

describe("save format and state", () => {
  it("round-trips trained and untrained profiles to the same JSON and the same findings", () => {
    const scenario = gatewayScenario("crypto-mining", 1);
    for (const profile of [profileFor(1), untrainedGatewayProfile()]) {
      const text = JSON.stringify(profile);
      const loaded = GatewayProfile.fromJSON(JSON.parse(text));
      expect(JSON.stringify(loaded)).toBe(text);
      expect(run(loaded, scenario.test).findings).toEqual(run(profile, scenario.test).findings);
    }
    expect(JSON.parse(JSON.stringify(profileFor(1)))).toMatchObject({
      format: GATEWAY_PROFILE_FORMAT,
      version: 1,
    });
  });

  it("refuses a corrupt file with the reason", () => {
    const json = JSON.parse(JSON.stringify(profileFor(1)));
    expect(() => GatewayProfile.fromJSON({ ...json, version: 7 })).toThrow(ProfileFormatError);
    expect(() => GatewayProfile.fromJSON({ ...json, cpu: { ...json.cpu, slope: -1 } })).toThrow(/cpu\.slope/);
    expect(() => GatewayProfile.fromJSON({ ...json, limits: { ...json.limits, cores: 0 } })).toThrow(
      /limits\.cores/,
    );
  });

  it("restores a monitor mid-run and continues exactly as the original", () => {
    const scenario = gatewayScenario("botnet-egress", 2);
    const profile = profileFor(2);
    const cut = scenario.test.findIndex((r) => r.injected !== null) + 3;
    const original = new GatewayProfileMonitor();
    for (const r of scenario.test.slice(0, cut)) {
      profile.score(r.reading, r.workload, original);
    }
    const restored = GatewayProfileMonitor.fromJSON(JSON.parse(JSON.stringify(original)));
    expect(restored.toJSON().runs["botnet-egress"]?.count).toBe(3);
    for (const r of scenario.test.slice(cut)) {
      expect(profile.score(r.reading, r.workload, restored)).toEqual(
        profile.score(r.reading, r.workload, original),
      );
    }
  });
});

describe("non-finite values never poison the state (issue #6 must-show)", () => {
  const profile = profileFor(4);
  const scenario = gatewayScenario("overheating", 4);
  const rows = scenario.test.filter(
    (r) => r.injected !== null || (r.reading.ts - (scenario.span?.from ?? 0)) % (20 * MINUTE) === 0,
  );
  const FIELDS = [
    "cpuPercent",
    "load1m",
    "temperature",
    "txRate",
    "rxRate",
    "samplesPerSecond",
    "uplinkBytesPerSecond",
  ] as const;

  it("a non-finite field acts as a missing one, a non-finite time as no sample (property, 40 runs)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.nat(rows.length - 1),
            fc.constantFrom(...FIELDS, "ts" as const),
            fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
          ),
          { maxLength: 30 },
        ),
        (corruptions) => {
          const bad = new Map<number, Map<string, number>>();
          for (const [i, field, value] of corruptions) {
            bad.set(i, (bad.get(i) ?? new Map()).set(field, value));
          }
          const corrupted = new GatewayProfileMonitor();
          const clean = new GatewayProfileMonitor();
          rows.forEach((row, i) => {
            const edits = bad.get(i) ?? new Map<string, number>();
            const split = (source: Record<string, number | undefined>, drop: boolean) => {
              const out: Record<string, number | undefined> = { ...source };
              for (const [field, value] of edits) {
                if (field in out) {
                  if (drop) {
                    delete out[field];
                  } else {
                    out[field] = value;
                  }
                }
              }
              return out;
            };
            const reading = split({ ...row.reading }, false) as unknown as GatewayReading;
            const workload = split({ ...row.workload }, false) as unknown as GatewayWorkload;
            const a = profile.score(reading, workload, corrupted);
            if (edits.has("ts")) {
              expect(a).toEqual([]);
              return;
            }
            const b = profile.score(
              split({ ...row.reading }, true) as unknown as GatewayReading,
              split({ ...row.workload }, true) as unknown as GatewayWorkload,
              clean,
            );
            expect(a).toEqual(b);
          });
          expect(corrupted.toJSON()).toEqual(clean.toJSON());
        },
      ),
      { numRuns: 40 },
    );
  });

  it("findings are flagged at LOW or above in the overheating span all the same", () => {
    const { findings } = run(profile, scenario.test);
    expect(findings.flat().filter((f) => f.probability >= LOW).length).toBeGreaterThan(100);
  });
});
