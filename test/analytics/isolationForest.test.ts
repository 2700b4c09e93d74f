/**
 * Isolation Forest core (issue #6 item 1b): the papers' normalisation (Liu, Ting & Zhou, ICDM 2008,
 * Equations 1-2), seeded reproducibility, detection on synthetic clusters, and non-finite input
 * kept out of the model.
 */
import { describe, expect, it } from "vitest";
import { fitIsolationForest, IsolationForest } from "../../src/analytics/isolationForest/isolationForest.js";
import {
  anomalyScore,
  averagePathLength,
  EULER_GAMMA,
} from "../../src/analytics/isolationForest/pathLength.js";
import { seededRandom } from "../../src/analytics/random.js";
import { cluster, FAR_OUTLIERS, gaussian, median } from "./isolationForestFixtures.js";

const OPTIONS = { trees: 100, sampleSize: 256, seed: 7 };

describe("path-length normalisation", () => {
  it("c(n) is 2H(n-1) - 2(n-1)/n with H(i) = ln(i) + γ, c(2) = 1 and c(n <= 1) = 0", () => {
    expect(EULER_GAMMA).toBe(0.5772156649);
    expect(averagePathLength(0)).toBe(0);
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    // By hand: c(3) = 2(ln 2 + γ) - 4/3; c(256) = 2(ln 255 + γ) - 510/256 ≈ 10.2448.
    expect(averagePathLength(3)).toBeCloseTo(2 * (Math.LN2 + 0.5772156649) - 4 / 3, 12);
    expect(averagePathLength(256)).toBeCloseTo(10.24477, 4);
    for (const n of [4, 10, 16, 100, 1000, 4096]) {
      expect(averagePathLength(n)).toBeCloseTo(2 * (Math.log(n - 1) + 0.5772156649) - (2 * (n - 1)) / n, 12);
    }
  });

  it("s(x, n) is 1 at path 0, 0.5 at path c(n) and falls towards 0 as the path grows", () => {
    expect(anomalyScore(0, 256)).toBe(1);
    expect(anomalyScore(averagePathLength(256), 256)).toBeCloseTo(0.5, 15);
    expect(anomalyScore(255, 256)).toBeLessThan(1e-7);
    expect(anomalyScore(255, 256)).toBeGreaterThan(0);
  });
});

describe("seeded fitting", () => {
  const rows = cluster(600, 11);
  const probes = cluster(50, 12);

  it("gives the identical model and scores for the same seed", () => {
    const a = fitIsolationForest(rows, OPTIONS);
    const b = fitIsolationForest(rows, OPTIONS);
    expect(b.toJSON()).toEqual(a.toJSON());
    expect(b.scoreBatch(probes)).toEqual(a.scoreBatch(probes));
  });

  it("gives a different model and scores for another seed", () => {
    const a = fitIsolationForest(rows, OPTIONS);
    const b = fitIsolationForest(rows, { ...OPTIONS, seed: 8 });
    expect(b.toJSON().nodes).not.toEqual(a.toJSON().nodes);
    const sa = a.scoreBatch(probes);
    const sb = b.scoreBatch(probes);
    expect(sa.some((s, i) => s !== sb[i])).toBe(true);
  });

  it("fits the same model from flat rows as from one array per row", () => {
    const flat = new Float64Array(rows.length * 2);
    rows.forEach((row, r) => {
      flat.set(row, r * 2);
    });
    expect(fitIsolationForest({ values: flat, dims: 2 }, OPTIONS).toJSON()).toEqual(
      fitIsolationForest(rows, OPTIONS).toJSON(),
    );
  });

  it("grows trees on all rows when there are fewer than sampleSize, with l = ceiling(log2 n)", () => {
    const forest = fitIsolationForest(rows.slice(0, 40), OPTIONS);
    expect(forest.sampleSize).toBe(40);
    expect(forest.heightLimit).toBe(6);
    expect(forest.training).toEqual({ rows: 40, skippedRows: 0, requestedSampleSize: 256 });
    const { nodes } = forest.toJSON();
    expect(nodes.roots.map((root) => nodes.size[root])).toEqual(new Array(100).fill(40));
  });
});

describe("detection on a 2-D Gaussian cluster", () => {
  const inliers = cluster(2000, 21);
  const forest = fitIsolationForest([...inliers, ...FAR_OUTLIERS], OPTIONS);

  it("scores far outliers above 0.6 and the cluster's median below 0.5", () => {
    for (const outlier of FAR_OUTLIERS) {
      expect(forest.score(outlier)).toBeGreaterThan(0.6);
    }
    expect(median(forest.scoreBatch(inliers))).toBeLessThan(0.5);
  });

  it("scores every point in (0, 1]", () => {
    const probes = [...cluster(200, 22), ...cluster(50, 23, 30, -30), Float64Array.of(1e300, -1e300)];
    for (const s of forest.scoreBatch(probes)) {
      expect(s).toBeGreaterThan(0);
      expect(s).toBeLessThanOrEqual(1);
    }
  });

  it("scores points deeper in the cluster lower than points further out along the same ray", () => {
    const random = seededRandom(31);
    const radii = [0.25, 1, 2, 3, 4.5];
    const meanByRadius = new Array(radii.length).fill(0);
    let ordered = 0;
    const rays = 400;
    for (let k = 0; k < rays; k++) {
      const angle = 2 * Math.PI * random();
      const scores = radii.map(
        (r) => forest.score(Float64Array.of(r * Math.cos(angle), r * Math.sin(angle))) ?? 0,
      );
      scores.forEach((s, i) => {
        meanByRadius[i] += s / rays;
      });
      if (scores.every((s, i) => i === 0 || s >= (scores[i - 1] as number))) {
        ordered++;
      }
    }
    // Axis-parallel cuts make single rays noisy; on average the score rises with the radius.
    for (let i = 1; i < radii.length; i++) {
      expect(meanByRadius[i]).toBeGreaterThan(meanByRadius[i - 1]);
    }
    expect(ordered / rays).toBeGreaterThan(0.8);
  });
});

describe("constant features", () => {
  it("never splits on a feature that is constant in the training data", () => {
    const rows = cluster(300, 41).map((row) => Float64Array.of(row[0] as number, 5, row[1] as number));
    const forest = fitIsolationForest(rows, OPTIONS);
    expect(forest.toJSON().nodes.feature).not.toContain(1);
    expect(forest.score(Float64Array.of(0, 5, 0))).toBe(forest.score(Float64Array.of(0, -1e9, 0)));
  });

  it("makes each root external when all rows are equal, so every point scores 0.5 (E[h] = c(ψ))", () => {
    const rows = Array.from({ length: 300 }, () => Float64Array.of(1, 2));
    const forest = fitIsolationForest(rows, OPTIONS);
    const { nodes } = forest.toJSON();
    expect(nodes.feature).toEqual(new Array(100).fill(-1));
    expect(forest.score(Float64Array.of(1, 2))).toBeCloseTo(0.5, 15);
    expect(forest.score(Float64Array.of(100, -100))).toBeCloseTo(0.5, 15);
  });
});

describe("extreme finite values", () => {
  it("fits rows spanning ±1.7e308 (where max - min overflows) into a model that survives JSON", () => {
    const rows = [
      ...cluster(100, 45),
      Float64Array.of(1.7e308, -1.7e308),
      Float64Array.of(-1.7e308, 1.7e308),
    ];
    const forest = fitIsolationForest(rows, OPTIONS);
    const loaded = IsolationForest.fromJSON(JSON.parse(JSON.stringify(forest)));
    expect(loaded.scoreBatch(rows)).toEqual(forest.scoreBatch(rows));
    for (const s of forest.scoreBatch(rows)) {
      expect(s > 0 && s <= 1).toBe(true);
    }
  });
});

describe("non-finite values", () => {
  const clean = cluster(500, 51);
  const bad = [
    Float64Array.of(Number.NaN, 0),
    Float64Array.of(0, Number.POSITIVE_INFINITY),
    Float64Array.of(Number.NEGATIVE_INFINITY, Number.NaN),
  ];

  it("skips non-finite training rows, counts them, and fits what the clean rows alone give", () => {
    const mixed = [
      ...clean.slice(0, 100),
      bad[0],
      ...clean.slice(100, 400),
      bad[1],
      bad[2],
      ...clean.slice(400),
    ];
    const forest = fitIsolationForest(mixed as Float64Array[], OPTIONS);
    expect(forest.training).toEqual({ rows: 500, skippedRows: 3, requestedSampleSize: 256 });
    const reference = fitIsolationForest(clean, OPTIONS).toJSON();
    expect(forest.toJSON()).toEqual({ ...reference, training: { ...reference.training, skippedRows: 3 } });
  });

  it("refuses to fit on fewer than 2 finite rows", () => {
    expect(() => fitIsolationForest([...bad, clean[0] as Float64Array], OPTIONS)).toThrow(
      /at least 2 finite rows.*3 skipped/,
    );
  });

  it("does not score a sample with a non-finite value, counts it, and is unchanged afterwards", () => {
    const forest = fitIsolationForest(clean, OPTIONS);
    const probe = Float64Array.of(0.3, -0.2);
    const before = forest.score(probe);
    for (const sample of bad) {
      expect(forest.score(sample)).toBeUndefined();
    }
    const batch = forest.scoreBatch([probe, ...bad, probe]);
    expect(Array.from(batch.subarray(1, 4)).every(Number.isNaN)).toBe(true);
    expect(batch[0]).toBe(before);
    expect(batch[4]).toBe(before);
    expect(forest.score(probe)).toBe(before);
    expect(forest.unscoredSamples).toBe(6);
  });

  it("throws on a sample of the wrong width (a caller bug, not bad data)", () => {
    const forest = fitIsolationForest(clean, OPTIONS);
    expect(() => forest.score(Float64Array.of(1, 2, 3))).toThrow(RangeError);
  });
});

describe("threshold from the training scores", () => {
  it("gives the training scores' minimum, median, maximum and interpolated percentiles", () => {
    const rows = cluster(801, 61);
    const forest = fitIsolationForest(rows, OPTIONS);
    const sorted = forest.scoreBatch(rows).sort();
    expect(forest.scoreAtPercentile(0)).toBe(sorted[0]);
    expect(forest.scoreAtPercentile(50)).toBe(sorted[400]);
    expect(forest.scoreAtPercentile(100)).toBe(sorted[800]);
    // Type 7 at 99 %: rank 0.99 * 800 = 792 exactly.
    expect(forest.scoreAtPercentile(99)).toBeCloseTo(sorted[792] as number, 12);
    const above = sorted.filter((s) => s > forest.scoreAtPercentile(95)).length;
    expect(above).toBeGreaterThanOrEqual(35);
    expect(above).toBeLessThanOrEqual(41);
    expect(() => forest.scoreAtPercentile(101)).toThrow(RangeError);
  });
});

describe("Box-Muller fixture", () => {
  it("draws roughly standard normal values", () => {
    const normal = gaussian(1);
    const xs = Array.from({ length: 20_000 }, normal);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });
});
