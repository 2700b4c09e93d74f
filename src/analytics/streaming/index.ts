/** Streaming single-signal detector (issue #6 item 1a): the public surface of this folder. */
export { logLikelihood } from "./anomalyLikelihood.js";
export type { Seasonality } from "./seasonalBaseline.js";
export { STREAMING_DEFAULTS, type StreamingTuning } from "./streamingDefaults.js";
export {
  type DetectorStats,
  MAD_TO_SIGMA,
  StreamingDetector,
  type StreamingDetectorConfig,
  type StreamingMethod,
  type StreamingScore,
} from "./streamingDetector.js";
export {
  parseStreamingState,
  STREAMING_STATE_VERSION,
  type StreamingDetectorState,
} from "./streamingState.js";
export { isTimeZone, ZoneOffsets } from "./zoneOffset.js";
