/**
 * The uplink's settings from the validated config (issue #5), for the composition root: the
 * session's, the topics', and the forwarder's (which also needs the key ring, loaded at start).
 */
import type { Config } from "../config/schema/index.js";
import type { KeyRing } from "../crypto/keys/index.js";
import type { ForwarderSettings } from "./forwarder.js";
import type { SessionSettings } from "./mqttOptions.js";
import type { TopicRenderer, TopicSettings } from "./topics.js";

export type UplinkConfig = NonNullable<Config["uplink"]>;

export function topicSettingsOf(config: Pick<Config, "gateway">, uplink: UplinkConfig): TopicSettings {
  return {
    prefix: uplink.topics.prefix,
    site: config.gateway.site,
    gateway: config.gateway.id,
    template: uplink.topics.template,
  };
}

export function sessionSettingsOf(config: Pick<Config, "gateway">, uplink: UplinkConfig): SessionSettings {
  const { prefix } = uplink.topics;
  return {
    url: uplink.url,
    mqttVersion: uplink.mqttVersion,
    clientId: uplink.clientId ?? `edgewarden-${config.gateway.id}`,
    username: uplink.username,
    passwordFile: uplink.passwordFile,
    keepaliveMs: uplink.keepalive,
    connectTimeoutMs: uplink.connectTimeout,
    reconnect: { initialDelayMs: uplink.reconnect.initialDelay, maxDelayMs: uplink.reconnect.maxDelay },
    tls: uplink.tls,
    statusTopic: `${prefix}/${config.gateway.site}/${config.gateway.id}/status`,
  };
}

export function forwarderSettingsOf(
  config: Pick<Config, "gateway" | "crypto">,
  uplink: UplinkConfig,
  topics: TopicRenderer,
  keyRing: KeyRing | undefined,
): ForwarderSettings {
  return {
    gateway: config.gateway.id,
    topics,
    encryption: config.crypto.encryption,
    keyRing,
    inflight: uplink.inflight,
    batch: uplink.batch,
    maxPacketSize: uplink.maxPacketSize,
    retry: { initialDelayMs: uplink.reconnect.initialDelay, maxDelayMs: uplink.reconnect.maxDelay },
    drainOnStopMs: uplink.drainOnStop,
  };
}
