/**
 * receiver/: the upstream side's verification core (issue #7 item 2). The receive command (MQTT
 * subscription, storage) builds on these; nothing here does I/O.
 */
export { CheckpointVerifier } from "./checkpointVerifier.js";
export { type ChainLimits, DEFAULT_CHAIN_LIMITS, GatewayChains } from "./gatewayChain.js";
export type {
  AcceptedRecord,
  DuplicateRecord,
  GapBody,
  GapEvent,
  HealthReport,
  ReceiverOutcome,
  RecordBody,
  RejectedMessage,
  RejectReason,
  TamperEvent,
  TamperReason,
} from "./outcomes.js";
export { REJECT_REASONS } from "./outcomes.js";
export {
  type ChainMode,
  type ReceivedMessage,
  ReceiverCore,
  type ReceiverCoreOptions,
} from "./receiverCore.js";
export { newReceiverCounters, type ReceiverCounters } from "./receiverCounters.js";
export { type ReceiverKeyFile, ReceiverKeys } from "./receiverKeys.js";
export { type ChainHead, MemoryReceiverState, type ReceiverState, type StoredLink } from "./receiverState.js";
export { type TopicLevels, TopicPattern, type TopicSettings } from "./topicPattern.js";
