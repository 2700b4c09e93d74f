/**
 * Which records go into the next message (issue #5, item 6): one record, or with batching
 * (uplink.batch.maxRecords > 1) the longest run of consecutive records with one device and one
 * stream (so one topic and one device key) whose plaintext stays within batch.maxBytes and whose
 * packet stays within the connection's limit. So every message carries one contiguous seq range.
 * A single record whose packet is over the limit is reported as too large: it becomes a
 * dead-letter record instead of a publish the broker would answer by closing the connection.
 */
import type { LedgerEntry } from "../ledger/ledgerEntry.js";
import { MAX_PAYLOAD_BYTES, publishPacketBytes } from "./packetSize.js";
import { BATCH_SEPARATOR, type MessageSealer } from "./sealRecord.js";
import type { RenderedTopic, TopicRenderer } from "./topics.js";

export interface PlanContext {
  readonly topics: TopicRenderer;
  readonly sealer: MessageSealer;
  readonly maxRecords: number;
  readonly maxBytes: number;
  readonly packetLimit: number;
  readonly protocolVersion: 4 | 5;
}

export type PlannedMessage =
  | {
      readonly kind: "publish";
      readonly entries: readonly LedgerEntry[];
      readonly topic: RenderedTopic;
      readonly packetBytes: number;
    }
  | {
      readonly kind: "too-large";
      readonly entry: LedgerEntry;
      readonly topic: RenderedTopic;
      /** "packet-too-large" (over the packet limit) or "payload-too-large" (over docs/protocol.md §3.4). */
      readonly reason: "packet-too-large" | "payload-too-large";
      readonly bytes: number;
      readonly limit: number;
    };

/** The message starting at ahead[start]; ahead holds consecutive entries in seq order. */
export function planMessage(
  ahead: readonly LedgerEntry[],
  start: number,
  context: PlanContext,
): PlannedMessage {
  const first = ahead[start];
  if (first === undefined) {
    throw new RangeError(`no entry at ${start}`);
  }
  const topic = context.topics.topicOf(first);
  let plaintextBytes = Buffer.byteLength(first.text, "utf8");
  const payloadBytes = context.sealer.payloadBytes(first, plaintextBytes);
  if (payloadBytes > MAX_PAYLOAD_BYTES) {
    return {
      kind: "too-large",
      entry: first,
      topic,
      reason: "payload-too-large",
      bytes: payloadBytes,
      limit: MAX_PAYLOAD_BYTES,
    };
  }
  let packetBytes = publishPacketBytes(topic.bytes, payloadBytes, context.protocolVersion);
  if (packetBytes > context.packetLimit) {
    return {
      kind: "too-large",
      entry: first,
      topic,
      reason: "packet-too-large",
      bytes: packetBytes,
      limit: context.packetLimit,
    };
  }
  let end = start + 1;
  // An entry text with a line feed in it (a body written with whitespace) always travels alone,
  // so that splitting a batch at LF is never ambiguous (docs/protocol.md, "Batches").
  if (context.maxRecords > 1 && !first.text.includes(BATCH_SEPARATOR)) {
    let previous = first;
    while (end - start < context.maxRecords) {
      const next = ahead[end];
      if (
        next === undefined ||
        next.seq !== previous.seq + 1 ||
        next.device !== first.device ||
        context.topics.topicOf(next).name !== topic.name ||
        next.text.includes(BATCH_SEPARATOR)
      ) {
        break;
      }
      const grown = plaintextBytes + 1 + Buffer.byteLength(next.text, "utf8");
      if (grown > context.maxBytes) {
        break;
      }
      const grownPayload = context.sealer.payloadBytes(first, grown);
      const grownPacket = publishPacketBytes(topic.bytes, grownPayload, context.protocolVersion);
      if (grownPayload > MAX_PAYLOAD_BYTES || grownPacket > context.packetLimit) {
        break;
      }
      plaintextBytes = grown;
      packetBytes = grownPacket;
      previous = next;
      end++;
    }
  }
  return { kind: "publish", entries: ahead.slice(start, end), topic, packetBytes };
}
