/**
 * Opening one envelope received on one topic (issue #3; docs/protocol.md, "Opening"). The payload
 * is checked completely before any key is looked up (parsePayload), the key is chosen by the
 * authenticated header (dev, kid), and the associated data is rebuilt from the topic the message
 * arrived on, so a payload moved to another topic fails its tag.
 *
 * open() does not compare the topic's levels with gw and dev: the topic template is configurable
 * (uplink.topics.template may omit {device} or reorder levels) and crypto/ cannot know it. Both the
 * topic and the header are authenticated, so only a holder of the key could make them disagree;
 * the receiver, which knows the template, checks that (issue #7).
 */
import { AsconAuthError, asconAead128 } from "../ascon/index.js";
import { KeyLookupError } from "../keys/index.js";
import { envelopeAssociatedData } from "./associatedData.js";
import { EnvelopeError, topicProblem } from "./format.js";
import { parsePayload } from "./parsePayload.js";
import type { DeviceKeySource, EnvelopeMessage } from "./seal.js";

/**
 * The record inside `payload`, received on `topic`. Throws EnvelopeError, and nothing else, when
 * the envelope does not open; its `reason` says why. No plaintext is released unless the tag verifies.
 */
export function openEnvelope(keys: DeviceKeySource, topic: string, payload: string): EnvelopeMessage {
  if (typeof topic !== "string") {
    throw new EnvelopeError("malformed", `the topic must be text (got ${typeof topic})`);
  }
  const problem = topicProblem(topic);
  if (problem !== undefined) {
    throw new EnvelopeError("malformed", problem);
  }
  const { header, nonce, sealed } = parsePayload(payload);
  let key: Uint8Array;
  try {
    key = keys.deviceKey(header.device, header.keyId);
  } catch (error) {
    if (error instanceof KeyLookupError) {
      throw new EnvelopeError("unknown-key", error.message, { cause: error });
    }
    throw error;
  }
  try {
    const cipher = asconAead128(key, nonce, envelopeAssociatedData(topic, header));
    try {
      return { topic, header, plaintext: cipher.decrypt(sealed) };
    } catch (error) {
      if (!(error instanceof AsconAuthError)) {
        throw error;
      }
      throw new EnvelopeError(
        "auth-failed",
        `the tag does not verify: the payload was altered or truncated, moved from another topic, or sealed under another key (gw ${header.gateway}, dev ${header.device}, kid ${header.keyId}, seq ${header.seq})`,
        { cause: error },
      );
    }
  } finally {
    // KeyRing.deviceKey returns a fresh copy; wiping it is best effort (the ring keeps its secret).
    key.fill(0);
  }
}
