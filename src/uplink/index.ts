/**
 * The uplink (issue #5): the MQTT session and the forwarder from the ledger's acked cursor, for
 * the composition root. The format on the wire is docs/protocol.md's (§1 topics, §11 delivery,
 * batches and dead letters).
 */
export { Forwarder, type ForwarderDependencies, type ForwarderSettings } from "./forwarder.js";
export type { ForwarderStats } from "./forwarderStats.js";
export { type SessionSettings, STATUS_OFFLINE, STATUS_ONLINE } from "./mqttOptions.js";
export {
  type Connection,
  type ConnectionListener,
  MqttSession,
  type PublishOutcome,
  type SessionStatus,
} from "./mqttSession.js";
export { TopicRenderer, type TopicSettings } from "./topics.js";
export { UplinkFileError } from "./uplinkFiles.js";
export {
  forwarderSettingsOf,
  sessionSettingsOf,
  topicSettingsOf,
  type UplinkConfig,
} from "./uplinkSettings.js";
