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

const utf8 = new TextEncoder();
const DOMAIN_BYTES = utf8.encode(ENVELOPE_AD_DOMAIN);
const ALGORITHM_BYTES = utf8.encode(ENVELOPE_ALGORITHM);

/**
 * Written into one array, the constant fields encoded once: built part by part it cost as much
 * as the cipher for a ledger entry (issue #5, uplink bench). The bytes are the same.
 */
export function envelopeAssociatedData(topic: string, header: EnvelopeHeader): Uint8Array {
  const texts = [
    utf8.encode(topic),
    utf8.encode(header.gateway),
    utf8.encode(header.device),
    utf8.encode(header.keyId),
  ];
  for (const bytes of texts) {
    if (bytes.length > 0xffff) {
      // Callers validate first (topicProblem); this guards the length prefix itself.
      throw new RangeError(`envelope: a text field of ${bytes.length} bytes does not fit a 2-byte length`);
    }
  }
  const [topicBytes, gateway, device, keyId] = texts as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const length =
    2 * 6 +
    DOMAIN_BYTES.length +
    ALGORITHM_BYTES.length +
    8 * 3 +
    texts.reduce((sum, bytes) => sum + bytes.length, 0);
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  let offset = 0;
  const text = (bytes: Uint8Array) => {
    view.setUint16(offset, bytes.length, false);
    out.set(bytes, offset + 2);
    offset += 2 + bytes.length;
  };
  const u64 = (value: bigint) => {
    view.setBigUint64(offset, value, false);
    offset += 8;
  };
  text(DOMAIN_BYTES);
  text(topicBytes);
  u64(BigInt(ENVELOPE_VERSION));
  text(ALGORITHM_BYTES);
  text(gateway);
  text(device);
  text(keyId);
  u64(header.seq);
  u64(BigInt(header.ts));
  return out;
}
