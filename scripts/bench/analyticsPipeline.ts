/**
 * The pipeline section of the analytics benchmark (issue #6 item 8: "sample -> anomaly record
 * latency p99"; budget 10 ms). A machine with every detector of the config on five tags (streaming
 * on each, isolation forest and autoencoder on the five, a power profile), its models trained from
 * seeded history, run through the real AnalyticsStage: accept() appends the sample and scores it,
 * and the time from accept() to the anomaly record's append is the latency measured. Faults are
 * injected every 2,000 samples (cooldown 0, so each is its own alert). Also: µs per sample for the
 * whole machine, and model load time (read + parse + validate + build) per stored model.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildMachine, detectorFromModel } from "../../src/analytics/machine/machineBuilder.js";
import { ModelStore } from "../../src/analytics/models/modelStore.js";
import { seededRandom } from "../../src/analytics/random.js";
import { AnalyticsStage } from "../../src/analytics/stage/analyticsStage.js";
import { MachineHistory } from "../../src/analytics/training/machineHistory.js";
import { planTraining } from "../../src/analytics/training/trainingPlan.js";
import { trainMachine } from "../../src/analytics/training/trainMachine.js";
import { systemClock } from "../../src/clock.js";
import { configSchema } from "../../src/config/schema/index.js";
import { createLogger } from "../../src/observability/logger.js";
import type { Sample } from "../../src/records.js";

const TAGS = ["power_kw", "current_a", "voltage_v", "pf", "temp_c"] as const;
const TRAIN_SAMPLES = 20_000;
const SCORED_SAMPLES = 40_000;
const FAULT_EVERY = 2_000;
const FAULT_LENGTH = 5;

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

function config(dataDir: string) {
  return configSchema.parse({
    gateway: { id: "bench", site: "bench", dataDir },
    devices: [
      {
        name: "mill",
        protocol: "serial-line",
        serial: { path: "/dev/null" },
        parser: { format: "key-value" },
        tags: TAGS.map((name) => ({ name })),
      },
    ],
    analytics: {
      learningPeriod: "0s",
      machines: [
        {
          device: "mill",
          cooldown: "0s",
          detectors: {
            streaming: { tags: [...TAGS] },
            isolationForest: { features: [...TAGS] },
            autoencoder: { features: [...TAGS], epochs: 20 },
          },
          power: {
            power: "power_kw",
            current: "current_a",
            voltage: "voltage_v",
            powerFactor: "pf",
            nominalVoltage: 400,
          },
        },
      ],
    },
  });
}

/** A loaded 3-phase drive at 400 V: power, current from it, voltage, power factor, temperature. */
function reading(ts: number, random: () => number, fault: boolean): Sample {
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const power = (fault ? 90 : 40) + 2 * normal();
  const voltage = 400 + 2 * normal();
  const pf = 0.86 + 0.01 * normal();
  const current = (power * 1000) / (Math.sqrt(3) * voltage * pf);
  const temp = 60 + 0.05 * power + normal();
  const values = { power_kw: power, current_a: current, voltage_v: voltage, pf, temp_c: temp };
  return {
    kind: "sample",
    device: "mill",
    ts,
    clockSynced: true,
    values: Object.fromEntries(
      Object.entries(values).map(([tag, value]) => [tag, { value, quality: "good" as const }]),
    ),
  };
}

export async function benchPipeline() {
  const dir = await mkdtemp(join(tmpdir(), "ew-bench-pipeline-"));
  try {
    const parsed = config(dir);
    const analytics = parsed.analytics;
    const machine = analytics?.machines[0];
    if (analytics === undefined || machine === undefined) {
      throw new Error("no machine");
    }
    const random = seededRandom(41);
    const start = Date.now() - (TRAIN_SAMPLES + SCORED_SAMPLES) * 1_000;

    // Train every detector on seeded history, as `train` does, and store the models.
    const history = new MachineHistory(planTraining(machine));
    for (let i = 0; i < TRAIN_SAMPLES; i++) {
      history.add(reading(start + i * 1_000, random, false));
    }
    const trainStart = performance.now();
    const results = await trainMachine(
      history.inputs({
        machine,
        source: "ledger",
        timeZone: "UTC",
        shifts: [],
        backend: analytics.backend,
        now: Date.now(),
      }),
      () => undefined,
    );
    const trainMs = performance.now() - trainStart;
    const store = new ModelStore(analytics.modelDir ?? join(dir, "models"));
    const trained: string[] = [];
    const notTrained: Record<string, string> = {};
    for (const result of results) {
      if (result.ok) {
        await store.saveModel(result.stored);
        trained.push(result.kind);
      } else {
        notTrained[result.kind] = result.reason;
      }
    }

    // Model load: file read + JSON parse + validation + the live detector.
    const load: Record<string, { medianMs: number; bestMs: number }> = {};
    for (const kind of trained) {
      const times: number[] = [];
      for (let run = 0; run < 7; run++) {
        const t = performance.now();
        const stored = await store.loadModel("mill", kind as never);
        if (stored !== undefined) {
          detectorFromModel(machine, stored.card.kind, stored, undefined);
        }
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      load[kind] = { medianMs: round(quantile(times, 0.5)), bestMs: round(times[0] ?? Number.NaN) };
    }

    // µs per sample for the whole machine (every detector, the alert engine), no I/O.
    const built = buildMachine({
      machine,
      deviceTags: [...TAGS],
      models: new Map(
        await Promise.all(
          trained.map(async (kind) => [kind, await store.loadModel("mill", kind as never)] as const),
        ).then((pairs) =>
          pairs.filter((p): p is [(typeof p)[0], NonNullable<(typeof p)[1]>] => p[1] !== undefined),
        ),
      ) as never,
      timeZone: "UTC",
      muted: false,
    });
    const samples = Array.from({ length: SCORED_SAMPLES }, (_, i) =>
      reading(start + (TRAIN_SAMPLES + i) * 1_000, random, i % FAULT_EVERY >= FAULT_EVERY - FAULT_LENGTH),
    );
    let t = performance.now();
    for (const sample of samples.slice(0, SCORED_SAMPLES / 2)) {
      built.analytics.observe(sample);
    }
    const usPerSample = ((performance.now() - t) * 1_000) / (SCORED_SAMPLES / 2);

    // sample -> anomaly record, through the stage.
    let acceptedAt = 0;
    const latencies: number[] = [];
    const logger = createLogger({ level: "warn", repeatWindowMs: 60_000, destination: { write: () => {} } });
    const stage = new AnalyticsStage(
      { analytics, devices: parsed.devices, timeZone: "UTC", train: trainMachine },
      {
        append: {
          appendSample: () => 0,
          appendAnomaly: (body) => {
            if (body.state === "raised") {
              latencies.push(performance.now() - acceptedAt);
            }
          },
        },
        history: { samples: async function* () {} },
        events: { emit: () => undefined },
        clock: systemClock,
        logger,
      },
    );
    await stage.start();
    t = performance.now();
    for (const sample of samples) {
      acceptedAt = performance.now();
      stage.accept(sample);
    }
    const acceptUs = ((performance.now() - t) * 1_000) / samples.length;
    await stage.stop();
    latencies.sort((a, b) => a - b);
    return {
      detectors: built.analytics.detectors.map((d) => d.kind),
      notTrained,
      trainMs: round(trainMs),
      modelLoad: load,
      machineUsPerSample: round(usPerSample, 1),
      stageAcceptUsPerSample: round(acceptUs, 1),
      sampleToAnomalyMs: {
        alerts: latencies.length,
        p50: round(quantile(latencies, 0.5), 3),
        p99: round(quantile(latencies, 0.99), 3),
        max: round(latencies.at(-1) ?? Number.NaN, 3),
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
