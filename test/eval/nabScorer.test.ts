/**
 * The NAB scorer (issue #6 item 7) against hand-computed values and NAB's own test expectations
 * (numenta/NAB tests/integration/scorer_test.py, tests/integration/sweeper_test.py). Hand values use
 * 2·sigmoid(x) − 1 = tanh(x/2), so scaledSigmoid(p) = tanh(−2.5p) — a different formula from the code's.
 */
import { describe, expect, it } from "vitest";
import {
  type AnomalyPoint,
  type CostMatrix,
  calcScoreByThreshold,
  type DataSet,
  optimizeThreshold,
  type Profile,
  probationaryLength,
  scaledSigmoid,
  scoreCorpus,
  scoreDataSet,
  type Window,
} from "../../scripts/eval/nabScorer.js";

const STANDARD: CostMatrix = { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 };
const LOW_FP: CostMatrix = { tpWeight: 1, fpWeight: 0.22, fnWeight: 1 };
const LOW_FN: CostMatrix = { tpWeight: 1, fpWeight: 0.11, fnWeight: 2 };
const PROFILES: Profile[] = [
  { name: "standard", costMatrix: STANDARD },
  { name: "reward_low_FP_rate", costMatrix: LOW_FP },
  { name: "reward_low_FN_rate", costMatrix: LOW_FN },
];
const MAX_TP = Math.tanh(2.5); // scaledSigmoid(−1), the worth of a window's first row before weighting

/** Rows at timestamps 0..n−1; windows given as [firstRow, lastRow]; detections (score 1) at the listed rows. */
function series(n: number, windows: Window[], detections: number[], name = "s"): DataSet {
  const scores = new Array<number>(n).fill(0);
  for (const row of detections) {
    scores[row] = 1;
  }
  return { name, timestamps: Array.from({ length: n }, (_, i) => i), anomalyScores: scores, windows };
}

function scoreAt(data: DataSet, cost: CostMatrix, probationaryPercent = 0, threshold = 0.5): number {
  return scoreDataSet(data, cost, probationaryPercent, threshold).score;
}

describe("scaledSigmoid and the probationary length (nab/sweeper.py)", () => {
  it("is 0.98661 at a window's left edge, 0 at its right edge, -0.98661 one width past, exactly -1 beyond 3", () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.98661, 5);
    expect(scaledSigmoid(-0.5)).toBeCloseTo(0.84828, 5);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(1)).toBeCloseTo(-0.98661, 5);
    expect(scaledSigmoid(3)).toBeCloseTo(Math.tanh(-7.5), 12);
    expect(scaledSigmoid(3.0001)).toBe(-1);
  });

  it("is min(floor(p*N), p*5000) rows: NAB's own cases and 750 for both development files", () => {
    expect(probationaryLength(100, 0)).toBe(0);
    expect(probationaryLength(100, 1)).toBe(100);
    expect(probationaryLength(100, 0.15)).toBe(15);
    expect(probationaryLength(5000, 0.1)).toBe(500);
    expect(probationaryLength(6000, 0.1)).toBe(500);
    expect(probationaryLength(7267, 0.15)).toBe(750);
    expect(probationaryLength(18050, 0.15)).toBe(750);
  });
});

describe("scoring one file at a threshold (Sweeper.scoreDataSet)", () => {
  it("reproduces NAB's testScoringAllMetrics: TP, an extra TP and an FP 3 rows past the window score -0.9540", () => {
    // generateWindows(100 rows, 2 windows, 5 rows): windows at rows 30..34 and 65..69; cost matrix all 1s.
    const data = series(
      100,
      [
        [30, 34],
        [65, 69],
      ],
      [30, 31, 37],
    );
    const result = scoreDataSet(data, { tpWeight: 1, fpWeight: 1, fnWeight: 1 }, 0, 0.5);
    expect(result.score).toBeCloseTo(-0.954, 4);
    expect(result.score).toBeCloseTo(1 - 1 + Math.tanh(-2.5 * (3 / 4)), 12);
    expect([result.tn, result.tp, result.fp, result.fn]).toEqual([89, 2, 1, 8]);
  });

  it("worth tpWeight for a detection at the window's first row", () => {
    expect(scoreAt(series(100, [[40, 49]], [40]), STANDARD)).toBe(1);
  });

  it("discounts a late detection by its relative position in the window", () => {
    // Row 45 of 40..49: position −(49 − 45 + 1)/10 = −0.5.
    const late = scoreAt(series(100, [[40, 49]], [45]), STANDARD);
    expect(late).toBeCloseTo(Math.tanh(1.25) / MAX_TP, 12);
    expect(late).toBeCloseTo(0.859793, 6);
    // The last row, position −1/10, is worth little but still something.
    expect(scoreAt(series(100, [[40, 49]], [49]), STANDARD)).toBeCloseTo(Math.tanh(0.25) / MAX_TP, 12);
  });

  it("counts only the earliest detection in a window, while NAB's tp counts every detected row", () => {
    const result = scoreDataSet(series(100, [[40, 49]], [48, 42, 44]), STANDARD, 0, 0.5);
    expect(result.score).toBeCloseTo(Math.tanh(2.5 * 0.8) / MAX_TP, 12);
    expect(result.tp).toBe(3);
    expect(result.windows).toEqual([{ start: 40, end: 49, detectedAt: 42, contribution: result.score }]);
  });

  it("costs -fnWeight for a missed window", () => {
    expect(scoreAt(series(100, [[40, 49]], []), STANDARD)).toBe(-1);
    expect(scoreAt(series(100, [[40, 49]], []), LOW_FN)).toBe(-2);
  });

  it("costs exactly -fpWeight for an FP before the first window or more than 3 widths past one", () => {
    expect(scoreAt(series(100, [[40, 49]], [5, 40]), STANDARD)).toBeCloseTo(1 - 0.11, 12);
    // Window 10..19 (width 10): row 47 is |19 − 47|/9 = 3.11 widths past, beyond 3.
    expect(scoreAt(series(100, [[10, 19]], [10, 47]), STANDARD)).toBeCloseTo(1 - 0.11, 12);
    // Row 46 is 27/9 = 3.0 past, still on the sigmoid: a hair under fpWeight.
    expect(scoreAt(series(100, [[10, 19]], [10, 46]), STANDARD)).toBeCloseTo(1 + 0.11 * Math.tanh(-7.5), 12);
  });

  it("costs an FP right after a window only a sigmoid-weighted fraction of fpWeight", () => {
    // Row 20 after window 10..19: position 1/(10 − 1) past the right edge.
    const score = scoreAt(series(100, [[10, 19]], [10, 20]), STANDARD);
    expect(score).toBeCloseTo(1 + 0.11 * Math.tanh(-2.5 / 9), 12);
    expect(1 - score).toBeCloseTo(0.0298, 4);
    // FPs after a window weigh by their distance to that window: further is costlier.
    expect(scoreAt(series(100, [[10, 19]], [10, 25]), STANDARD)).toBeLessThan(score);
  });

  it("ignores detections in the probationary period, inside a window or not", () => {
    // 15 % of 100 rows: rows 0..14 are probationary. Window 10..29 starts inside it.
    expect(scoreAt(series(100, [[50, 59]], [3, 14]), STANDARD, 0.15)).toBe(-1);
    expect(scoreAt(series(100, [[50, 59]], [15]), STANDARD, 0.15)).toBeCloseTo(-1 - 0.11, 12);
    const inWindow = scoreDataSet(series(100, [[10, 29]], [12, 20]), STANDARD, 0.15, 0.5);
    // Row 12 is ignored; row 20 is the first scored detection, at −(29 − 20 + 1)/20 = −0.5.
    expect(inWindow.score).toBeCloseTo(Math.tanh(1.25) / MAX_TP, 12);
    expect(inWindow.windows[0]!.detectedAt).toBe(20);
    expect(inWindow.tp + inWindow.fn + inWindow.fp + inWindow.tn).toBe(85);
  });

  it("applies each profile's weights", () => {
    // A TP at the first window's start, the second window missed, one FP before any window.
    const data = series(
      200,
      [
        [50, 59],
        [120, 129],
      ],
      [10, 50],
    );
    expect(scoreAt(data, STANDARD)).toBeCloseTo(1 - 1 - 0.11, 12);
    expect(scoreAt(data, LOW_FP)).toBeCloseTo(1 - 1 - 0.22, 12);
    expect(scoreAt(data, LOW_FN)).toBeCloseTo(1 - 2 - 0.11, 12);
    // tpWeight scales a TP whatever its position.
    const doubleTp = { ...STANDARD, tpWeight: 2 };
    expect(scoreAt(series(100, [[40, 49]], [45]), doubleTp)).toBeCloseTo((2 * Math.tanh(1.25)) / MAX_TP, 12);
  });

  it("treats a threshold between scores like the next score above it, and one below all scores as all rows", () => {
    const data: DataSet = { ...series(100, [[40, 49]], []), anomalyScores: new Array(100).fill(0.2) };
    const scores = [...data.anomalyScores];
    scores[42] = 0.9;
    const withPeak = { ...data, anomalyScores: scores };
    expect(scoreAt(withPeak, STANDARD, 0, 0.5)).toBe(scoreAt(withPeak, STANDARD, 0, 0.9));
    const all = scoreDataSet(withPeak, STANDARD, 0, 0.1);
    expect(all.fp).toBe(90);
    expect(all.tp).toBe(10);
  });

  it("rejects scores outside [0, 1] and windows that do not fall on rows", () => {
    const bad = { ...series(10, [], []), anomalyScores: [0, 0, 0, 0, Number.NaN, 0, 0, 0, 0, 0] };
    expect(() => scoreDataSet(bad, STANDARD, 0, 0.5)).toThrow(/row 4/);
    expect(() => scoreDataSet(series(10, [[3, 42]], []), STANDARD, 0, 0.5)).toThrow(/window/);
  });
});

describe("the threshold sweep (Sweeper.calcScoreByThreshold, optimizer.optimizeThreshold)", () => {
  it("reproduces NAB's testCalcScoreByThresholdReturnsExpectedScores", () => {
    const fnWeight = 5;
    const point = (anomalyScore: number, sweepScore: number, windowName: string | null): AnomalyPoint => ({
      timestamp: 0,
      anomalyScore,
      sweepScore,
      windowName,
    });
    const input = [
      point(0.5, -1000, "probationary"),
      point(0.5, -1000, "probationary"),
      point(0.0, -3, null),
      point(0.2, 20, "windowA"),
      point(0.3, 10, "windowA"),
      point(0.5, 5, "windowB"),
      point(0.5, -3, null),
    ];
    const actual = calcScoreByThreshold(input, { tpWeight: 0, fpWeight: 0, fnWeight });
    expect(actual).toEqual([
      { threshold: 1.1, score: -2 * fnWeight, tp: 0, tn: 2, fp: 0, fn: 3, total: 5 },
      { threshold: 0.5, score: 5 - 3 - fnWeight, tp: 1, tn: 1, fp: 1, fn: 2, total: 5 },
      { threshold: 0.3, score: 5 - 3 + 10, tp: 2, tn: 1, fp: 1, fn: 1, total: 5 },
      { threshold: 0.2, score: 5 - 3 + 20, tp: 3, tn: 1, fp: 1, fn: 0, total: 5 },
      { threshold: 0.0, score: 5 - 3 + 20 - 3, tp: 3, tn: 0, fp: 2, fn: 0, total: 5 },
    ]);
  });

  it("keeps the highest threshold among equal best scores, as Python's stable sort does", () => {
    const scores = new Array<number>(100).fill(0);
    scores[40] = 0.9;
    scores[41] = 0.8; // a second, later detection in the same window adds nothing
    const data: DataSet = { ...series(100, [[40, 49]], []), anomalyScores: scores };
    expect(optimizeThreshold([data], STANDARD, 0)).toEqual({ threshold: 0.9, score: 1 });
  });

  it("optimises one threshold over the pooled files, not one per file", () => {
    // File a's only detection is a TP at 0.5; file b's only one is an FP at 0.5 and its window is missed.
    // Alone, b would keep 1.1 (−1 beats −1.11); pooled, 0.5 wins (1 − 1.11 beats −2) and b pays for its FP.
    const a: DataSet = { ...series(100, [[40, 49]], [], "a"), anomalyScores: scoresAt(100, { 40: 0.5 }) };
    const b: DataSet = { ...series(100, [[40, 49]], [], "b"), anomalyScores: scoresAt(100, { 10: 0.5 }) };
    expect(optimizeThreshold([b], STANDARD, 0).threshold).toBe(1.1);
    const best = optimizeThreshold([a, b], STANDARD, 0);
    expect(best.threshold).toBe(0.5);
    expect(best.score).toBeCloseTo(1 - 1 - 0.11, 12);
    const [standard] = scoreCorpus([a, b], [PROFILES[0]!], 0);
    expect(standard!.threshold).toBe(0.5);
    expect(standard!.files.map((f) => f.score)).toEqual([1, -1 - 0.11]);
  });
});

function scoresAt(n: number, at: Record<number, number>): number[] {
  return Array.from({ length: n }, (_, i) => at[i] ?? 0);
}

describe("normalisation (nab/runner.py Runner.normalize)", () => {
  const corpus = [
    series(
      300,
      [
        [100, 119],
        [200, 219],
      ],
      [],
      "a",
    ),
    series(200, [[150, 169]], [], "b"),
  ];

  it("puts the null detector (all zeros) at 0 and its raw score at -fnWeight per window", () => {
    const results = scoreCorpus(corpus, PROFILES, 0.15);
    expect(results.map((r) => [r.rawScore, r.nullScore, r.perfectScore, r.normalizedScore])).toEqual([
      [-3, -3, 3, 0],
      [-3, -3, 3, 0],
      [-6, -6, 3, 0],
    ]);
    expect(results[0]!.threshold).toBe(1.1);
  });

  it("puts a detection at each window's first row, and nothing else, at 100", () => {
    const perfect = [
      series(
        300,
        [
          [100, 119],
          [200, 219],
        ],
        [100, 200],
        "a",
      ),
      series(200, [[150, 169]], [150], "b"),
    ];
    const results = scoreCorpus(perfect, PROFILES, 0.15);
    for (const r of results) {
      expect(r.rawScore).toBe(3);
      expect(r.normalizedScore).toBe(100);
      expect(r.files.map((f) => f.score)).toEqual([2, 1]);
    }
  });

  it("scores a constant 0.5 (NAB's null detector) like all zeros", () => {
    const half = corpus.map((d) => ({ ...d, anomalyScores: d.anomalyScores.map(() => 0.5) }));
    expect(scoreCorpus(half, PROFILES, 0.15).map((r) => r.normalizedScore)).toEqual([0, 0, 0]);
  });
});
