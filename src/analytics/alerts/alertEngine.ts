/**
 * The alert engine of one device (issue #6 item 3: "a cooldown so one fault is one alert, and an
 * `ended` record when it clears"). Pure: time comes in as each reading's ts, no timers, no I/O.
 *
 * Per reading the detectors' findings are combined per alert kind (ensemble.ts). Each kind has at
 * most one open episode, and an episode speaks at most:
 *   - "raised" at its first reading at or above the device's LOW threshold;
 *   - "escalated" when a reading reaches a severity above every one before in the episode (so at
 *     most once per level: LOW -> HIGH -> CRITICAL is one raise and two escalations);
 *   - "ended" once the fault has been absent (no finding of the kind at or above LOW) for both
 *     clearAfterMs and clearAfterSamples readings.
 * Nothing else while it is open, however many readings show the fault.
 *
 * Cooldown: after an episode ends, a new one of the same kind within cooldownMs of that end is
 * suppressed (counted, not emitted). The config's wording drove it ("one fault is one alert: no
 * new alert of the same type within this", docs/configuration.md) and FAULTS' flapping rows: an
 * intermittent fault (a loose contact, a motor on the edge of overload) must not become an alert
 * storm. One exception: a new episode at a severity above the previous episode's peak is raised
 * anyway, because a fault coming back worse is news. The streaming detector's hold-off makes the
 * same call (riseMargin, issue #6 item 1a).
 *
 * Time: the ts of readings are wall-clock labels and may step backwards (NTP after a boot on
 * fake-hwclock, FAULTS 8.5). The engine keeps its own clock that advances by max(0, ts - last ts),
 * so durations, clear-after and cooldown never run backwards; bodies keep the wall ts as labels.
 *
 * Restart: toJSON/fromJSON keep open episodes and the last ends. A restart does not end episodes
 * (a shutdown is not a clearing) and a fault still there afterwards continues its episode. Ending
 * needs clean readings, not only elapsed time, so downtime alone never ends an episode. flush()
 * exists for a device removed from the config, whose episodes must close for the receiver.
 *
 * Baseline learning (issue #6 item 5: detectors "learn and do not alert"): while muted, findings
 * are counted and otherwise ignored; open episodes neither continue nor age by readings.
 */
import type { AnomalyType, Finding } from "../findings.js";
import type { AnomalyBody, EndedBody, EndReason, RaisedBody } from "./anomalyBody.js";
import { DEVICE_ID, severityRank } from "./anomalyBody.js";
import {
  ALERT_STATE_FORMAT,
  ALERT_STATE_VERSION,
  type AlertEngineState,
  type EndedState,
  type EpisodeState,
  parseAlertState,
} from "./engineState.js";
import {
  checkThresholds,
  combineFindings,
  DEFAULT_AGREEMENT_WEIGHT,
  EPISODE_KEYS,
  type EpisodeKey,
  type Evidence,
  isUsableFinding,
  type SeverityThresholds,
} from "./ensemble.js";
import { endedRecord, raisedRecord } from "./episodeRecords.js";

export interface AlertEngineOptions {
  readonly device: string;
  /** machines[].thresholds. */
  readonly thresholds: SeverityThresholds;
  /** machines[].cooldown in ms. */
  readonly cooldownMs: number;
  /** An episode ends after the fault was absent this long ... (default DEFAULT_CLEAR_AFTER_MS) */
  readonly clearAfterMs?: number;
  /** ... and for this many readings in a row (default DEFAULT_CLEAR_AFTER_SAMPLES). */
  readonly clearAfterSamples?: number;
  /** ensemble.ts DEFAULT_AGREEMENT_WEIGHT; 0 = strongest detector only, 1 = noisy-OR. */
  readonly agreementWeight?: number;
  /** Start muted (baseline learning); setMuted() changes it. */
  readonly muted?: boolean;
}

/**
 * Clear-after defaults: both must hold. One minute, because a fault that flickers (a load hovering
 * at the overload band's edge, a likelihood hovering at LOW) should stay one episode rather than
 * lean on the cooldown. Three readings, because time alone would end an episode across a gap with
 * no readings (device offline, daemon restarted), and one clean reading can be luck; at a 1 s poll
 * the minute dominates, at a 5 min poll the three readings do.
 */
export const DEFAULT_CLEAR_AFTER_MS = 60_000;
export const DEFAULT_CLEAR_AFTER_SAMPLES = 3;

export interface TypeStats {
  findings: number;
  raised: number;
  escalated: number;
  ended: number;
  suppressedByCooldown: number;
}

export interface AlertStats {
  readonly readings: number;
  readonly raised: number;
  readonly escalated: number;
  readonly ended: number;
  readonly suppressedByCooldown: number;
  readonly mutedFindings: number;
  /** Findings refused for a non-finite or out-of-range number, an unknown type, or no tags. */
  readonly rejectedFindings: number;
  /** Readings refused for a non-finite ts. */
  readonly rejectedReadings: number;
  /** Readings whose ts was before the previous one's (the wall clock stepped back). */
  readonly clockStepsBack: number;
  readonly openEpisodes: number;
  readonly byType: Readonly<Partial<Record<AnomalyType, Readonly<TypeStats>>>>;
}

export interface OpenEpisode {
  readonly id: string;
  readonly type: AnomalyType;
  readonly severity: AnomalyBody["severity"];
  readonly peakSeverity: AnomalyBody["severity"];
  readonly startedTs: number;
}

type Counter = Exclude<keyof AlertStats, "openEpisodes" | "byType">;

export class AlertEngine {
  readonly device: string;
  private readonly thresholds: SeverityThresholds;
  private readonly cooldownMs: number;
  private readonly clearAfterMs: number;
  private readonly clearAfterSamples: number;
  private readonly agreementWeight: number;
  private mutedFlag: boolean;
  private clock = 0;
  private lastTs: number | null = null;
  /** Episodes raised by this engine (and the states it was restored from): the last part of an id. */
  private episodeSeq = 0;
  private readonly episodes = new Map<EpisodeKey, EpisodeState>();
  private readonly ends = new Map<EpisodeKey, EndedState>();
  private readonly counters: Record<Counter, number> = {
    readings: 0,
    raised: 0,
    escalated: 0,
    ended: 0,
    suppressedByCooldown: 0,
    mutedFindings: 0,
    rejectedFindings: 0,
    rejectedReadings: 0,
    clockStepsBack: 0,
  };
  private readonly byType = new Map<AnomalyType, TypeStats>();

  constructor(options: AlertEngineOptions, restored?: AlertEngineState) {
    checkThresholds(options.thresholds);
    this.device = options.device;
    this.thresholds = { ...options.thresholds };
    this.cooldownMs = nonNegative("cooldownMs", options.cooldownMs);
    this.clearAfterMs = nonNegative("clearAfterMs", options.clearAfterMs ?? DEFAULT_CLEAR_AFTER_MS);
    this.clearAfterSamples = options.clearAfterSamples ?? DEFAULT_CLEAR_AFTER_SAMPLES;
    if (!Number.isInteger(this.clearAfterSamples) || this.clearAfterSamples < 1) {
      throw new RangeError(`clearAfterSamples must be an integer >= 1, got ${this.clearAfterSamples}`);
    }
    this.agreementWeight = options.agreementWeight ?? DEFAULT_AGREEMENT_WEIGHT;
    if (!(this.agreementWeight >= 0 && this.agreementWeight <= 1)) {
      throw new RangeError(`agreementWeight must be in [0, 1], got ${this.agreementWeight}`);
    }
    this.mutedFlag = options.muted ?? false;
    if (!DEVICE_ID.test(options.device)) {
      throw new RangeError(
        `device ${JSON.stringify(options.device)} is not a device id (docs/protocol.md §2.2)`,
      );
    }
    if (restored !== undefined) {
      if (restored.device !== options.device) {
        throw new RangeError(`alert state is of device ${restored.device}, not ${options.device}`);
      }
      this.clock = restored.clock;
      this.lastTs = restored.lastTs;
      this.episodeSeq = restored.episodeSeq;
      for (const e of restored.episodes) {
        this.episodes.set(e.key, structuredClone(e));
      }
      for (const e of restored.ended) {
        this.ends.set(e.key, { ...e });
      }
    }
  }

  /** Restores an engine from toJSON output (possibly after a JSON round trip); throws if invalid. */
  static fromJSON(options: AlertEngineOptions, json: unknown): AlertEngine {
    return new AlertEngine(options, parseAlertState(json));
  }

  get muted(): boolean {
    return this.mutedFlag;
  }

  setMuted(muted: boolean): void {
    this.mutedFlag = muted;
  }

  /**
   * Takes one scored reading of the device at wall time ts with its detectors' findings (an empty
   * list for a normal reading: call it for every scored reading, or episodes cannot end) and
   * returns the records to append, usually none.
   */
  observe(ts: number, findings: readonly Finding[]): AnomalyBody[] {
    if (!Number.isFinite(ts)) {
      this.counters.rejectedReadings++;
      return [];
    }
    this.advance(ts);
    this.counters.readings++;
    const usable = findings.filter((f) => {
      const ok = isUsableFinding(f);
      if (ok) {
        this.typeStats(f.type).findings++;
      } else {
        this.counters.rejectedFindings++;
      }
      return ok;
    });
    if (this.mutedFlag) {
      this.counters.mutedFindings += usable.length;
      return [];
    }
    const out: AnomalyBody[] = [];
    const seen = new Set<EpisodeKey>();
    for (const evidence of combineFindings(usable, this.thresholds, this.agreementWeight)) {
      if (evidence.severity !== null) {
        seen.add(evidence.key);
        const body = this.onEvidence(ts, evidence, evidence.severity);
        if (body !== null) {
          out.push(body);
        }
      }
    }
    for (const key of EPISODE_KEYS) {
      const episode = this.episodes.get(key);
      if (episode !== undefined && !seen.has(key)) {
        const body = this.onQuiet(ts, episode);
        if (body !== null) {
          out.push(body);
        }
      }
    }
    return out;
  }

  /** Ends every open episode now (reason "flushed"): for a device leaving the config, not for a restart. */
  flush(ts: number): EndedBody[] {
    if (Number.isFinite(ts)) {
      this.advance(ts);
    }
    const now = Number.isFinite(ts) ? ts : (this.lastTs ?? 0);
    const out: EndedBody[] = [];
    for (const key of EPISODE_KEYS) {
      const e = this.episodes.get(key);
      if (e !== undefined) {
        out.push(this.end(now, e, e.quietSinceTs ?? now, e.quietSinceClock ?? this.clock, "flushed"));
      }
    }
    return out;
  }

  openEpisodes(): OpenEpisode[] {
    return [...this.episodes.values()].map((e) => ({
      id: e.id,
      type: e.type,
      severity: e.severity,
      peakSeverity: e.peakSeverity,
      startedTs: e.startedTs,
    }));
  }

  stats(): AlertStats {
    const byType: Partial<Record<AnomalyType, TypeStats>> = {};
    for (const [type, s] of this.byType) {
      byType[type] = { ...s };
    }
    return { ...this.counters, openEpisodes: this.episodes.size, byType };
  }

  toJSON(): AlertEngineState {
    return {
      format: ALERT_STATE_FORMAT,
      version: ALERT_STATE_VERSION,
      device: this.device,
      clock: this.clock,
      lastTs: this.lastTs,
      episodeSeq: this.episodeSeq,
      episodes: [...this.episodes.values()].map((e) => structuredClone(e)),
      ended: [...this.ends.values()].map((e) => ({ ...e })),
    };
  }

  private advance(ts: number): void {
    if (this.lastTs !== null) {
      if (ts < this.lastTs) {
        this.counters.clockStepsBack++;
      }
      this.clock += Math.max(0, ts - this.lastTs);
    }
    this.lastTs = ts;
  }

  private onEvidence(ts: number, evidence: Evidence, severity: AnomalyBody["severity"]): RaisedBody | null {
    const episode = this.episodes.get(evidence.key);
    if (episode === undefined) {
      return this.raise(ts, evidence, severity);
    }
    const previousPeak = episode.peakSeverity;
    episode.severity = severity;
    episode.score = evidence.probability;
    episode.lastSeenClock = this.clock;
    episode.quietSamples = 0;
    episode.quietSinceTs = null;
    episode.quietSinceClock = null;
    if (evidence.probability > episode.peakScore) {
      episode.peakScore = evidence.probability;
      episode.peakDetectors = [...evidence.detectors];
      episode.peakTags = [...evidence.tags];
    }
    if (severityRank(severity) <= severityRank(previousPeak)) {
      return null;
    }
    episode.peakSeverity = severity;
    this.counters.escalated++;
    this.typeStats(episode.type).escalated++;
    return raisedRecord(this.device, "escalated", ts, episode, evidence, previousPeak);
  }

  private raise(ts: number, evidence: Evidence, severity: AnomalyBody["severity"]): RaisedBody | null {
    const lastEnd = this.ends.get(evidence.key);
    if (
      lastEnd !== undefined &&
      this.clock - lastEnd.clock < this.cooldownMs &&
      severityRank(severity) <= severityRank(lastEnd.peakSeverity)
    ) {
      this.counters.suppressedByCooldown++;
      this.typeStats(evidence.type).suppressedByCooldown++;
      return null;
    }
    // The sequence number keeps ids unique where the wall time repeats (a clock stepped back, a
    // flush and a new raise in one millisecond); the receiver keeps one alert per id.
    this.episodeSeq++;
    const episode: EpisodeState = {
      id: `${this.device}:${evidence.type}:${ts}:${this.episodeSeq}`,
      key: evidence.key,
      type: evidence.type,
      startedTs: ts,
      startClock: this.clock,
      severity,
      score: evidence.probability,
      peakSeverity: severity,
      peakScore: evidence.probability,
      peakDetectors: [...evidence.detectors],
      peakTags: [...evidence.tags],
      lastSeenClock: this.clock,
      quietSamples: 0,
      quietSinceTs: null,
      quietSinceClock: null,
    };
    this.episodes.set(evidence.key, episode);
    this.counters.raised++;
    this.typeStats(evidence.type).raised++;
    return raisedRecord(this.device, "raised", ts, episode, evidence);
  }

  private onQuiet(ts: number, episode: EpisodeState): EndedBody | null {
    episode.quietSamples++;
    episode.quietSinceTs ??= ts;
    episode.quietSinceClock ??= this.clock;
    if (
      episode.quietSamples < this.clearAfterSamples ||
      this.clock - episode.lastSeenClock < this.clearAfterMs
    ) {
      return null;
    }
    return this.end(ts, episode, episode.quietSinceTs, episode.quietSinceClock, "cleared");
  }

  private end(
    ts: number,
    e: EpisodeState,
    endedTs: number,
    endedClock: number,
    reason: EndReason,
  ): EndedBody {
    this.episodes.delete(e.key);
    this.ends.set(e.key, { key: e.key, clock: this.clock, peakSeverity: e.peakSeverity });
    this.counters.ended++;
    this.typeStats(e.type).ended++;
    return endedRecord(this.device, e, {
      ts,
      endedTs,
      durationMs: Math.max(0, endedClock - e.startClock),
      reason,
    });
  }

  private typeStats(type: AnomalyType): TypeStats {
    let s = this.byType.get(type);
    if (s === undefined) {
      s = { findings: 0, raised: 0, escalated: 0, ended: 0, suppressedByCooldown: 0 };
      this.byType.set(type, s);
    }
    return s;
  }
}

function nonNegative(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new RangeError(`${name} must be a finite number >= 0, got ${value}`);
  }
  return value;
}
