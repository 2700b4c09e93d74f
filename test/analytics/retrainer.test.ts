/** Collecting training history (src/analytics/stage/retrainer.ts): one pass for every machine. */
import { describe, expect, it } from "vitest";
import { collectTrainings } from "../../src/analytics/stage/retrainer.js";
import type { HistorySource } from "../../src/analytics/training/historySource.js";
import { planTraining } from "../../src/analytics/training/trainingPlan.js";
import { machineSchema } from "../../src/config/schema/analytics.js";
import type { Sample } from "../../src/records.js";

function sample(device: string, ts: number, a: number): Sample {
  return {
    kind: "sample",
    device,
    ts,
    clockSynced: true,
    values: { a: { value: a, quality: "good" }, b: { value: 2 * a, quality: "good" } },
  };
}

describe("collectTrainings", () => {
  it("reads the history once for every machine and gives each machine its own samples", async () => {
    const log = Array.from({ length: 300 }, (_, i) =>
      sample(["m1", "m2", "other"][i % 3] as string, i * 1_000, i),
    );
    const asked: ReadonlySet<string>[] = [];
    const history: HistorySource = {
      async *samples(devices) {
        const wanted = typeof devices === "string" ? new Set([devices]) : devices;
        asked.push(wanted);
        yield* log.filter((s) => wanted.has(s.device));
      },
    };
    const request = (device: string) => {
      const machine = machineSchema.parse({
        device,
        detectors: { isolationForest: { features: ["a", "b"] } },
      });
      return {
        machine,
        plan: planTraining(machine),
        history,
        fromTs: 0,
        now: 300_000,
        timeZone: "UTC",
        shifts: [],
        backend: "cpu" as const,
        source: "ledger" as const,
        minSamples: 10,
      };
    };
    const [one, two] = await collectTrainings([request("m1"), request("m2")]);
    expect(asked.map((set) => [...set].sort())).toEqual([["m1", "m2"]]);
    expect([one?.samples, two?.samples]).toEqual([100, 100]);
    // m1 saw values 0, 3, 6, ...; m2 saw 1, 4, 7, ...
    expect(one?.inputs[0]?.rows.slice(0, 4)).toEqual(Float64Array.of(0, 0, 3, 6));
    expect(two?.inputs[0]?.rows.slice(0, 4)).toEqual(Float64Array.of(1, 2, 4, 8));
  });
});
