/**
 * Reading the NAB development data (issue #6 item 7): the `timestamp,value` CSVs and windows.json in
 * ../shared/datasets/nab (README there), and score files in JSON lines. Timestamps carry no zone in NAB;
 * they are read as UTC so that every machine maps them to the same epoch milliseconds.
 */
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Profile, Window } from "./nabScorer.js";

export interface NabSeries {
  /** The NAB relative path, e.g. "realKnownCause/ambient_temperature_system_failure.csv". */
  readonly name: string;
  readonly timestamps: readonly number[];
  readonly values: readonly number[];
  readonly windows: readonly Window[];
}

export interface NabCorpus {
  readonly probationaryPercent: number;
  readonly profiles: readonly Profile[];
  readonly series: readonly NabSeries[];
}

const NAB_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

/** "YYYY-MM-DD HH:MM:SS[.ffffff]" (NAB's CSV and windows.json) as UTC epoch ms. */
export function parseNabTimestamp(text: string): number {
  const m = NAB_TIME.exec(text.trim());
  if (m === null) {
    throw new Error(`not a NAB timestamp: ${JSON.stringify(text)}`);
  }
  const [, y, mo, d, h, mi, s, frac] = m;
  const ms = frac === undefined ? 0 : Math.floor(Number(frac.padEnd(6, "0")) / 1000);
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
}

/** A score file's ts: epoch ms, a NAB timestamp (UTC), or an ISO 8601 string with a zone. */
export function parseScoreTimestamp(ts: unknown): number {
  if (typeof ts === "number" && Number.isFinite(ts)) {
    return ts;
  }
  if (typeof ts === "string") {
    if (NAB_TIME.test(ts.trim())) {
      return parseNabTimestamp(ts);
    }
    const parsed = Date.parse(ts);
    if (/(Z|[+-]\d{2}:?\d{2})$/.test(ts.trim()) && Number.isFinite(parsed)) {
      return parsed;
    }
  }
  throw new Error(
    `unreadable ts ${JSON.stringify(ts)}: use epoch ms, "YYYY-MM-DD HH:MM:SS" or ISO with a zone`,
  );
}

export function parseNabCsv(text: string, name: string): { timestamps: number[]; values: number[] } {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  if (lines[0]?.trim() !== "timestamp,value") {
    throw new Error(`${name}: expected the header "timestamp,value"`);
  }
  const timestamps: number[] = [];
  const values: number[] = [];
  lines.slice(1).forEach((line, i) => {
    const [ts, value] = line.split(",");
    if (ts === undefined || value === undefined) {
      throw new Error(`${name}: line ${i + 2} is not "timestamp,value"`);
    }
    timestamps.push(parseNabTimestamp(ts));
    values.push(Number(value)); // a malformed value becomes NaN: detectors must cope (issue #6 must-show)
  });
  return { timestamps, values };
}

interface WindowsJson {
  readonly windows: Record<string, readonly (readonly [string, string])[]>;
  readonly probationaryPercent: number;
  readonly profiles: Record<string, { readonly CostMatrix: Profile["costMatrix"] }>;
}

/** Loads windows.json and each CSV it names (looked up by base name in the same directory). */
export function loadNabCorpus(dir: string): NabCorpus {
  const meta = JSON.parse(readFileSync(join(dir, "windows.json"), "utf8")) as WindowsJson;
  const series = Object.entries(meta.windows).map(([name, windows]): NabSeries => {
    const { timestamps, values } = parseNabCsv(readFileSync(join(dir, basename(name)), "utf8"), name);
    const parsed = windows.map(([start, end]): Window => [parseNabTimestamp(start), parseNabTimestamp(end)]);
    return { name, timestamps, values, windows: parsed };
  });
  const profiles = Object.entries(meta.profiles).map(
    ([name, p]): Profile => ({
      name,
      costMatrix: {
        tpWeight: p.CostMatrix.tpWeight,
        fpWeight: p.CostMatrix.fpWeight,
        fnWeight: p.CostMatrix.fnWeight,
      },
    }),
  );
  return { probationaryPercent: meta.probationaryPercent, profiles, series };
}

export interface ScoreLine {
  readonly ts: number;
  readonly score: number;
}

/** One JSON object per line with ts and score (extra fields, such as backtest's severity, are ignored). */
export function parseScoresJsonl(text: string, source: string): ScoreLine[] {
  const out: ScoreLine[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") {
      return;
    }
    const where = `${source}:${i + 1}`;
    let row: { ts?: unknown; score?: unknown };
    try {
      row = JSON.parse(line) as { ts?: unknown; score?: unknown };
    } catch {
      throw new Error(`${where}: not JSON`);
    }
    const score = row.score;
    if (typeof score !== "number" || !(score >= 0 && score <= 1)) {
      throw new Error(`${where}: score must be a number in [0, 1], got ${JSON.stringify(score)}`);
    }
    out.push({ ts: parseScoreTimestamp(row.ts), score });
  });
  return out;
}

export interface AssignedScores {
  readonly scores: readonly number[];
  /** Rows of the series with no line in the score file; they score 0 (no detection). */
  readonly rowsWithoutScore: number;
}

/**
 * Matches each score file to the one series whose timestamps contain all of its lines (the two NAB files
 * overlap in time, but not in row timestamps), and lays its scores out by row.
 */
export function assignScores(
  series: readonly NabSeries[],
  files: readonly { readonly source: string; readonly lines: readonly ScoreLine[] }[],
): Map<string, AssignedScores> {
  const result = new Map<string, AssignedScores>();
  for (const { source, lines } of files) {
    const matches = series.filter((s) => {
      const rows = new Set(s.timestamps);
      return lines.length > 0 && lines.every((l) => rows.has(l.ts));
    });
    if (matches.length !== 1) {
      throw new Error(
        `${source}: its ts values match ${matches.length} data files; each score file must cover one of ${series.map((s) => s.name).join(", ")}`,
      );
    }
    const target = matches[0]!;
    if (result.has(target.name)) {
      throw new Error(`${source}: a second score file for ${target.name}`);
    }
    const byTs = new Map(lines.map((l) => [l.ts, l.score]));
    const scores = target.timestamps.map((ts) => byTs.get(ts) ?? 0);
    const rowsWithoutScore = target.timestamps.filter((ts) => !byTs.has(ts)).length;
    result.set(target.name, { scores, rowsWithoutScore });
  }
  for (const s of series) {
    if (!result.has(s.name)) {
      throw new Error(`no score file covers ${s.name}; NAB normalises over the whole corpus`);
    }
  }
  return result;
}
