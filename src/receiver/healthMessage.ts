/**
 * Opening a gateway's health message on the receiver (issue #7 item 3; docs/protocol.md §1,
 * "Health"): the retained snapshot on `{prefix}/{site}/{gateway}/health`, sealed under the key of
 * the pseudo-device `_gateway` with the chain head's seq in the header. Pure, like openMessage:
 * the receiver core recognises the topic with this function, and a health message is a snapshot
 * to show, never a record to store or to check against the chain.
 *
 * The topic is bound into the associated data (§4), so a record moved onto the health topic, or a
 * health payload moved onto a record topic, fails the tag. When a payload fails here, it is tried
 * once on the gateway's own record topics to tell "moved" from "altered", as openMessage does for
 * sibling streams: a fixed handful of decryptions, only for messages that fail anyway.
 */
import { EnvelopeError, type EnvelopeHeader } from "../crypto/envelope/index.js";
import { parsePayload } from "../crypto/envelope/parsePayload.js";
import { NO_DEVICE } from "../ledger/ledgerEntry.js";
import { headerLabels, openOrExplain } from "./openMessage.js";
import type { RejectReason } from "./outcomes.js";
import type { ReceiverKeys } from "./receiverKeys.js";
import { escapeRegex, STREAMS, TopicPattern, type TopicSettings } from "./topicPattern.js";

/** The last level of the health topic (src/uplink/healthPublisher.ts writes it). */
export const HEALTH_LEVEL = "health";

export interface OpenedHealth {
  readonly ok: true;
  readonly gateway: string;
  readonly site: string;
  /** The gateway's chain head when the snapshot was taken (the header's seq). */
  readonly seq: number;
  /** Wall ms on the gateway when it was sealed (a label). */
  readonly ts: number;
  readonly keyId: string;
  /** The health document (src/observability/healthReport.ts), as the gateway wrote it. */
  readonly health: Readonly<Record<string, unknown>>;
}

export interface RejectedHealth {
  readonly ok: false;
  readonly reason: RejectReason;
  readonly message: string;
  /** Known once the header parsed. */
  readonly gateway?: string;
  readonly seq?: number;
}

interface HealthTopics {
  readonly records: TopicPattern;
  readonly health: RegExp;
}

/** Built once per settings object: a receiver has one, and messages arrive by the thousand. */
const compiled = new WeakMap<TopicSettings, HealthTopics>();

function topicsOf(settings: TopicSettings): HealthTopics {
  let topics = compiled.get(settings);
  if (topics === undefined) {
    topics = {
      records: new TopicPattern(settings),
      health: new RegExp(`^${escapeRegex(settings.prefix)}/([^/+#]+)/([^/+#]+)/${HEALTH_LEVEL}$`),
    };
    compiled.set(settings, topics);
  }
  return topics;
}

/**
 * The site and gateway levels of a health topic, or undefined when `topic` is not one. A topic
 * that fits the record template is a record's (a template could make one look like a health
 * topic), as for the status topic.
 */
export function healthTopicLevels(
  settings: TopicSettings,
  topic: string,
): { readonly site: string; readonly gateway: string } | undefined {
  const topics = topicsOf(settings);
  const found = topics.health.exec(topic);
  if (found === null || topics.records.match(topic) !== undefined) {
    return undefined;
  }
  return { site: found[1] ?? "", gateway: found[2] ?? "" };
}

/**
 * Undefined when `topic` is not a health topic (the caller goes on with records); otherwise the
 * opened snapshot, or why it was rejected, from the receiver's closed set of reasons.
 */
export function openHealthMessage(
  keys: ReceiverKeys,
  settings: TopicSettings,
  topic: string,
  payload: string,
): OpenedHealth | RejectedHealth | undefined {
  const levels = healthTopicLevels(settings, topic);
  if (levels === undefined) {
    return undefined;
  }
  let header: EnvelopeHeader;
  try {
    header = parsePayload(payload).header;
  } catch (error) {
    if (error instanceof EnvelopeError) {
      return { ok: false, reason: "malformed", message: `${error.reason}: ${error.message}` };
    }
    throw error;
  }
  const labels = headerLabels(header);
  if (header.gateway !== levels.gateway || header.device !== NO_DEVICE) {
    return {
      ok: false,
      reason: "topic-mismatch",
      ...labels,
      message: `sealed by gw ${header.gateway} dev ${header.device}, published on the health topic ${topic}`,
    };
  }
  if (labels.seq === undefined) {
    return {
      ok: false,
      reason: "malformed",
      ...labels,
      message: `seq ${header.seq} is beyond any chain head`,
    };
  }
  const source = keys.deviceKeysOf(header.gateway);
  const records = topicsOf(settings).records;
  const opened = openOrExplain(
    source,
    topic,
    payload,
    STREAMS.map((stream) => records.render({ ...levels, device: NO_DEVICE, stream }, stream)),
    `the tag does not verify on ${topic} (gw ${header.gateway}, kid ${header.keyId}, seq ${header.seq}): altered, moved or sealed under another key`,
  );
  if (!opened.ok) {
    return { ...opened, ...labels };
  }
  const health = healthOf(opened.plaintext);
  if (health === undefined || health.gateway !== header.gateway || health.site !== levels.site) {
    return {
      ok: false,
      reason: "bad-entry",
      ...labels,
      message: `the plaintext is not a health document of gateway ${header.gateway} at site ${levels.site}`,
    };
  }
  return {
    ok: true,
    gateway: header.gateway,
    site: levels.site,
    seq: labels.seq,
    ts: header.ts,
    keyId: header.keyId,
    health,
  };
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

function healthOf(plaintext: Uint8Array): Readonly<Record<string, unknown>> | undefined {
  try {
    const json: unknown = JSON.parse(UTF8.decode(plaintext));
    return typeof json === "object" && json !== null && !Array.isArray(json)
      ? (json as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
