/**
 * The streaming single-signal detector (issue #6 item 1a): one per tag, cheap enough for every
 * tag (budget 5 us per value). Per value:
 *
 *   1. refuse what must not enter the state (issue #6 must-show: "non-finite or bad-quality values
 *      never poison a detector's state"): non-finite value or time, quality other than good, time
 *      before the last accepted one; each counted, the state untouched;
 *   2. raw score: robust z = |x - centre| / scale against the baseline *before* x joins it, where
 *      centre/scale are median and 1.4826 MAD over the time window (method median-mad) or the EWMA
 *      mean and standard deviation (method ewma), blended with the hour-of-day/week slot when
 *      seasonality is on; the scale is floored from the data (range, level) so MAD = 0 is safe;
 *   3. the z becomes a surprise, -log10 of its two-sided Gaussian tail (capped), and Numenta's
 *      anomaly likelihood (anomalyLikelihood.ts) turns the surprises into a probability in [0,1];
 *   4. learning period: the first learningSamples values only learn (likelihood 0, no alarm);
 *   5. alarm suppression: after an alarm, no new alarm until the likelihood stayed below the alarm
 *      threshold for holdoffSamples values and holdoffMs, unless it rises riseMargin above the
 *      alarm's level ("one fault is one alert").
 *
 * The state is JSON with its arrays packed (toJSON / fromJSON, versioned and validated in
 * streamingState.ts, arrays by packedArray.ts), and a restored detector continues bit for bit as
 * the original would have.
 */
import type { Quality } from "../../records.js";
import { AnomalyLikelihood } from "./anomalyLikelihood.js";
import { EwmaBaseline } from "./ewmaBaseline.js";
import { surprise } from "./gaussianTail.js";
import { SeasonalBaseline, type Seasonality } from "./seasonalBaseline.js";
import { SortedWindow } from "./sortedWindow.js";
import { STREAMING_DEFAULTS, type StreamingTuning } from "./streamingDefaults.js";
import {
  type DetectorCounters,
  type HoldoffState,
  parseStreamingState,
  STREAMING_STATE_VERSION,
  type StreamingDetectorState,
} from "./streamingState.js";
import { isTimeZone } from "./zoneOffset.js";

export type StreamingMethod = "median-mad" | "ewma";

/** The schema's detectors.streaming (durations in ms) plus optional tuning overrides. */
export interface StreamingDetectorConfig {
  readonly method: StreamingMethod;
  readonly windowMs: number;
  readonly seasonality: Seasonality;
  readonly tuning?: Partial<StreamingTuning>;
}

export interface StreamingScore {
  readonly status: "scored" | "learning" | "skipped";
  /** Why the value was skipped; only when status is skipped. */
  readonly skipped?: "non-finite" | "bad-quality" | "out-of-order";
  /** Robust z-score against the baseline; null when skipped or the baseline is still too small. */
  readonly z: number | null;
  /**
   * The baseline's centre the value was compared with (median or EWMA mean, blended with the
   * seasonal slot) and its scale (sigma-equivalent), so an alert can read "81.3 (expected
   * 64.2 +- 2.1)"; null whenever z is.
   */
  readonly expected: number | null;
  readonly scale: number | null;
  /** Anomaly likelihood in [0,1] (log scale, anomalyLikelihood.ts); 0 while learning. */
  readonly likelihood: number;
  /** A new alarm (threshold crossed and not held off). */
  readonly alarm: boolean;
}

export interface DetectorStats extends DetectorCounters {
  readonly skippedNonFinite: number;
  readonly skippedBadQuality: number;
  readonly skippedOutOfOrder: number;
  /** Points the memory caps kept out of (thinned) or pushed out of (evicted) the baselines. */
  readonly thinned: number;
  readonly evicted: number;
  /** Points held now by the global median window and by all seasonal slots. */
  readonly baselinePoints: number;
  readonly seasonalPoints: number;
}

/** 1 / Phi^-1(3/4): makes the MAD a consistent estimator of a Gaussian's sigma. */
export const MAD_TO_SIGMA = 1.4826;
const MIN_SCALE = 1e-9;

export class StreamingDetector {
  readonly tuning: StreamingTuning;
  private readonly window: SortedWindow | null;
  private readonly ewma: EwmaBaseline | null;
  private readonly seasonal: SeasonalBaseline | null;
  private readonly likelihoodStep: AnomalyLikelihood;
  private counters: DetectorCounters = { accepted: 0, scored: 0, alarms: 0 };
  /**
   * Refusals are a run-time statistic, not part of the saved state: a refused value must leave
   * toJSON() exactly as it was (the must-show test compares it).
   */
  private readonly refused = { skippedNonFinite: 0, skippedBadQuality: 0, skippedOutOfOrder: 0 };
  private lastTs: number | null = null;
  private holdoff: HoldoffState = { active: false, level: 0, quietSamples: 0, quietSinceTs: null };
  /** The centre and scale of the last zScore(), kept in fields so that scoring allocates nothing. */
  private centre = 0;
  private scale = 0;

  /** A fresh detector; `restored` is for fromJSON (a state it decoded and validated). */
  constructor(
    readonly config: StreamingDetectorConfig,
    restored?: StreamingDetectorState,
  ) {
    if (!(config.windowMs > 0)) {
      throw new RangeError(`window must be positive, got ${config.windowMs} ms`);
    }
    const tuning = { ...STREAMING_DEFAULTS, ...config.tuning };
    if (!isTimeZone(tuning.timeZone)) {
      throw new RangeError(`unknown time zone ${JSON.stringify(tuning.timeZone)}`);
    }
    this.tuning = tuning;
    const windowOptions = {
      windowMs: config.windowMs,
      capacity: tuning.maxBaselinePoints,
      minSpacingMs: config.windowMs / tuning.maxBaselinePoints,
      minPoints: tuning.minBaselinePoints,
    };
    const halfLife = EwmaBaseline.halfLifeForWindow(config.windowMs);
    const seasonalOptions =
      config.seasonality === "none"
        ? null
        : {
            seasonality: config.seasonality,
            periodsKept: tuning.seasonalPeriodsKept[config.seasonality],
            capacity: Math.max(16, Math.floor(tuning.seasonalPointsTotal / slotsOf(config.seasonality))),
            minPeriods: tuning.seasonalMinPeriods,
            timeZone: tuning.timeZone,
          };
    const { averagingWindow, historicWindow, estimationSamples, reestimationPeriod, redFilter, historyClip } =
      tuning;
    const likelihoodOptions = {
      averagingWindow,
      historicWindow,
      estimationSamples,
      reestimationPeriod,
      redFilter,
      historyClip,
    };
    if (restored === undefined) {
      this.window = config.method === "median-mad" ? new SortedWindow(windowOptions) : null;
      this.ewma = config.method === "ewma" ? new EwmaBaseline(halfLife, tuning.minBaselinePoints) : null;
      this.seasonal = seasonalOptions === null ? null : new SeasonalBaseline(seasonalOptions);
      this.likelihoodStep = new AnomalyLikelihood(likelihoodOptions);
      return;
    }
    const { baseline } = restored;
    if (
      (baseline.window === null) !== (config.method === "ewma") ||
      (baseline.ewma === null) === (config.method === "ewma")
    ) {
      throw new RangeError(
        `invalid streaming detector state: baseline does not match method ${config.method}`,
      );
    }
    if ((baseline.seasonal === null) !== (seasonalOptions === null)) {
      throw new RangeError(
        `invalid streaming detector state: seasonal slots do not match seasonality ${config.seasonality}`,
      );
    }
    const { window, ewma, seasonal } = baseline;
    this.window =
      window === null ? null : at("baseline.window", () => SortedWindow.fromJSON(windowOptions, window));
    this.ewma = ewma === null ? null : EwmaBaseline.fromJSON(halfLife, tuning.minBaselinePoints, ewma);
    this.seasonal =
      seasonalOptions === null || seasonal === null
        ? null
        : at("baseline.seasonal", () => SeasonalBaseline.fromJSON(seasonalOptions, seasonal));
    this.likelihoodStep = at("likelihood", () =>
      AnomalyLikelihood.fromJSON(likelihoodOptions, restored.likelihood),
    );
    this.counters = { ...restored.counters };
    this.lastTs = restored.lastTs;
    this.holdoff = { ...restored.holdoff };
  }

  /** Scores one value of the tag at wall time ts (ms), then learns it. */
  observe(ts: number, value: number, quality: Quality = "good"): StreamingScore {
    if (!Number.isFinite(value) || !Number.isFinite(ts)) {
      this.refused.skippedNonFinite++;
      return skip("non-finite");
    }
    if (quality !== "good") {
      this.refused.skippedBadQuality++;
      return skip("bad-quality");
    }
    if (this.lastTs !== null && ts < this.lastTs) {
      this.refused.skippedOutOfOrder++;
      return skip("out-of-order");
    }
    this.lastTs = ts;
    const z = this.zScore(ts, value);
    const expected = z === null ? null : this.centre;
    const scale = z === null ? null : this.scale;
    this.learn(ts, value);
    this.counters.accepted++;
    const learning = this.counters.accepted <= this.tuning.learningSamples;
    let likelihood = 0;
    if (z !== null) {
      const result = this.likelihoodStep.update(Math.min(this.tuning.surpriseCap, surprise(z)));
      likelihood = result.likelihood;
      this.counters.scored++;
    }
    if (learning) {
      return { status: "learning", z, expected, scale, likelihood: 0, alarm: false };
    }
    const alarm = this.suppress(ts, likelihood);
    if (alarm) {
      this.counters.alarms++;
    }
    return { status: "scored", z, expected, scale, likelihood, alarm };
  }

  /** Counts of what was accepted, scored, alarmed and refused, and what the caps dropped. */
  stats(): DetectorStats {
    const seasonal = this.seasonal?.dropped() ?? { thinned: 0, evicted: 0 };
    return {
      ...this.counters,
      ...this.refused,
      thinned: (this.window?.thinned ?? 0) + seasonal.thinned,
      evicted: (this.window?.evicted ?? 0) + seasonal.evicted,
      baselinePoints: this.window?.count ?? 0,
      seasonalPoints: this.seasonal?.pointCount() ?? 0,
    };
  }

  toJSON(): StreamingDetectorState {
    return {
      version: STREAMING_STATE_VERSION,
      kind: "streaming",
      config: {
        method: this.config.method,
        windowMs: this.config.windowMs,
        seasonality: this.config.seasonality,
        tuning: this.tuning,
      },
      baseline: {
        window: this.window?.toJSON() ?? null,
        ewma: this.ewma?.toJSON() ?? null,
        seasonal: this.seasonal?.toJSON() ?? null,
      },
      likelihood: this.likelihoodStep.toJSON(),
      counters: { ...this.counters },
      lastTs: this.lastTs,
      holdoff: { ...this.holdoff },
    };
  }

  /**
   * Restores a detector from toJSON output (possibly after a JSON round trip); throws a RangeError
   * naming the problem if it is invalid or of another version (the caller then starts afresh).
   */
  static fromJSON(json: unknown): StreamingDetector {
    const state = parseStreamingState(json);
    return new StreamingDetector(state.config, state);
  }

  /** Robust z of value against the baseline before it learns value; sets centre and scale. */
  private zScore(ts: number, value: number): number | null {
    const { minBaselinePoints } = this.tuning;
    let centre: number;
    let scale: number;
    if (this.window !== null) {
      this.window.expire(ts);
      if (this.window.count < minBaselinePoints) {
        return null;
      }
      centre = this.window.median();
      scale = this.robustScale(this.window, centre);
    } else if (this.ewma !== null && this.ewma.count >= minBaselinePoints) {
      centre = this.ewma.mean;
      scale = Math.max(this.ewma.std(), this.tuning.scaleFloorLevel * Math.abs(centre), MIN_SCALE);
    } else {
      return null;
    }
    const slot = this.seasonal?.current(ts);
    if (this.seasonal !== null && slot !== undefined) {
      const w = this.seasonal.weight(ts);
      const slotCentre = slot.median();
      centre = w * slotCentre + (1 - w) * centre;
      scale = w * this.robustScale(slot, slotCentre) + (1 - w) * scale;
    }
    this.centre = centre;
    this.scale = scale;
    return Math.abs(value - centre) / scale;
  }

  private robustScale(window: SortedWindow, centre: number): number {
    const floor = Math.max(
      this.tuning.scaleFloorRange * (window.max() - window.min()),
      this.tuning.scaleFloorLevel * Math.abs(centre),
      MIN_SCALE,
    );
    return Math.max(MAD_TO_SIGMA * window.mad(), floor);
  }

  private learn(ts: number, value: number): void {
    this.window?.add(ts, value);
    this.ewma?.add(ts, value);
    this.seasonal?.add(ts, value);
  }

  private suppress(ts: number, likelihood: number): boolean {
    const h = this.holdoff;
    if (likelihood >= this.tuning.alarmThreshold) {
      h.quietSamples = 0;
      h.quietSinceTs = null;
      if (!h.active || likelihood > h.level + this.tuning.riseMargin) {
        h.active = true;
        h.level = likelihood;
        return true;
      }
      return false;
    }
    if (h.active) {
      h.quietSamples++;
      h.quietSinceTs ??= ts;
      if (h.quietSamples >= this.tuning.holdoffSamples && ts - h.quietSinceTs >= this.tuning.holdoffMs) {
        h.active = false;
        h.level = 0;
      }
    }
    return false;
  }
}

function slotsOf(seasonality: "daily" | "weekly"): number {
  return seasonality === "daily" ? 24 : 168;
}

function skip(reason: "non-finite" | "bad-quality" | "out-of-order"): StreamingScore {
  return {
    status: "skipped",
    skipped: reason,
    z: null,
    expected: null,
    scale: null,
    likelihood: 0,
    alarm: false,
  };
}

/** Runs a component's restore, prefixing its RangeError with where in the state it failed. */
function at<T>(path: string, restore: () => T): T {
  try {
    return restore();
  } catch (error) {
    if (error instanceof RangeError) {
      throw new RangeError(`invalid streaming detector state: ${path}: ${error.message}`);
    }
    throw error;
  }
}
