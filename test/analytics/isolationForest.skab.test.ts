/**
 * Isolation Forest on SKAB (issue #6 item 7; /work/shared/datasets/README.md): the water-pump
 * experiment other/9.csv, 8 sensors at 1 Hz, rotor imbalance from row 572. SKAB's protocol: fit
 * on the first 400 rows, score the rest, pointwise F1 / FAR / MAR against `anomaly`. The figures
 * are printed for the report, not asserted (development data, no tuning here); the assertion is
 * only that anomalous rows score higher than normal ones on average.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fitIsolationForest } from "../../src/analytics/isolationForest/isolationForest.js";

const SKAB = fileURLToPath(new URL("../../../shared/datasets/skab/other/9.csv", import.meta.url));
const TRAIN_ROWS = 400;

function readSkab(path: string): { rows: Float64Array[]; anomaly: boolean[] } {
  const [header = "", ...lines] = readFileSync(path, "utf8").trim().split("\n");
  const columns = header.split(";");
  const features = columns.slice(1, columns.indexOf("anomaly"));
  expect(features).toHaveLength(8);
  const anomalyAt = columns.indexOf("anomaly");
  const rows: Float64Array[] = [];
  const anomaly: boolean[] = [];
  for (const line of lines) {
    const cells = line.split(";");
    rows.push(Float64Array.from(cells.slice(1, 1 + features.length), Number));
    anomaly.push(Number(cells[anomalyAt]) === 1);
  }
  return { rows, anomaly };
}

/** Pointwise confusion figures as SKAB reports them: FAR = FP / negatives, MAR = FN / positives. */
function pointwise(scores: Float64Array, truth: boolean[], threshold: number) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  scores.forEach((s, i) => {
    const flagged = s >= threshold;
    if (truth[i]) {
      flagged ? tp++ : fn++;
    } else {
      flagged ? fp++ : tn++;
    }
  });
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    threshold: round(threshold),
    f1: round((2 * tp) / (2 * tp + fp + fn)),
    far: round(fp / (fp + tn)),
    mar: round(fn / (fn + tp)),
  };
}

describe.skipIf(!existsSync(SKAB))("SKAB other/9.csv (fit on the first 400 rows)", () => {
  it("scores the anomalous rows higher than the normal ones on average", () => {
    const { rows, anomaly } = readSkab(SKAB);
    expect(rows.length).toBe(1144);
    expect(anomaly.filter(Boolean)).toHaveLength(401);
    // The configuration defaults (issue #6 config: trees 100, sampleSize 256, seed 1).
    const forest = fitIsolationForest(rows.slice(0, TRAIN_ROWS), { trees: 100, sampleSize: 256, seed: 1 });
    expect(forest.training.skippedRows).toBe(0);
    const test = rows.slice(TRAIN_ROWS);
    const truth = anomaly.slice(TRAIN_ROWS);
    const scores = forest.scoreBatch(test);
    const mean = (keep: boolean) => {
      const picked = Array.from(scores).filter((_, i) => truth[i] === keep);
      return picked.reduce((a, b) => a + b, 0) / picked.length;
    };
    const report = {
      testRows: test.length,
      anomalousRows: truth.filter(Boolean).length,
      meanScoreAnomalous: mean(true),
      meanScoreNormal: mean(false),
      atTrainingPercentile: Object.fromEntries(
        [95, 99, 100].map((p) => [p, pointwise(scores, truth, forest.scoreAtPercentile(p))]),
      ),
    };
    console.log(`SKAB other/9.csv, isolation forest: ${JSON.stringify(report)}`);
    expect(report.meanScoreAnomalous).toBeGreaterThan(report.meanScoreNormal);
  });
});
