/**
 * The NAB harness around the scorer (issue #6 item 7): reading the data and score files, and the published
 * null and perfect raw scores on the real development files (../shared/datasets/README.md), read from their
 * copies in test/fixtures/nab so that the suite runs on every machine.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { evaluate, evaluateScoreFiles, type NabInputSeries } from "../../scripts/eval/nab.js";
import {
  assignScores,
  loadNabCorpus,
  type NabSeries,
  parseNabTimestamp,
  parseScoresJsonl,
  parseScoreTimestamp,
} from "../../scripts/eval/nabData.js";
import { scoreCorpus } from "../../scripts/eval/nabScorer.js";
import { rollingZScore } from "../../scripts/eval/referenceBaseline.js";

describe("timestamps and score files", () => {
  it("reads NAB timestamps as UTC, with or without microseconds", () => {
    expect(parseNabTimestamp("2013-12-15 07:00:00")).toBe(Date.UTC(2013, 11, 15, 7, 0, 0));
    expect(parseNabTimestamp("2013-12-15 07:00:00.000000")).toBe(Date.UTC(2013, 11, 15, 7, 0, 0));
    expect(parseNabTimestamp("2013-12-15 07:00:00.250000")).toBe(Date.UTC(2013, 11, 15, 7, 0, 0, 250));
    expect(() => parseNabTimestamp("15/12/2013")).toThrow(/not a NAB timestamp/);
  });

  it("accepts a score file's ts as epoch ms, a NAB timestamp or ISO with a zone, never a zoneless ISO string", () => {
    const ms = Date.UTC(2014, 6, 10, 12, 29);
    expect(parseScoreTimestamp(ms)).toBe(ms);
    expect(parseScoreTimestamp("2014-07-10 12:29:00")).toBe(ms);
    expect(parseScoreTimestamp("2014-07-10T12:29:00.000Z")).toBe(ms);
    expect(parseScoreTimestamp("2014-07-10T14:29:00+02:00")).toBe(ms);
    expect(() => parseScoreTimestamp("2014-07-10T12:29")).toThrow(/unreadable ts/);
  });

  it("rejects a score line that is not JSON or whose score lies outside [0, 1], naming the line", () => {
    expect(parseScoresJsonl('{"ts":1,"score":0.5,"severity":"LOW"}\n\n{"ts":2,"score":1}\n', "f")).toEqual([
      { ts: 1, score: 0.5 },
      { ts: 2, score: 1 },
    ]);
    expect(() => parseScoresJsonl('{"ts":1,"score":0.5}\n{"ts":2,"score":1.5}', "f")).toThrow(/f:2: score/);
    expect(() => parseScoresJsonl("nope", "f")).toThrow(/f:1: not JSON/);
  });

  it("matches each score file to the one series holding all its timestamps; missing rows score 0", () => {
    const a: NabSeries = { name: "a", timestamps: [0, 10, 20], values: [1, 2, 3], windows: [] };
    const b: NabSeries = { name: "b", timestamps: [5, 15, 25], values: [1, 2, 3], windows: [] };
    const assigned = assignScores(
      [a, b],
      [
        { source: "fb", lines: [{ ts: 15, score: 0.9 }] },
        {
          source: "fa",
          lines: [
            { ts: 0, score: 0.1 },
            { ts: 10, score: 0.2 },
            { ts: 20, score: 0.3 },
          ],
        },
      ],
    );
    expect(assigned.get("a")).toEqual({ scores: [0.1, 0.2, 0.3], rowsWithoutScore: 0 });
    expect(assigned.get("b")).toEqual({ scores: [0, 0.9, 0], rowsWithoutScore: 2 });
    expect(() =>
      assignScores(
        [a, b],
        [
          {
            source: "fx",
            lines: [
              { ts: 0, score: 0 },
              { ts: 5, score: 0 },
            ],
          },
        ],
      ),
    ).toThrow(/fx: its ts values match 0/);
    expect(() => assignScores([a, b], [{ source: "fa", lines: [{ ts: 0, score: 0 }] }])).toThrow(
      /no score file covers b/,
    );
  });
});

describe("the reference baseline (rolling z-score)", () => {
  it("scores non-finite values 0 and keeps them out of its window", () => {
    const clean = [1, 2, 1, 2, 1, 2, 1, 2, 10];
    const dirty = [
      1,
      2,
      Number.NaN,
      1,
      2,
      Number.POSITIVE_INFINITY,
      1,
      2,
      1,
      2,
      Number.NEGATIVE_INFINITY,
      10,
    ];
    const options = { window: 8, minHistory: 4 };
    const cleanScores = rollingZScore(clean, options);
    const dirtyScores = rollingZScore(dirty, options);
    expect(dirtyScores.filter((_, i) => !Number.isFinite(dirty[i]))).toEqual([0, 0, 0]);
    expect(dirtyScores.filter((_, i) => Number.isFinite(dirty[i]))).toEqual(cleanScores);
    // 10 against eight values of mean 1.5, sample sd 0.5345: z = 15.9, |z|/(1+|z|) = 0.941.
    expect(cleanScores[8]).toBeCloseTo(15.903 / 16.903, 3);
  });
});

/** Copies of ../shared/datasets/nab kept in the repo, so this suite runs everywhere (NOTICE.md there). */
const NAB_FIXTURES = fileURLToPath(new URL("../fixtures/nab", import.meta.url));

describe("the NAB development files (test/fixtures/nab, copies of ../shared/datasets/nab)", () => {
  const corpus = loadNabCorpus(NAB_FIXTURES);
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** A detection (score 1) at the first row of each window and nowhere else. */
  const perfect = (s: NabInputSeries): number[] => {
    const starts = new Set(corpus.series.find((c) => c.name === s.name)!.windows.map(([start]) => start));
    return s.timestamps.map((ts) => (starts.has(ts) ? 1 : 0));
  };

  it("loads 7267 and 18050 rows, 750 probationary rows each, and the three profiles", () => {
    expect(corpus.series.map((s) => [s.timestamps.length, s.windows.length])).toEqual([
      [7267, 2],
      [18050, 1],
    ]);
    expect(corpus.profiles.map((p) => p.name)).toEqual([
      "standard",
      "reward_low_FP_rate",
      "reward_low_FN_rate",
    ]);
    const report = evaluate((s) => s.values.map(() => 0));
    expect(report.files.map((f) => f.probationaryRows)).toEqual([750, 750]);
  });

  it("scores the null detector (all zeros) at the published -2.0 and -1.0 (standard) and normalises it to 0", () => {
    const report = evaluate((s) => s.values.map(() => 0), { name: "null" });
    const standard = report.profiles.standard!;
    expect(standard.files.map((f) => f.score)).toEqual([-2, -1]);
    expect(report.profiles.reward_low_FN_rate!.files.map((f) => f.score)).toEqual([-4, -2]);
    for (const profile of Object.values(report.profiles)) {
      expect(profile.normalizedScore).toBe(0);
      expect(profile.perfectScore).toBe(3);
    }
  });

  it("scores a perfect detector at +2.0 and +1.0 and normalises it to 100 on every profile", () => {
    const report = evaluate(perfect, { name: "perfect" });
    for (const profile of Object.values(report.profiles)) {
      expect(profile.files.map((f) => f.score)).toEqual([2, 1]);
      expect(profile.normalizedScore).toBe(100);
      expect(profile.files.map((f) => f.fp)).toEqual([0, 0]);
    }
  });

  it("scores JSON-lines score files (as backtest prints them) the same as the detector in code", () => {
    const dir = mkdtempSync(join(tmpdir(), "nab-"));
    dirs.push(dir);
    const paths = corpus.series.map((s, i) => {
      const scores = perfect({ ...s, probationaryRows: 750 });
      const text = s.timestamps
        .map((ts, row) =>
          JSON.stringify({ ts: new Date(ts).toISOString(), score: scores[row], anomaly: false }),
        )
        .join("\n");
      const path = join(dir, `scores-${i}.jsonl`);
      writeFileSync(path, text);
      return path;
    });
    const fromFiles = evaluateScoreFiles([...paths].reverse());
    expect(fromFiles.files.map((f) => f.rowsWithoutScore)).toEqual([0, 0]);
    expect(Object.values(fromFiles.profiles).map((p) => p.normalizedScore)).toEqual([100, 100, 100]);
  });

  it("a late detection in the CPU window earns its sigmoid-discounted share", () => {
    // Window 2014-07-10 12:29 → 2014-07-15 17:19 spans 1499 rows; a detection at its midpoint row.
    const cpu = corpus.series[1]!;
    const startRow = cpu.timestamps.indexOf(cpu.windows[0]![0]);
    const width = cpu.timestamps.indexOf(cpu.windows[0]![1]) - startRow + 1;
    expect(width).toBe(1499);
    const row = startRow + 749;
    const scores = cpu.timestamps.map((_, i) => (i === row ? 1 : 0));
    const [standard] = scoreCorpus(
      [{ name: cpu.name, timestamps: cpu.timestamps, anomalyScores: scores, windows: cpu.windows }],
      corpus.profiles,
      corpus.probationaryPercent,
    );
    const position = -(width - 749) / width;
    expect(standard!.rawScore).toBeCloseTo(Math.tanh(-2.5 * position) / Math.tanh(2.5), 12);
  });
});
