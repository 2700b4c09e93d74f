/**
 * The analytics stage's paths besides plain scoring (issue #6 items 2, 4 and 5), driven through
 * its public methods with a FakeClock and faked setInterval (the stage's tick), appending into
 * arrays: the gateway's own profile with the workload samples the tick records, OEE samples at a
 * shift's end, the baseline-learning period (muted, then alerting, "learning-ended" once per
 * gateway), and a torn model file at start (a warning, that detector untrained, the rest scoring).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AnomalyBody } from "../../src/analytics/alerts/index.js";
import { ModelStore } from "../../src/analytics/models/modelStore.js";
import { AnalyticsStage } from "../../src/analytics/stage/analyticsStage.js";
import type { HistorySource } from "../../src/analytics/training/historySource.js";
import { MachineHistory } from "../../src/analytics/training/machineHistory.js";
import { trainIsolationForest } from "../../src/analytics/training/trainers.js";
import { planTraining } from "../../src/analytics/training/trainingPlan.js";
import { trainMachine } from "../../src/analytics/training/trainMachine.js";
import type { Config } from "../../src/config/schema/index.js";
import type { EventRecord, Sample } from "../../src/records.js";
import { FakeClock, memoryLogger } from "../helpers/memoryLogger.js";
import { gaussian } from "./isolationForestFixtures.js";
import { analyticsConfig } from "./support/analyticsConfig.js";

const TICK_MS = 1_000;
const MINUTE = 60_000;

let dir: string;
const running: AnalyticsStage[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "ew-stage-paths-"));
  // Only the stage's own intervals (tick, save) are faked: file I/O and node-cron stay real.
  vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((stage) => stage.stop()));
  vi.useRealTimers();
  await rm(dir, { recursive: true, force: true });
});

/** History for retraining: none (these tests load or train their models themselves). */
const NO_HISTORY: HistorySource = {
  samples: () => ({
    [Symbol.asyncIterator]: () => ({
      next: () => Promise.resolve({ done: true as const, value: undefined }),
    }),
  }),
};

type StageEvent = Omit<EventRecord, "kind" | "ts" | "clockSynced">;

interface Harness {
  readonly stage: AnalyticsStage;
  readonly samples: Sample[];
  readonly anomalies: AnomalyBody[];
  readonly events: StageEvent[];
  readonly log: ReturnType<typeof memoryLogger>;
}

async function startStage(
  config: Config,
  clock: FakeClock,
  extra: { gatewayDevice?: string } = {},
): Promise<Harness> {
  const samples: Sample[] = [];
  const anomalies: AnomalyBody[] = [];
  const events: StageEvent[] = [];
  const log = memoryLogger({ clock });
  const analytics = config.analytics;
  if (analytics === undefined) {
    throw new Error("no analytics section");
  }
  const stage = new AnalyticsStage(
    {
      analytics,
      devices: config.devices,
      timeZone: "UTC",
      tickIntervalMs: TICK_MS,
      saveIntervalMs: 24 * 60 * MINUTE,
      train: (inputs, progress) => trainMachine(inputs, progress),
      ...extra,
    },
    {
      append: {
        appendSample: (sample) => {
          samples.push(sample);
          return 100;
        },
        appendAnomaly: (body) => {
          anomalies.push(body);
        },
      },
      history: NO_HISTORY,
      events: { emit: (event) => events.push(event) },
      clock,
      logger: log.logger,
    },
  );
  await stage.start();
  running.push(stage);
  return { stage, samples, anomalies, events, log };
}

/** Runs the stage's tick once (its interval is faked). */
function tick(): void {
  vi.advanceTimersByTime(TICK_MS);
}

function sample(
  device: string,
  ts: number,
  values: Record<string, number | boolean>,
  group?: string,
): Sample {
  return {
    kind: "sample",
    device,
    ts,
    clockSynced: true,
    ...(group === undefined ? {} : { group }),
    values: Object.fromEntries(
      Object.entries(values).map(([tag, value]) => [tag, { value, quality: "good" }]),
    ),
  };
}

const summary = (bodies: readonly AnomalyBody[]) => bodies.map((b) => `${b.state}:${b.type}`);

describe("the gateway's own profile in the stage", () => {
  it("records the workload once a minute and raises crypto-mining for sustained CPU with little workload", async () => {
    const config = analyticsConfig({ dataDir: dir, tags: ["a"], analytics: "  learningPeriod: 0s\n" });
    const clock = new FakeClock();
    const { stage, samples, anomalies, log } = await startStage(config, clock, { gatewayDevice: "gateway" });
    expect(stage.machine("gateway")?.detectors.map((d) => d.kind)).toEqual(["gateway-profile"]);
    expect(log.lines.find((l) => l.msg === "analytics ready" && l.device === "gateway")).toMatchObject({
      untrained: ["gateway-profile"],
    });

    const startTs = clock.wall;
    // A self-health round every 30 s for 12 min: CPU pinned at 99 % while the pipeline is idle.
    for (let i = 0; i < 24; i++) {
      clock.advance(30_000);
      stage.accept(
        sample("gateway", clock.wall, {
          cpu_percent: 99,
          load_1m: 3.9,
          temperature: 62,
          network_tx_rate: 4_000,
          network_rx_rate: 2_000,
        }),
      );
      tick();
    }

    const workload = samples.filter((s) => s.group === "workload");
    expect(workload.length).toBeGreaterThanOrEqual(11);
    expect(workload.length).toBeLessThanOrEqual(12);
    for (const w of workload) {
      expect(w.device).toBe("gateway");
      expect(w.values["workload.samples_per_second"]?.value).toBeLessThan(1);
      expect(w.values["workload.record_bytes_per_second"]?.value).toBeLessThan(100);
    }
    expect(summary(anomalies)).toEqual(["raised:crypto-mining"]);
    const raised = anomalies[0];
    expect(raised).toMatchObject({ device: "gateway", type: "crypto-mining", state: "raised" });
    // Sustained means several minutes (the rule's persistence: 3 readings and 5 min).
    expect((raised?.ts ?? 0) - startTs).toBeGreaterThanOrEqual(5 * MINUTE);
    expect(raised?.tags.map((t) => t.tag)).toContain("cpu_percent");
  });
});

describe("OEE in the stage", () => {
  it("appends the shift's final OEE sample when the machine's readings cross the shift's end", async () => {
    const config = analyticsConfig({
      dataDir: dir,
      tags: ["run_state", "parts"],
      analytics: `  learningPeriod: 0s
  shifts:
    - { name: early, start: "06:00", end: "14:00" }
    - { name: late, start: "14:00", end: "22:00" }
  machines:
    - device: press-1
      oee: { runState: run_state, totalCount: parts, idealCycleTime: 10s }
`,
    });
    const clock = new FakeClock();
    const { stage, samples } = await startStage(config, clock);
    const shiftEnd = Date.UTC(2026, 0, 1, 14);
    // Running, one part every 10 s, read every 10 s from 13:50 to 14:10.
    for (let k = 0; k <= 120; k++) {
      const ts = shiftEnd - 10 * MINUTE + k * 10_000;
      clock.wall = ts;
      stage.accept(sample("press-1", ts, { run_state: true, parts: k }));
    }
    const oee = samples.filter((s) => s.group === "oee");
    expect(oee.length).toBeGreaterThan(0);
    expect(oee.every((s) => s.device === "press-1")).toBe(true);
    const finals = oee.filter((s) => s.values["oee.final"]?.value === 1);
    expect(finals).toHaveLength(1);
    const final = finals[0];
    expect(final?.ts).toBe(shiftEnd);
    expect(final?.values["oee.shift"]?.value).toBe("early");
    // Parts 1..59 showed before 14:00 (the first reading is the counter's baseline).
    expect(final?.values["oee.total_count"]?.value).toBe(59);
    expect(final?.values["oee.availability"]?.value).toBe(1);
    expect(final?.values["oee.performance"]?.value).toBeCloseTo((59 * 10) / 600, 6);
    // Running figures of the late shift follow, not final.
    expect(oee.some((s) => s.ts > shiftEnd && s.values["oee.shift"]?.value === "late")).toBe(true);
    expect(stage.stats().derivedSamples).toBe(oee.length);
  });
});

describe("the baseline-learning period", () => {
  const LEARNING = "  learningPeriod: 1h\n  machines:\n    - device: press-1\n";

  /** 600 normal readings of `value` a second apart, then a 5-reading spike; returns its records. */
  function normalThenSpike(harness: Harness, clock: FakeClock, seed: number): AnomalyBody[] {
    const normal = gaussian(seed);
    const before = harness.anomalies.length;
    for (let i = 0; i < 605; i++) {
      clock.advance(1_000);
      harness.stage.accept(sample("press-1", clock.wall, { value: i >= 600 ? 100 : 50 + normal() }));
    }
    return harness.anomalies.slice(before);
  }

  it("mutes a clear fault while learning, alerts after the period, and says so once per gateway", async () => {
    const config = analyticsConfig({ dataDir: dir, tags: ["value"], analytics: LEARNING });
    const clock = new FakeClock();
    const first = await startStage(config, clock);
    expect(first.stage.learning).toBe(true);
    expect(first.log.lines.some((l) => String(l.msg).startsWith("analytics learning"))).toBe(true);

    expect(normalThenSpike(first, clock, 31)).toEqual([]);
    expect(first.stage.machine("press-1")?.alerts.stats().mutedFindings).toBeGreaterThan(0);
    tick();
    expect(first.events.map((e) => e.type)).not.toContain("analytics.learning-ended");

    clock.advance(60 * MINUTE);
    tick();
    expect(first.stage.learning).toBe(false);
    expect(first.events.filter((e) => e.type === "analytics.learning-ended")).toHaveLength(1);
    expect(summary(normalThenSpike(first, clock, 32))).toEqual(["raised:signal-outlier"]);
    tick();
    tick();
    expect(first.events.filter((e) => e.type === "analytics.learning-ended")).toHaveLength(1);
    await first.stage.stop();
    running.splice(running.indexOf(first.stage), 1);

    // A restart after the period: the period began at the first start (models dir), so it is over.
    clock.advance(10 * MINUTE);
    const second = await startStage(config, clock);
    expect(second.stage.learning).toBe(false);
    expect(second.log.lines.some((l) => String(l.msg).startsWith("analytics learning"))).toBe(false);
    tick();
    tick();
    expect(second.events.map((e) => e.type)).not.toContain("analytics.learning-ended");
    const meta = JSON.parse(await readFile(join(dir, "models", "analytics.json"), "utf8")) as unknown;
    expect(meta).toEqual({ firstStartTs: Date.UTC(2026, 0, 1) });
  });
});

describe("a torn model file at start", () => {
  const ANALYTICS = `  learningPeriod: 0s
  training: { minSamples: 200, history: 1d }
  machines:
    - device: press-1
      detectors:
        streaming: { tags: [a] }
        isolationForest: { features: [a, b], trees: 50, seed: 5 }
      power: { power: kw }
`;

  it("is logged, leaves that detector untrained, and the stage scores with the others", async () => {
    const config = analyticsConfig({ dataDir: dir, tags: ["a", "b", "kw"], analytics: ANALYTICS });
    const machine = config.analytics?.machines[0];
    if (machine === undefined) {
      throw new Error("no machine");
    }
    // A trained isolation forest in the models directory, and a power profile cut off mid-write.
    const normal = gaussian(41);
    const history = new MachineHistory(planTraining(machine));
    for (let i = 0; i < 1_000; i++) {
      const a = 50 + normal();
      history.add(sample("press-1", i * 1_000, { a, b: 2 * a + normal(), kw: 5 }));
    }
    const input = history
      .inputs({ machine, source: "ledger", timeZone: "UTC", shifts: [], backend: "cpu", now: 1 })
      .find((i) => i.plan.kind === "isolation-forest");
    const store = new ModelStore(join(dir, "models"));
    await store.saveModel(await trainIsolationForest(input!, () => undefined));
    const torn = store.modelPath("press-1", "power-profile");
    await mkdir(join(dir, "models", "press-1"), { recursive: true });
    await writeFile(torn, '{"card":{"format":"edgewarden.model-card","version":1,"device":"press-');

    const clock = new FakeClock();
    const { stage, anomalies, log } = await startStage(config, clock);
    const warning = log.lines.find(
      (l) => l.msg === "model not loaded; the detector waits for the next training",
    );
    expect(warning).toMatchObject({ level: "warn", device: "press-1", detector: "power-profile" });
    expect(String(warning?.reason)).toMatch(/torn or edited/);
    expect(log.lines.find((l) => l.msg === "analytics ready")).toMatchObject({
      device: "press-1",
      detectors: ["streaming", "isolation-forest"],
      untrained: ["power-profile"],
    });
    // The retrain of the missing model finds no history and keeps the models it has.
    await stage.retrain("request");
    expect(stage.machine("press-1")?.detectors.map((d) => d.kind)).toEqual(["streaming", "isolation-forest"]);

    for (let i = 0; i < 300; i++) {
      clock.advance(1_000);
      const a = 50 + normal();
      stage.accept(sample("press-1", clock.wall, { a, b: 2 * a + normal(), kw: 5 }));
    }
    // (A 4-sigma reading or two among them may have alerted and cleared: the 99.5 % threshold.)
    expect(stage.machine("press-1")?.alerts.stats().openEpisodes).toBe(0);
    const before = anomalies.length;
    clock.advance(1_000);
    stage.accept(sample("press-1", clock.wall, { a: 70, b: 140, kw: 5 })); // 20 sigma out on both
    const spike = anomalies.slice(before);
    expect(summary(spike)).toEqual(["raised:multivariate"]);
    expect(spike[0]?.severity).toBe("CRITICAL");
    expect(spike[0]?.detectors.map((d) => d.detector).sort()).toEqual(["isolation-forest", "streaming"]);
    expect(stage.stats().detectorErrors).toBe(0);
  });
});
