/**
 * The associated data of an envelope (issue #3: "binds the topic and every header field, so a
 * moved, replayed-on-another-topic or altered message fails to open"). Byte for byte, in this
 * fixed order (docs/protocol.md, "Associated data"):
 *
 *   text(domain) || text(topic) || u64(v) || text(alg) || text(gw) || text(dev) || text(kid)
 *     || u64(seq) || u64(ts)
 *
 * where text(s) = 2-byte big-endian length of UTF-8(s), then UTF-8(s), and u64(x) = 8 bytes
 * big-endian. Fixed order, length prefixes and fixed-width integers make the encoding injective:
 * no two different (topic, header) pairs give the same bytes, so no field can bleed into the next.
 * The nonce is not included: it is the AEAD nonce, so changing it already changes the tag.
 */
import { ENVELOPE_AD_DOMAIN, ENVELOPE_ALGORITHM, ENVELOPE_VERSION, type EnvelopeHeader } from "./format.js";

export function envelopeAssociatedData(topic: string, header: EnvelopeHeader): Uint8Array {
  const utf8 = new TextEncoder();
  const parts: Uint8Array[] = [];
  const text = (value: string) => {
    const bytes = utf8.encode(value);
    if (bytes.length > 0xffff) {
      // Callers validate first (topicProblem); this guards the length prefix itself.
      throw new RangeError(`envelope: a text field of ${bytes.length} bytes does not fit a 2-byte length`);
    }
    parts.push(Uint8Array.of(bytes.length >> 8, bytes.length & 0xff), bytes);
  };
  const u64 = (value: bigint) => {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, value, false);
    parts.push(bytes);
  };
  text(ENVELOPE_AD_DOMAIN);
  text(topic);
  u64(BigInt(ENVELOPE_VERSION));
  text(ENVELOPE_ALGORITHM);
  text(header.gateway);
  text(header.device);
  text(header.keyId);
  u64(header.seq);
  u64(BigInt(header.ts));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
