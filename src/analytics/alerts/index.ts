/** Ensemble, severity, episodes and anomaly records (issue #6 item 3): the public surface of this folder. */
export {
  AlertEngine,
  type AlertEngineOptions,
  type AlertStats,
  DEFAULT_CLEAR_AFTER_MS,
  DEFAULT_CLEAR_AFTER_SAMPLES,
  type OpenEpisode,
  type TypeStats,
} from "./alertEngine.js";
export {
  type AnomalyBody,
  AnomalyBodyError,
  type AnomalyState,
  anomalyFromJson,
  anomalyToJson,
  type BodyTag,
  type DetectorVerdict,
  type EndedBody,
  type EndReason,
  MAX_BODY_TAGS,
  MAX_EXPLANATION_CHARS,
  type RaisedBody,
} from "./anomalyBody.js";
export { ALERT_STATE_VERSION, type AlertEngineState, parseAlertState } from "./engineState.js";
export {
  combineProbabilities,
  DEFAULT_AGREEMENT_WEIGHT,
  type EpisodeKey,
  episodeKeyOf,
  type SeverityThresholds,
  severityFor,
} from "./ensemble.js";
