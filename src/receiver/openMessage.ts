/**
 * Opening one MQTT message on the receiver (issue #7 item 2; docs/protocol.md §1, §6): the topic
 * must fit the template and agree with the authenticated header (gw, dev), the key is chosen per
 * gateway, and a tag that fails is tried once on each sibling stream's topic so that a payload
 * moved from another stream is told apart from one that was altered. That costs at most three
 * more decryptions per bad message, a fixed factor, and only for messages that fail anyway.
 */
import {
  type DeviceKeySource,
  EnvelopeError,
  type EnvelopeHeader,
  openEnvelope,
} from "../crypto/envelope/index.js";
import { parsePayload } from "../crypto/envelope/parsePayload.js";
import type { RejectReason } from "./outcomes.js";
import type { ReceiverKeys } from "./receiverKeys.js";
import { STREAMS, type TopicLevels, type TopicPattern } from "./topicPattern.js";

export interface OpenedMessage {
  readonly ok: true;
  readonly header: EnvelopeHeader;
  readonly levels: TopicLevels;
  /** Hex of the envelope's nonce: unique per envelope (§5), so it identifies a replay. */
  readonly nonce: string;
  readonly plaintext: Uint8Array;
}

export interface UnopenedMessage {
  readonly ok: false;
  readonly reason: RejectReason;
  readonly message: string;
  readonly header?: EnvelopeHeader;
}

export function openMessage(
  keys: ReceiverKeys,
  pattern: TopicPattern,
  topic: string,
  payload: string,
): OpenedMessage | UnopenedMessage {
  const levels = pattern.match(topic);
  if (levels === undefined) {
    return { ok: false, reason: "topic-mismatch", message: `${topic} does not fit the topic template` };
  }
  let header: EnvelopeHeader;
  let nonce: string;
  try {
    const parsed = parsePayload(payload);
    header = parsed.header;
    nonce = Buffer.from(parsed.nonce).toString("hex");
  } catch (error) {
    if (error instanceof EnvelopeError) {
      // unsupported-version and -algorithm are malformed to this receiver; the message says which.
      return { ok: false, reason: "malformed", message: `${error.reason}: ${error.message}` };
    }
    throw error;
  }
  if (header.gateway !== levels.gateway || (levels.device !== undefined && header.device !== levels.device)) {
    return {
      ok: false,
      reason: "topic-mismatch",
      header,
      message: `sealed by gw ${header.gateway} dev ${header.device}, published on ${topic}`,
    };
  }
  const source = keys.deviceKeysOf(header.gateway);
  const siblings = STREAMS.filter((stream) => stream !== levels.stream).map((stream) =>
    pattern.render(levels, stream),
  );
  const opened = openOrExplain(
    source,
    topic,
    payload,
    siblings,
    `the tag does not verify (gw ${header.gateway}, dev ${header.device}, kid ${header.keyId}, seq ${header.seq}): altered, truncated or sealed under another key`,
  );
  return opened.ok ? { ok: true, header, levels, nonce, plaintext: opened.plaintext } : { ...opened, header };
}

/**
 * Opens `payload` on `topic`; when the tag fails, tries it once on each of `elsewhere` (the topics
 * it could have been moved from) to tell "moved" (topic-mismatch) from "altered" (tampered,
 * `tamperedMessage`). Shared by records (sibling streams) and health snapshots (the gateway's own
 * record topics).
 */
export function openOrExplain(
  source: DeviceKeySource,
  topic: string,
  payload: string,
  elsewhere: Iterable<string>,
  tamperedMessage: string,
):
  | { readonly ok: true; readonly plaintext: Uint8Array }
  | { readonly ok: false; readonly reason: RejectReason; readonly message: string } {
  try {
    return { ok: true, plaintext: openEnvelope(source, topic, payload).plaintext };
  } catch (error) {
    if (!(error instanceof EnvelopeError)) {
      throw error;
    }
    if (error.reason === "unknown-key") {
      return { ok: false, reason: "unknown-key", message: error.message };
    }
    if (error.reason !== "auth-failed") {
      return { ok: false, reason: "malformed", message: `${error.reason}: ${error.message}` };
    }
  }
  for (const other of elsewhere) {
    try {
      openEnvelope(source, other, payload);
      return {
        ok: false,
        reason: "topic-mismatch",
        message: `the payload was sealed for ${other} and moved to ${topic}`,
      };
    } catch (error) {
      if (!(error instanceof EnvelopeError)) {
        throw error;
      }
    }
  }
  return { ok: false, reason: "tampered", message: tamperedMessage };
}

/** The gateway and (when it fits a number) the seq of a parsed header, to label a rejection. */
export function headerLabels(header: Pick<EnvelopeHeader, "gateway" | "seq">): {
  readonly gateway: string;
  readonly seq?: number;
} {
  return header.seq <= BigInt(Number.MAX_SAFE_INTEGER)
    ? { gateway: header.gateway, seq: Number(header.seq) }
    : { gateway: header.gateway };
}
