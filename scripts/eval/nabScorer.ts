/**
 * The Numenta Anomaly Benchmark scorer (issue #6 item 7), a port of NAB v1.1 as of numenta/NAB commit
 * ea702d75cc2258d9d7dd35ca8e5e2539d71f3140 (the commit our development data comes from):
 *   - nab/sweeper.py: scaledSigmoid, Sweeper._getProbationaryLength, Sweeper.calcSweepScore,
 *     Sweeper.calcScoreByThreshold, Sweeper.scoreDataSet;
 *   - nab/optimizer.py: optimizeThreshold (one threshold per profile, chosen over the whole corpus);
 *   - nab/scorer.py: scoreCorpus (per-file rows at that threshold, summed);
 *   - nab/runner.py (ec449a3): Runner.normalize, 100·(S − S_null)/(S_perfect − S_null) with
 *     S_perfect = number of windows × tpWeight and S_null the null detector's corpus score.
 * Pure: no I/O. Timestamps are numbers (epoch ms); windows are pairs of row timestamps. Deliberate
 * departures from NAB are limited to inputs NAB would crash or hang on, and each is marked "NAB: ...".
 */

export interface CostMatrix {
  readonly tpWeight: number;
  readonly fpWeight: number;
  readonly fnWeight: number;
}

export interface Profile {
  readonly name: string;
  readonly costMatrix: CostMatrix;
}

/** Inclusive [start, end]; both must be timestamps of rows of the data set. */
export type Window = readonly [start: number, end: number];

export interface DataSet {
  /** Unique across a corpus: window names (and so the per-window score parts) are built from it. */
  readonly name: string;
  readonly timestamps: readonly number[];
  /** One anomaly score in [0, 1] per row. */
  readonly anomalyScores: readonly number[];
  readonly windows: readonly Window[];
}

/** nab/sweeper.py AnomalyPoint. windowName is "probationary", a window's name, or null outside windows. */
export interface AnomalyPoint {
  readonly timestamp: number;
  readonly anomalyScore: number;
  readonly sweepScore: number;
  readonly windowName: string | null;
}

/** nab/sweeper.py ThresholdScore. The counts are of rows (not windows), as in NAB's results CSVs. */
export interface ThresholdScore {
  readonly threshold: number;
  readonly score: number;
  readonly tp: number;
  readonly tn: number;
  readonly fp: number;
  readonly fn: number;
  readonly total: number;
}

export const PROBATIONARY = "probationary";
/** calcScoreByThreshold starts above every score so that its first entry is "no detections". */
export const START_THRESHOLD = 1.1;

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * nab/sweeper.py scaledSigmoid: −1 is a window's left edge (0.98661), 0 its right edge (0.0), positive
 * values lie past it (→ −1); beyond 3 the value is exactly −1.
 */
export function scaledSigmoid(relativePositionInWindow: number): number {
  if (relativePositionInWindow > 3.0) {
    return -1.0;
  }
  return 2 * sigmoid(-5 * relativePositionInWindow) - 1.0;
}

/** nab/sweeper.py Sweeper._getProbationaryLength: min(floor(p·N), p·5000); 750 rows at p = 0.15. */
export function probationaryLength(numRows: number, probationaryPercent: number): number {
  return Math.min(Math.floor(probationaryPercent * numRows), probationaryPercent * 5000);
}

function indexOfRows(timestamps: readonly number[]): Map<number, number> {
  const index = new Map<number, number>();
  timestamps.forEach((ts, i) => {
    if (!index.has(ts)) {
      index.set(ts, i); // list.index() semantics: the first row with that timestamp
    }
  });
  return index;
}

function validate(dataSet: DataSet, rowIndex: Map<number, number>): void {
  const { name, timestamps, anomalyScores, windows } = dataSet;
  if (timestamps.length !== anomalyScores.length) {
    throw new Error(`${name}: ${timestamps.length} timestamps but ${anomalyScores.length} anomaly scores`);
  }
  anomalyScores.forEach((score, i) => {
    if (!(Number.isFinite(score) && score >= 0 && score <= 1)) {
      throw new Error(`${name}: row ${i} has anomaly score ${score}; NAB scores lie in [0, 1]`);
    }
  });
  let previousEnd = Number.NEGATIVE_INFINITY;
  for (const [start, end] of windows) {
    // NAB: a start that is not a row's timestamp is never entered and blocks every later window; an end
    // that is not one raises in timestamps.index(). Both are rejected here instead.
    const startRow = rowIndex.get(start);
    const endRow = rowIndex.get(end);
    if (startRow === undefined || endRow === undefined) {
      throw new Error(`${name}: window [${start}, ${end}] does not start and end on rows of the data set`);
    }
    if (endRow < startRow || start <= previousEnd) {
      throw new Error(`${name}: windows must be ordered, non-overlapping and have start <= end`);
    }
    previousEnd = end;
  }
}

/** A window's name, unique across a corpus: nab/sweeper.py uses "%s|%s" % (dataSetName, start). */
export function windowName(dataSetName: string, start: number): string {
  return `${dataSetName}|${start}`;
}

/**
 * nab/sweeper.py Sweeper.calcSweepScore: each row's score were it a detection. Inside a window, a TP worth
 * scaledSigmoid(position)·tpWeight/scaledSigmoid(−1), position = −(rightIndex − i + 1)/width (the window's
 * first row is worth exactly tpWeight). Outside, an FP worth fpWeight·scaledSigmoid(|i − prevRight| /
 * (prevWidth − 1)) after a window, fpWeight·(−1) before the first one. Rows before the probationary length
 * are marked and never scored.
 */
export function calcSweepScore(
  dataSet: DataSet,
  costMatrix: CostMatrix,
  probationaryPercent: number,
): AnomalyPoint[] {
  const rowIndex = indexOfRows(dataSet.timestamps);
  validate(dataSet, rowIndex);
  const { timestamps, anomalyScores } = dataSet;
  const maxTP = scaledSigmoid(-1.0);
  const probationRows = probationaryLength(timestamps.length, probationaryPercent);
  const pending = [...dataSet.windows];
  const points: AnomalyPoint[] = [];

  let current: {
    readonly end: number;
    readonly name: string;
    readonly rightIndex: number;
    readonly width: number;
  } | null = null;
  let prevRightIndex: number | null = null;
  let prevWidth = 0;

  for (let i = 0; i < timestamps.length; i++) {
    const ts = timestamps[i]!;
    const next = pending[0];
    if (next !== undefined && ts === next[0]) {
      pending.shift();
      const rightIndex = rowIndex.get(next[1])!;
      current = {
        end: next[1],
        name: windowName(dataSet.name, next[0]),
        rightIndex,
        width: rightIndex - rowIndex.get(next[0])! + 1,
      };
    }

    let weighted: number;
    if (current !== null) {
      const positionInWindow = -(current.rightIndex - i + 1) / current.width;
      weighted = (scaledSigmoid(positionInWindow) * costMatrix.tpWeight) / maxTP;
    } else {
      let unweighted = -1.0;
      if (prevRightIndex !== null) {
        // NAB: a one-row previous window divides by zero here; Infinity lands on the −1 branch instead.
        unweighted = scaledSigmoid(Math.abs(prevRightIndex - i) / (prevWidth - 1));
      }
      weighted = unweighted * costMatrix.fpWeight;
    }

    const name = i >= probationRows ? (current?.name ?? null) : PROBATIONARY;
    points.push({ timestamp: ts, anomalyScore: anomalyScores[i]!, sweepScore: weighted, windowName: name });

    if (current !== null && ts === current.end) {
      prevRightIndex = i;
      prevWidth = current.width;
      current = null;
    }
  }
  return points;
}

/** Python's sum() over the score parts, in their insertion order, so totals round as NAB's do. */
function sumParts(parts: Map<string, number>): number {
  let total = 0;
  for (const value of parts.values()) {
    total += value;
  }
  return total;
}

/**
 * nab/sweeper.py Sweeper.calcScoreByThreshold: the score at every distinct threshold, from 1.1 (nothing
 * detected) down to the lowest anomaly score. A row is a detection when its anomaly score >= the
 * threshold. A window counts its best (= earliest, the sigmoid falls along the window) detection, or
 * −fnWeight with none; every FP adds its sweep score. Works on one file's points or on a corpus's
 * concatenated points (window names are unique per file).
 */
export function calcScoreByThreshold(
  points: readonly AnomalyPoint[],
  costMatrix: CostMatrix,
): ThresholdScore[] {
  // prepAnomalyListForScoring: drop probationary rows, sort by anomaly score descending (stable).
  const scorable = points
    .filter((p) => p.windowName !== PROBATIONARY)
    .sort((a, b) => b.anomalyScore - a.anomalyScore);
  // _prepareScoreByThresholdParts: "fp" first, then each window (in sorted order) starting at −fnWeight.
  const parts = new Map<string, number>([["fp", 0]]);
  for (const p of scorable) {
    if (p.windowName !== null) {
      parts.set(p.windowName, -costMatrix.fnWeight);
    }
  }

  const scores: ThresholdScore[] = [];
  let threshold = START_THRESHOLD;
  let tn = scorable.filter((p) => p.windowName === null).length;
  let fn = scorable.length - tn;
  let tp = 0;
  let fp = 0;
  for (const p of scorable) {
    if (p.anomalyScore !== threshold) {
      scores.push({ threshold, score: sumParts(parts), tp, tn, fp, fn, total: tp + tn + fp + fn });
      threshold = p.anomalyScore;
    }
    if (p.windowName === null) {
      fp += 1;
      tn -= 1;
      parts.set("fp", parts.get("fp")! + p.sweepScore);
    } else {
      tp += 1;
      fn -= 1;
      parts.set(p.windowName, Math.max(parts.get(p.windowName)!, p.sweepScore));
    }
  }
  scores.push({ threshold, score: sumParts(parts), tp, tn, fp, fn, total: tp + tn + fp + fn });
  return scores;
}

/**
 * nab/sweeper.py Sweeper.scoreDataSet's row lookup: the entry at the threshold, else the one just above
 * it (the same set of detections, score >= threshold). NAB: a threshold below every score finds no entry
 * and crashes; here it gets the last entry, where every row is a detection, which is what it means.
 */
export function scoreAtThreshold(scores: readonly ThresholdScore[], threshold: number): ThresholdScore {
  let previous: ThresholdScore | undefined;
  for (const row of scores) {
    if (row.threshold === threshold) {
      return row;
    }
    if (row.threshold < threshold) {
      return previous ?? row;
    }
    previous = row;
  }
  return scores[scores.length - 1]!;
}

/** How one window fared at a threshold; not in NAB's output, added so a reader sees why a score is what it is. */
export interface WindowOutcome {
  readonly start: number;
  readonly end: number;
  /** Timestamp of the earliest scored detection in the window, or null (missed: −fnWeight). */
  readonly detectedAt: number | null;
  /** What the window adds to the file's score. */
  readonly contribution: number;
}

export interface DataSetScore extends ThresholdScore {
  readonly name: string;
  readonly windows: readonly WindowOutcome[];
  /** NAB's per-row S(t) column (scorer.py writes it into the results CSV). */
  readonly sweepScores: readonly number[];
}

export function scoreDataSet(
  dataSet: DataSet,
  costMatrix: CostMatrix,
  probationaryPercent: number,
  threshold: number,
): DataSetScore {
  const points = calcSweepScore(dataSet, costMatrix, probationaryPercent);
  const row = scoreAtThreshold(calcScoreByThreshold(points, costMatrix), threshold);
  const windows = dataSet.windows.map(([start, end]): WindowOutcome => {
    const name = windowName(dataSet.name, start);
    const scored = points.some((p) => p.windowName === name);
    const first = points.find((p) => p.windowName === name && p.anomalyScore >= threshold);
    // A window wholly inside the probationary period has no score part in NAB: it adds nothing.
    const missed = scored ? -costMatrix.fnWeight : 0;
    return { start, end, detectedAt: first?.timestamp ?? null, contribution: first?.sweepScore ?? missed };
  });
  return { name: dataSet.name, ...row, windows, sweepScores: points.map((p) => p.sweepScore) };
}

/**
 * nab/optimizer.py optimizeThreshold: sweep the corpus's pooled points and keep the best score. Python's
 * sorted(..., reverse=True) is stable, so among equal scores the highest threshold wins; so here.
 */
export function optimizeThreshold(
  dataSets: readonly DataSet[],
  costMatrix: CostMatrix,
  probationaryPercent: number,
): { readonly threshold: number; readonly score: number } {
  const points = dataSets.flatMap((d) => calcSweepScore(d, costMatrix, probationaryPercent));
  let best: ThresholdScore | undefined;
  for (const row of calcScoreByThreshold(points, costMatrix)) {
    if (best === undefined || row.score > best.score) {
      best = row;
    }
  }
  return { threshold: best!.threshold, score: best!.score };
}

export interface ProfileResult {
  readonly profile: string;
  readonly threshold: number;
  readonly files: readonly DataSetScore[];
  /** nab/scorer.py scoreCorpus "Totals" row. */
  readonly rawScore: number;
  readonly nullScore: number;
  readonly perfectScore: number;
  readonly normalizedScore: number;
}

/** nab/runner.py Runner.normalize. */
export function normalizeScore(raw: number, nullScore: number, perfectScore: number): number {
  return (100 * (raw - nullScore)) / (perfectScore - nullScore);
}

/** Optimise the threshold and score every file at it: nab/runner.py optimize then score, one profile. */
function scoreAtBestThreshold(
  dataSets: readonly DataSet[],
  costMatrix: CostMatrix,
  probationaryPercent: number,
): { readonly threshold: number; readonly files: DataSetScore[]; readonly total: number } {
  const { threshold } = optimizeThreshold(dataSets, costMatrix, probationaryPercent);
  const files = dataSets.map((d) => scoreDataSet(d, costMatrix, probationaryPercent, threshold));
  return { threshold, files, total: files.reduce((sum, f) => sum + f.score, 0) };
}

/**
 * The null detector's corpus score for a profile: nab/detectors/null/null_detector.py emits a constant
 * 0.5, which the optimiser can only leave undetected (every window −fnWeight) or detect everywhere.
 */
export function nullDetectorScore(
  dataSets: readonly DataSet[],
  costMatrix: CostMatrix,
  probationaryPercent: number,
): number {
  const nullSets = dataSets.map((d) => ({ ...d, anomalyScores: d.timestamps.map(() => 0.5) }));
  return scoreAtBestThreshold(nullSets, costMatrix, probationaryPercent).total;
}

/** nab/runner.py optimize, score and normalize for each profile. */
export function scoreCorpus(
  dataSets: readonly DataSet[],
  profiles: readonly Profile[],
  probationaryPercent: number,
): ProfileResult[] {
  const windowCount = dataSets.reduce((n, d) => n + d.windows.length, 0);
  return profiles.map((profile) => {
    const { costMatrix } = profile;
    const { threshold, files, total } = scoreAtBestThreshold(dataSets, costMatrix, probationaryPercent);
    const nullScore = nullDetectorScore(dataSets, costMatrix, probationaryPercent);
    const perfectScore = windowCount * costMatrix.tpWeight;
    return {
      profile: profile.name,
      threshold,
      files,
      rawScore: total,
      nullScore,
      perfectScore,
      normalizedScore: normalizeScore(total, nullScore, perfectScore),
    };
  });
}
