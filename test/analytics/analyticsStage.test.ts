/**
 * The analytics stage against a real ledger (issue #6): samples are appended and scored, anomaly
 * records enter the ledger, a retrain reads the ledger's history and swaps models in while samples
 * keep flowing, and models and baselines survive a restart.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AnalyticsStage } from "../../src/analytics/stage/analyticsStage.js";
import { trainMachine } from "../../src/analytics/training/trainMachine.js";
import { systemClock } from "../../src/clock.js";
import { analyticsPorts } from "../../src/daemon/analyticsSpecs.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import type { EventRecord, Sample } from "../../src/records.js";
import { memoryLogger } from "../helpers/memoryLogger.js";
import { waitUntil } from "../helpers/waitUntil.js";
import { startLedger } from "../ledger/ledgerKit.js";
import { gaussian } from "./isolationForestFixtures.js";
import { analyticsConfig } from "./support/analyticsConfig.js";

let dir: string;
const open: Ledger[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "ew-stage-"));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((ledger) => ledger.stop()));
  await rm(dir, { recursive: true, force: true });
});

const ANALYTICS = `  learningPeriod: 0s
  training: { minSamples: 200, history: 1d }
  machines:
    - device: press-1
      detectors:
        streaming: { tags: [a] }
        isolationForest: { features: [a, b], seed: 5 }
`;

function reading(ts: number, a: number, b: number): Sample {
  return {
    kind: "sample",
    device: "press-1",
    ts,
    clockSynced: true,
    values: { a: { value: a, quality: "good" }, b: { value: b, quality: "good" } },
  };
}

async function stageOn(ledger: Ledger, analytics = ANALYTICS) {
  const config = analyticsConfig({ dataDir: dir, tags: ["a", "b"], analytics });
  const log = memoryLogger();
  const events: Omit<EventRecord, "kind" | "ts" | "clockSynced">[] = [];
  const stage = new AnalyticsStage(
    {
      analytics: config.analytics!,
      devices: config.devices,
      timeZone: "UTC",
      train: (inputs, progress) => trainMachine(inputs, progress),
    },
    analyticsPorts(ledger, ledger, {
      events: { emit: (event) => events.push(event) },
      clock: systemClock,
      logger: log.logger,
    }),
  );
  await stage.start();
  return { stage, log, events };
}

/** Every entry, once `count` are durable. */
async function entriesOf(ledger: Ledger, count: number) {
  await waitUntil(() => ledger.durableSeq() >= count, `${count} durable entries`);
  const all = [];
  for (let batch = await ledger.read(1, 1_000); batch.length > 0; ) {
    all.push(...batch);
    batch = await ledger.read((batch.at(-1)?.seq ?? 0) + 1, 1_000);
  }
  return all;
}

describe("the analytics stage", () => {
  it("appends every sample, trains from the ledger's history, swaps the model in and records the anomaly", async () => {
    const { ledger } = await startLedger(open, join(dir, "ledger"));
    const { stage, events } = await stageOn(ledger);
    expect(stage.machine("press-1")?.detectors.map((d) => d.kind)).toEqual(["streaming"]);
    const normal = gaussian(21);
    const start = Date.now() - 3_600_000;
    for (let i = 0; i < 1_500; i++) {
      const a = 50 + normal();
      stage.accept(reading(start + i * 1_000, a, 2 * a + normal()));
    }
    expect((await entriesOf(ledger, 1_500)).filter((e) => e.kind === "sample")).toHaveLength(1_500);

    const training = stage.retrain("request");
    // Polling does not wait for training: samples accepted meanwhile are appended.
    stage.accept(reading(Date.now(), 50, 100));
    const [outcome] = await training;
    expect(outcome?.results.map((r) => [r.kind, r.ok])).toEqual([["isolation-forest", true]]);
    expect(outcome?.samples).toBeGreaterThanOrEqual(1_500);
    expect(stage.machine("press-1")?.detectors.map((d) => d.kind)).toEqual(["streaming", "isolation-forest"]);
    expect(events.map((e) => e.type)).toContain("analytics.trained");

    stage.accept(reading(Date.now(), 70, 140)); // 20 sigma out on both
    const anomalies = (await entriesOf(ledger, 1_503)).filter((e) => e.kind === "anomaly");
    expect(anomalies).toHaveLength(1);
    const body = JSON.parse(anomalies[0]!.body) as Record<string, unknown>;
    expect(body).toMatchObject({ kind: "anomaly", state: "raised", device: "press-1", severity: "CRITICAL" });
    expect((body.detectors as { detector: string }[]).map((d) => d.detector).sort()).toEqual([
      "isolation-forest",
      "streaming",
    ]);
    expect(anomalies[0]!.device).toBe("press-1");
    await stage.stop();
  });

  it("after a restart, loads the trained models and the baselines from the models directory", async () => {
    const { ledger } = await startLedger(open, join(dir, "ledger"));
    const first = await stageOn(ledger);
    const normal = gaussian(22);
    const start = Date.now() - 3_600_000;
    for (let i = 0; i < 1_000; i++) {
      const a = 50 + normal();
      first.stage.accept(reading(start + i * 1_000, a, 2 * a + normal()));
    }
    await entriesOf(ledger, 1_000);
    await first.stage.retrain("request");
    const before = first.stage.machine("press-1")?.saveState();
    await first.stage.stop();

    const second = await stageOn(ledger);
    const machine = second.stage.machine("press-1");
    expect(machine?.detectors.map((d) => d.kind)).toEqual(["streaming", "isolation-forest"]);
    expect(JSON.stringify(machine?.saveState())).toBe(JSON.stringify(before));
    const ready = second.log.lines.find((line) => line.msg === "analytics ready");
    expect(ready).toMatchObject({ device: "press-1", untrained: [] });
    await second.stage.stop();
  });

  it("ends the open alerts of a device that left the config at the next start", async () => {
    const { ledger } = await startLedger(open, join(dir, "ledger"));
    const first = await stageOn(ledger);
    const normal = gaussian(23);
    const start = Date.now() - 3_600_000;
    for (let i = 0; i < 600; i++) {
      first.stage.accept(reading(start + i * 1_000, 50 + normal(), 100 + normal()));
    }
    first.stage.accept(reading(start + 600_000, 90, 100)); // a spike on a: an open episode
    expect(first.stage.machine("press-1")?.alerts.openEpisodes()).toHaveLength(1);
    await first.stage.stop();

    const second = await stageOn(ledger, "  learningPeriod: 0s\n  machines: []\n");
    const entries = await entriesOf(ledger, 603);
    const bodies = entries
      .filter((e) => e.kind === "anomaly")
      .map((e) => JSON.parse(e.body) as Record<string, unknown>);
    expect(bodies.map((b) => [b.state, b.device])).toEqual([
      ["raised", "press-1"],
      ["ended", "press-1"],
    ]);
    expect(bodies[1]).toMatchObject({ reason: "flushed" });
    await second.stage.stop();
    const third = await stageOn(ledger, "  learningPeriod: 0s\n  machines: []\n");
    await third.stage.stop();
    expect((await entriesOf(ledger, 603)).filter((e) => e.kind === "anomaly")).toHaveLength(2);
  });
});
