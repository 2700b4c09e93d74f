import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildMachine } from "../../src/analytics/machine/machineBuilder.js";
import type { MachineConfig } from "../../src/analytics/machine/machineConfig.js";
import { TagHold } from "../../src/analytics/machine/tagHold.js";
import { ModelFileError, ModelStore } from "../../src/analytics/models/modelStore.js";
import { DecimatingSeries } from "../../src/analytics/training/decimatingSeries.js";
import { MachineHistory } from "../../src/analytics/training/machineHistory.js";
import { trainIsolationForest } from "../../src/analytics/training/trainers.js";
import { planTraining } from "../../src/analytics/training/trainingPlan.js";
import { trainMachine } from "../../src/analytics/training/trainMachine.js";
import type { Quality, Sample } from "../../src/records.js";
import { gaussian } from "./isolationForestFixtures.js";
import { analyticsConfig } from "./support/analyticsConfig.js";

function sample(
  ts: number,
  values: Record<string, number | boolean | string>,
  quality: Quality = "good",
): Sample {
  return {
    kind: "sample",
    device: "press-1",
    ts,
    clockSynced: true,
    values: Object.fromEntries(Object.entries(values).map(([tag, value]) => [tag, { value, quality }])),
  };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "ew-machine-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function machineOf(analytics: string, tags = ["a", "b", "c"]): MachineConfig {
  const config = analyticsConfig({ dataDir: dir, tags, analytics });
  const machine = config.analytics?.machines[0];
  if (machine === undefined) {
    throw new Error("no machine");
  }
  return machine;
}

/** Correlated a, b = 2a, c = a + b with small noise: normal vectors. */
function normalSamples(count: number, seed: number, startTs = 0): Sample[] {
  const normal = gaussian(seed);
  return Array.from({ length: count }, (_, i) => {
    const a = 10 + normal();
    return sample(startTs + i * 1_000, { a, b: 2 * a + 0.1 * normal(), c: 3 * a + 0.1 * normal() });
  });
}

describe("TagHold", () => {
  it("holds good finite values, maps booleans to 1/0 and forgets a tag whose reading turns bad", () => {
    const hold = new TagHold();
    expect(hold.update(sample(1, { a: 1.5, run: true, label: "x" }))).toEqual([
      { tag: "a", value: 1.5 },
      { tag: "run", value: 1 },
    ]);
    expect(hold.update(sample(2, { a: 3 }, "bad"))).toEqual([]);
    expect(hold.get("a")).toBeUndefined();
    expect(hold.get("run")).toEqual({ value: 1, ts: 1 });
    expect(hold.update(sample(3, { a: Number.NaN, run: Number.POSITIVE_INFINITY }))).toEqual([]);
    expect(hold.get("run")).toBeUndefined();
    expect(hold.stats().refused).toBe(3);
    const out = new Float64Array(1);
    expect(hold.vector(["a"], out)).toBe(false);
  });
});

describe("DecimatingSeries", () => {
  it("keeps at most its capacity, in order, spread evenly over everything offered", () => {
    const series = new DecimatingSeries(2, 100);
    for (let i = 0; i < 1_000; i++) {
      series.push(i, [i, -i]);
    }
    expect(series.count).toBeLessThanOrEqual(100);
    expect(series.count).toBeGreaterThanOrEqual(50);
    expect(series.offered).toBe(1_000);
    const times = series.times();
    const gaps = new Set<number>();
    for (let i = 1; i < times.length; i++) {
      gaps.add((times[i] as number) - (times[i - 1] as number));
    }
    expect([...gaps]).toHaveLength(1); // one stride: even coverage, order kept
    expect(times[0]).toBe(0);
    expect((times.at(-1) as number) + [...gaps][0]!).toBeGreaterThanOrEqual(1_000 - [...gaps][0]!);
    const rows = series.rows();
    expect(rows[1]).toBe(-(rows[0] as number));
    expect(series.span).toEqual({ from: 0, to: 999 });
  });
});

describe("a machine's models", () => {
  const ifConfig = `  machines:
    - device: press-1
      detectors:
        isolationForest: { features: [a, b, c], trees: 50, seed: 7 }
`;

  async function trainAndStore(machine: MachineConfig, store: ModelStore) {
    const plan = planTraining(machine);
    const history = new MachineHistory(plan);
    for (const s of normalSamples(2_000, 1)) {
      history.add(s);
    }
    const [input] = history.inputs({
      machine,
      source: "ledger",
      timeZone: "UTC",
      shifts: [],
      backend: "cpu",
      now: 1_800_000_000_000,
    });
    const stored = await trainIsolationForest(input!, () => undefined);
    await store.saveModel(stored);
    return stored;
  }

  it("are trained with a model card, survive a restart and score as before", async () => {
    const machine = machineOf(ifConfig);
    const store = new ModelStore(join(dir, "models"));
    const stored = await trainAndStore(machine, store);
    expect(stored.card).toMatchObject({
      device: "press-1",
      kind: "isolation-forest",
      features: ["a", "b", "c"],
      thresholdPercentile: 99.5,
      seed: 7,
      training: { source: "ledger", rows: 1_800 },
    });
    expect(stored.card.validation.validationFalseAlarmRate).toBeLessThan(0.03);
    const card = await readFile(join(dir, "models", "press-1", "isolation-forest.card.md"), "utf8");
    expect(card).toContain("Features (3): a, b, c");

    const loaded = await store.loadModel("press-1", "isolation-forest");
    expect(loaded).toBeDefined();
    const build = () =>
      buildMachine({
        machine,
        deviceTags: ["a", "b", "c"],
        models: new Map([["isolation-forest", loaded!]]),
        timeZone: "UTC",
        muted: false,
      });
    const first = build();
    const second = build(); // as after a restart: a new process loading the same file
    expect(first.untrained).toEqual([]);
    // 15 sigma out along the training data's own direction: beyond every training range
    const odd = sample(5_000_000, { a: 25, b: 50, c: 75 });
    const one = first.analytics.observe(odd);
    const two = second.analytics.observe(odd);
    expect(one.findings).toEqual(two.findings);
    const finding = one.findings.find((f) => f.detector === "isolation-forest");
    expect(finding?.type).toBe("multivariate");
    expect(finding?.probability).toBeGreaterThan(0.6);
    expect(finding?.tags.map((t) => t.tag).sort()).toEqual(["a", "b", "c"]);
    expect(one.anomalies.map((a) => [a.state, a.type])).toEqual([["raised", "multivariate"]]);
  });

  it("is not used when it was trained for other settings, and a torn file is a clear error", async () => {
    const machine = machineOf(ifConfig);
    const store = new ModelStore(join(dir, "models"));
    const stored = await trainAndStore(machine, store);
    const changed = machineOf(ifConfig.replace("trees: 50", "trees: 60"));
    const built = buildMachine({
      machine: changed,
      deviceTags: ["a", "b", "c"],
      models: new Map([["isolation-forest", stored]]),
      timeZone: "UTC",
      muted: false,
    });
    expect(built.untrained).toEqual(["isolation-forest"]);
    expect(built.notes.join()).toMatch(/trained for other settings/);

    const path = store.modelPath("press-1", "isolation-forest");
    const text = await readFile(path, "utf8");
    await writeFile(path, text.slice(0, text.length / 2));
    await expect(store.loadModel("press-1", "isolation-forest")).rejects.toThrow(ModelFileError);
    await expect(store.loadModel("press-1", "isolation-forest")).rejects.toThrow(/torn or edited/);
    expect(await store.loadModel("press-1", "autoencoder")).toBeUndefined();
  });
});

describe("the default detector configuration", () => {
  it("runs streaming detectors on every tag of the device and raises then ends one alert for a spike", () => {
    const machine = machineOf("  machines:\n    - device: press-1\n", ["value"]);
    const built = buildMachine({
      machine,
      deviceTags: ["value"],
      models: new Map(),
      timeZone: "UTC",
      muted: false,
    });
    expect(built.analytics.detectors.map((d) => d.kind)).toEqual(["streaming"]);
    const normal = gaussian(3);
    const states: string[] = [];
    for (let i = 0; i < 3_000; i++) {
      const spike = i >= 2_000 && i < 2_005;
      const out = built.analytics.observe(sample(i * 60_000, { value: spike ? 100 : 50 + normal() }));
      states.push(...out.anomalies.map((a) => `${a.state}:${a.type}`));
    }
    expect(states).toEqual(["raised:signal-outlier", "ended:signal-outlier"]);
  });

  it("keeps its state unchanged by non-finite and bad-quality readings", () => {
    const machine = machineOf("  machines:\n    - device: press-1\n", ["value"]);
    const built = buildMachine({
      machine,
      deviceTags: ["value"],
      models: new Map(),
      timeZone: "UTC",
      muted: false,
    });
    const normal = gaussian(4);
    for (let i = 0; i < 500; i++) {
      built.analytics.observe(sample(i * 1_000, { value: 20 + normal() }));
    }
    const before = JSON.stringify(built.analytics.saveState());
    built.analytics.observe(sample(500_000, { value: Number.NaN }));
    built.analytics.observe(sample(501_000, { value: Number.POSITIVE_INFINITY }));
    built.analytics.observe(sample(502_000, { value: 1e9 }, "bad"));
    built.analytics.observe(sample(503_000, { value: 1e9 }, "uncertain"));
    expect(JSON.stringify(built.analytics.saveState())).toBe(before);
  });
});

describe("training every trainable detector", () => {
  it("trains the isolation forest, the autoencoder and the power profile of one machine, and builds them", async () => {
    const machine = machineOf(
      `  machines:
    - device: press-1
      detectors:
        isolationForest: { features: [kw, amps, volts], trees: 20 }
        autoencoder: { features: [kw, amps, volts], epochs: 3, hiddenUnits: [4, 2] }
      power: { power: kw, current: amps, voltage: volts, nominalVoltage: 400 }
`,
      ["kw", "amps", "volts"],
    );
    const normal = gaussian(8);
    const history = new MachineHistory(planTraining(machine));
    for (let i = 0; i < 3_000; i++) {
      // Alternating idle (5 kW) and loaded (40 kW) half-hours at 400 V.
      const kw = (Math.floor(i / 30) % 2 === 0 ? 5 : 40) + 0.5 * normal();
      const volts = 400 + normal();
      history.add(sample(i * 60_000, { kw, amps: (kw * 1000) / (Math.sqrt(3) * volts * 0.9), volts }));
    }
    const results = await trainMachine(
      history.inputs({
        machine,
        source: "csv",
        timeZone: "UTC",
        shifts: [],
        backend: "cpu",
        now: 1_800_000_000_000,
      }),
      () => undefined,
    );
    expect(results.map((r) => [r.kind, r.ok])).toEqual([
      ["isolation-forest", true],
      ["autoencoder", true],
      ["power-profile", true],
    ]);
    const models = new Map(results.flatMap((r) => (r.ok ? [[r.kind, r.stored] as const] : [])));
    const built = buildMachine({
      machine,
      deviceTags: ["kw", "amps", "volts"],
      models,
      timeZone: "UTC",
      muted: false,
    });
    expect(built.untrained).toEqual([]);
    expect(built.analytics.detectors.map((d) => d.kind)).toEqual([
      "isolation-forest",
      "autoencoder",
      "power-profile",
    ]);
    const power = results.find((r) => r.kind === "power-profile");
    expect(power?.ok && power.stored.card.validation.states).toBe(2);
  }, 60_000);
});
