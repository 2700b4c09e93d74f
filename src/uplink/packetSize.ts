/**
 * Sizes the forwarder must know before it publishes (issue #5: "a packet over the broker's maximum
 * packet size becomes a dead-letter record, not an endless retry"). mqtt.js does not check the
 * broker's Maximum Packet Size, and a broker that gets a larger packet closes the connection
 * (MQTT 5 §3.1.2.26; mosquitto's max_packet_size), which a resend after reconnect would repeat
 * forever. So the size is computed exactly, before sealing.
 */
import { MAX_PAYLOAD_CHARS } from "../crypto/envelope/index.js";

/** MQTT's own limit: 1 byte of fixed header, 4 bytes of remaining length, 268,435,455 bytes after them. */
export const MQTT_MAX_PACKET_BYTES = 268_435_460;

/** Bytes of a QoS 1 PUBLISH packet: fixed header, topic, packet id, (MQTT 5) empty properties, payload. */
export function publishPacketBytes(topicBytes: number, payloadBytes: number, protocolVersion: 4 | 5): number {
  const remaining = 2 + topicBytes + 2 + (protocolVersion === 5 ? 1 : 0) + payloadBytes;
  return 1 + varintBytes(remaining) + remaining;
}

function varintBytes(value: number): number {
  if (value < 128) {
    return 1;
  }
  if (value < 16_384) {
    return 2;
  }
  if (value < 2_097_152) {
    return 3;
  }
  return 4;
}

/** Characters of base64url without padding (docs/protocol.md §3.3) of `bytes` bytes. */
export function base64urlLength(bytes: number): number {
  const rest = bytes % 3;
  return Math.floor(bytes / 3) * 4 + (rest === 0 ? 0 : rest + 1);
}

export interface EnvelopeSizeHeader {
  readonly gateway: string;
  readonly device: string;
  readonly keyId: string;
  readonly seq: number;
  readonly ts: number;
}

/**
 * Length of the canonical envelope text (docs/protocol.md §3.2) sealing `plaintextBytes` bytes.
 * Every field is ASCII, so characters and bytes agree; test/uplink checks it against sealEnvelope.
 */
export function envelopeLength(header: EnvelopeSizeHeader, plaintextBytes: number): number {
  const fixed = `{"v":1,"alg":"ascon-aead128","gw":"","dev":"","kid":"","seq":"","ts":,"n":"","ct":""}`
    .length;
  return (
    fixed +
    header.gateway.length +
    header.device.length +
    header.keyId.length +
    String(header.seq).length +
    String(header.ts).length +
    base64urlLength(16) +
    base64urlLength(plaintextBytes + 16)
  );
}

/**
 * The largest packet to send on a connection: the broker's announced Maximum Packet Size (MQTT 5),
 * else the configured one, else MQTT's own limit.
 */
export function packetLimit(announced: number | undefined, configured: number | undefined): number {
  return Math.min(announced ?? configured ?? MQTT_MAX_PACKET_BYTES, MQTT_MAX_PACKET_BYTES);
}

/** Receivers refuse longer payloads before parsing (docs/protocol.md §3.4); so do we, before sending. */
export const MAX_PAYLOAD_BYTES = MAX_PAYLOAD_CHARS;
