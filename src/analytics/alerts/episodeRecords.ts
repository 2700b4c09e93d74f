/**
 * An episode's state turned into the anomaly records of issue #6 item 3 (anomalyBody.ts): what a
 * raised or escalated record says about the reading that produced it, and what an ended record
 * says about the whole episode.
 */
import type { Severity } from "../findings.js";
import type { EndedBody, EndReason, RaisedBody } from "./anomalyBody.js";
import type { EpisodeState } from "./engineState.js";
import type { Evidence } from "./ensemble.js";
import { explainAlert, explainEnded } from "./explanation.js";

/** A raised or escalated record: the episode's id and type, this reading's evidence. */
export function raisedRecord(
  device: string,
  state: RaisedBody["state"],
  ts: number,
  e: EpisodeState,
  evidence: Evidence,
  previous?: Severity,
): RaisedBody {
  const { detectors, tags } = evidence;
  return {
    kind: "anomaly",
    state,
    id: e.id,
    device,
    type: e.type,
    severity: e.severity,
    ts,
    startedTs: e.startedTs,
    score: evidence.probability,
    detectors,
    tags,
    explanation: explainAlert({
      severity: e.severity,
      ...(previous === undefined ? {} : { previous }),
      type: e.type,
      device,
      tags,
      detectors,
    }),
  };
}

/**
 * An ended record. It describes the episode's peak reading throughout (severity, score, detectors,
 * tags): the reading a technician wants in the closing summary, and one reading, not a mixture.
 */
export function endedRecord(
  device: string,
  e: EpisodeState,
  end: {
    readonly ts: number;
    readonly endedTs: number;
    readonly durationMs: number;
    readonly reason: EndReason;
  },
): EndedBody {
  const { type, peakSeverity, peakScore, peakDetectors: detectors, peakTags: tags } = e;
  const { ts, endedTs, durationMs, reason } = end;
  return {
    kind: "anomaly",
    state: "ended",
    id: e.id,
    device,
    type,
    severity: peakSeverity,
    ts,
    startedTs: e.startedTs,
    score: peakScore,
    detectors,
    tags,
    explanation: explainEnded({ type, device, durationMs, peakSeverity, peakScore, reason, tags, detectors }),
    endedTs,
    durationMs,
    peakSeverity,
    peakScore,
    reason,
  };
}
