/**
 * NAB evaluation (issue #6 item 7): scores anomaly scores on the NAB development files in
 * ../shared/datasets/nab with the faithful NAB v1.1 scorer (nabScorer.ts) and prints JSON.
 *
 *   npm run eval:nab                                  the streaming detector, default configuration
 *   npm run eval:nab -- --method ewma --seasonality daily
 *                                                    the streaming detector, another method or seasonality
 *   npm run eval:nab -- --detector machine            what the daemon and backtest report (the gated adapter)
 *   npm run eval:nab -- --detector baseline --window 288
 *                                                    reference baseline (rolling z-score), not the product;
 *                                                    its window in rows (default 1000)
 *   npm run eval:nab -- --scores a.jsonl --scores b.jsonl
 *                                                    score files, one per data file, one {ts, score} a line
 *   --data DIR                                        another directory holding windows.json and the CSVs
 *
 * In code: `evaluate(detector)` runs a detector over each series and scores it, for the streaming detector.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildMachine } from "../../src/analytics/machine/machineBuilder.js";
import { StreamingDetector, type StreamingDetectorConfig } from "../../src/analytics/streaming/index.js";
import { machineSchema } from "../../src/config/schema/analytics.js";
import { assignScores, loadNabCorpus, type NabCorpus, type NabSeries, parseScoresJsonl } from "./nabData.js";
import { type DataSet, type ProfileResult, probationaryLength, scoreCorpus } from "./nabScorer.js";
import { rollingZScore } from "./referenceBaseline.js";

/** What a detector sees: one whole series, and how many leading rows NAB leaves unscored for learning. */
export interface NabInputSeries {
  readonly name: string;
  readonly timestamps: readonly number[];
  readonly values: readonly number[];
  readonly probationaryRows: number;
}

/** Maps a series to one anomaly score in [0, 1] per row, in row order. */
export type SeriesDetector = (series: NabInputSeries) => ArrayLike<number>;

/**
 * ../shared/datasets/nab next to the repository (issue #6): the first ancestor of this file that holds
 * shared/datasets/nab, so it resolves from scripts/eval/ (vitest) and dist-scripts/scripts/eval/ alike.
 */
function findDataDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  // The same files, vendored for the tests (test/fixtures/nab/NOTICE.md): used where there is no
  // ../shared (a clone elsewhere, CI).
  let fixtures: string | undefined;
  for (;;) {
    const candidate = join(dir, "shared", "datasets", "nab");
    if (existsSync(join(candidate, "windows.json"))) {
      return candidate;
    }
    const vendored = join(dir, "test", "fixtures", "nab");
    if (fixtures === undefined && existsSync(join(vendored, "windows.json"))) {
      fixtures = vendored;
    }
    const parent = dirname(dir);
    if (parent === dir) {
      return fixtures ?? resolve("..", "shared", "datasets", "nab");
    }
    dir = parent;
  }
}

export const DEFAULT_DATA_DIR = findDataDir();

interface FileReport {
  readonly file: string;
  readonly threshold: number;
  readonly score: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly tn: number;
  readonly windows: readonly {
    readonly start: string;
    readonly end: string;
    readonly detectedAt: string | null;
    readonly contribution: number;
  }[];
}

export interface NabReport {
  readonly detector: string;
  readonly probationaryPercent: number;
  readonly files: readonly {
    readonly file: string;
    readonly rows: number;
    readonly probationaryRows: number;
    readonly rowsWithoutScore?: number;
  }[];
  readonly notes: readonly string[];
  readonly profiles: Record<
    string,
    {
      readonly threshold: number;
      readonly rawScore: number;
      readonly nullScore: number;
      readonly perfectScore: number;
      readonly normalizedScore: number;
      readonly files: readonly FileReport[];
    }
  >;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace("T", " ").replace(".000Z", "");
const round = (x: number): number => Math.round(x * 1e6) / 1e6;

function report(
  detector: string,
  corpus: NabCorpus,
  results: readonly ProfileResult[],
  missing?: ReadonlyMap<string, number>,
): NabReport {
  const files = corpus.series.map((s) => {
    const rows = s.timestamps.length;
    const base = {
      file: s.name,
      rows,
      probationaryRows: probationaryLength(rows, corpus.probationaryPercent),
    };
    const without = missing?.get(s.name);
    return without === undefined ? base : { ...base, rowsWithoutScore: without };
  });
  const profiles = Object.fromEntries(
    results.map((r) => [
      r.profile,
      {
        threshold: r.threshold,
        rawScore: round(r.rawScore),
        nullScore: round(r.nullScore),
        perfectScore: round(r.perfectScore),
        normalizedScore: Math.round(r.normalizedScore * 100) / 100,
        files: r.files.map(
          (f): FileReport => ({
            file: f.name,
            threshold: r.threshold,
            score: round(f.score),
            tp: f.tp,
            fp: f.fp,
            fn: f.fn,
            tn: f.tn,
            windows: f.windows.map((w) => ({
              start: iso(w.start),
              end: iso(w.end),
              detectedAt: w.detectedAt === null ? null : iso(w.detectedAt),
              contribution: round(w.contribution),
            })),
          }),
        ),
      },
    ]),
  );
  const notes = [
    "tp/fp/fn/tn count scored rows (not windows), as NAB's results CSVs do; windows[] shows each window's earliest detection.",
    "One threshold per profile, optimised over both files together (nab/optimizer.py); normalizedScore = 100*(raw - null)/(perfect - null).",
    "Tuned on these two development files only: not comparable with NAB's published corpus-wide scores.",
  ];
  return { detector, probationaryPercent: corpus.probationaryPercent, files, notes, profiles };
}

function toDataSets(corpus: NabCorpus, scoresOf: (s: NabSeries) => readonly number[]): DataSet[] {
  return corpus.series.map((s) => ({
    name: s.name,
    timestamps: s.timestamps,
    anomalyScores: scoresOf(s),
    windows: s.windows,
  }));
}

/** Runs `detector` over every NAB development series and scores it per profile. */
export function evaluate(
  detector: SeriesDetector,
  options: { readonly name?: string; readonly dataDir?: string } = {},
): NabReport {
  const corpus = loadNabCorpus(options.dataDir ?? DEFAULT_DATA_DIR);
  const dataSets = toDataSets(corpus, (s) => {
    const probationaryRows = probationaryLength(s.timestamps.length, corpus.probationaryPercent);
    const scores = Array.from(
      detector({ name: s.name, timestamps: s.timestamps, values: s.values, probationaryRows }),
    );
    if (scores.length !== s.timestamps.length) {
      throw new Error(
        `detector returned ${scores.length} scores for ${s.timestamps.length} rows of ${s.name}`,
      );
    }
    return scores;
  });
  const results = scoreCorpus(dataSets, corpus.profiles, corpus.probationaryPercent);
  return report(options.name ?? "detector", corpus, results);
}

/** Scores JSON-lines score files, one per NAB data file (for example `edgewarden backtest` output). */
export function evaluateScoreFiles(paths: readonly string[], dataDir: string = DEFAULT_DATA_DIR): NabReport {
  const corpus = loadNabCorpus(dataDir);
  const files = paths.map((source) => ({
    source,
    lines: parseScoresJsonl(readFileSync(source, "utf8"), source),
  }));
  const assigned = assignScores(corpus.series, files);
  const dataSets = toDataSets(corpus, (s) => assigned.get(s.name)!.scores);
  const results = scoreCorpus(dataSets, corpus.profiles, corpus.probationaryPercent);
  const missing = new Map([...assigned].map(([name, a]) => [name, a.rowsWithoutScore]));
  return report(`score files: ${paths.join(", ")}`, corpus, results, missing);
}

/**
 * The baseline's default window in rows. Picked on the development files (the only data we may tune on) from
 * 24, 48, 96, 288, 1000, 2000, 6400: 1000 scored best on every profile; 288 and 6400 never beat the null
 * detector. It is a reference point, not a tuned product.
 */
export const BASELINE_WINDOW = 1000;

/**
 * The product's streaming detector (src/analytics/streaming) with its default configuration and
 * the schema's defaults (median-mad, 1 h window, no seasonality, or as given). A row's score is the
 * likelihood when the detector raises an alarm, else 0: what the gateway would report. The alarm
 * gate is the detector's own threshold (the LOW severity, 0.6), so NAB's sweep cannot go below it.
 */
export function streamingDetector(
  config: Partial<Pick<StreamingDetectorConfig, "method" | "seasonality" | "windowMs">> = {},
): SeriesDetector {
  return (series) => {
    const detector = new StreamingDetector({
      method: "median-mad",
      windowMs: 3_600_000,
      seasonality: "none",
      ...config,
    });
    return series.values.map((value, i) => {
      const result = detector.observe(series.timestamps[i] as number, value);
      return result.alarm ? result.likelihood : 0;
    });
  };
}

/**
 * What the daemon raises for a one-tag device with the default detectors and thresholds: the
 * streaming adapter (likelihood >= 0.5 and |z| >= 3.5, src/analytics/machine/streamingTags.ts)
 * behind the machine's hold, then the alert engine (one episode per fault, cooldown 10 min). A
 * row's score is the score of an alert record raised or escalated on it, else 0: the alerts a
 * technician would get, as backtest's `alert` column shows them; NAB's sweep picks among them.
 */
export function machineDetector(): SeriesDetector {
  return (series) => {
    const machine = machineSchema.parse({ device: "nab" });
    const { analytics } = buildMachine({
      machine,
      deviceTags: ["value"],
      models: new Map(),
      timeZone: "UTC",
      muted: false,
    });
    return series.values.map((value, i) => {
      const ts = series.timestamps[i] as number;
      const output = analytics.observe({
        kind: "sample",
        device: "nab",
        ts,
        clockSynced: true,
        values: { value: { value, quality: "good" } },
      });
      return output.anomalies.reduce(
        (best, body) => (body.state === "ended" ? best : Math.max(best, body.score)),
        0,
      );
    });
  };
}

/** The reference baseline: a rolling z-score, explicitly not the product's streaming detector. */
export function referenceBaseline(window: number): SeriesDetector {
  return (series) => rollingZScore(series.values, { window, minHistory: Math.min(window, 24) });
}

function main(): void {
  const { values } = parseArgs({
    options: {
      scores: { type: "string", multiple: true },
      data: { type: "string" },
      window: { type: "string", default: String(BASELINE_WINDOW) },
      detector: { type: "string", default: "streaming" },
      method: { type: "string", default: "median-mad" },
      seasonality: { type: "string", default: "none" },
    },
  });
  const dataDir = values.data ?? DEFAULT_DATA_DIR;
  let result: NabReport;
  if (values.scores !== undefined && values.scores.length > 0) {
    result = evaluateScoreFiles(values.scores, dataDir);
  } else if (values.detector === "streaming") {
    const { method, seasonality } = values;
    if (method !== "median-mad" && method !== "ewma") {
      throw new Error(`--method must be median-mad or ewma, got ${method}`);
    }
    if (seasonality !== "none" && seasonality !== "daily" && seasonality !== "weekly") {
      throw new Error(`--seasonality must be none, daily or weekly, got ${seasonality}`);
    }
    result = evaluate(streamingDetector({ method, seasonality }), {
      name: `streaming detector (src/analytics/streaming), ${method}, 1h window, seasonality ${seasonality}; score = likelihood at an alarm, else 0`,
      dataDir,
    });
  } else if (values.detector === "machine") {
    result = evaluate(machineDetector(), {
      name: "the daemon's default detectors and alert engine for a one-tag device (streaming adapter: likelihood >= 0.5 and |z| >= 3.5); score = the score of an alert raised or escalated on the row, else 0",
      dataDir,
    });
  } else if (values.detector === "baseline") {
    const window = Number(values.window);
    if (!Number.isInteger(window) || window < 2) {
      throw new Error(`--window must be an integer >= 2, got ${values.window}`);
    }
    result = evaluate(referenceBaseline(window), {
      name: `REFERENCE BASELINE (not the product detector): rolling z-score over the previous ${window} rows, score = |z|/(1+|z|)`,
      dataDir,
    });
  } else {
    throw new Error(`--detector must be streaming, machine or baseline, got ${values.detector}`);
  }
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    main();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  }
}
