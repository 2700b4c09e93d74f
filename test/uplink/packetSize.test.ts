/**
 * Sizes computed before publishing (issue #5): the envelope's length against sealEnvelope's
 * output, and the PUBLISH packet's length against mqtt-packet, which mqtt.js writes with.
 */
import mqttPacket from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { sealEnvelope } from "../../src/crypto/envelope/index.js";
import {
  base64urlLength,
  envelopeLength,
  MQTT_MAX_PACKET_BYTES,
  packetLimit,
  publishPacketBytes,
} from "../../src/uplink/packetSize.js";

describe("packet sizes", () => {
  // Any 16-byte key: the length does not depend on it.
  const ring = { deviceKey: () => new Uint8Array(16).fill(7) };

  it("envelopeLength is the length of what sealEnvelope returns", () => {
    for (const plaintextBytes of [0, 1, 2, 3, 100, 1000, 4097]) {
      for (const header of [
        { gateway: "g", device: "_gateway", keyId: "k1", seq: 1, ts: 0 },
        {
          gateway: "hm3-gw-01",
          device: "press-2",
          keyId: "k12",
          seq: 9_007_199_254_740_991,
          ts: 1_795_320_853_847,
        },
      ]) {
        const payload = sealEnvelope(ring, {
          topic: "t/x",
          header: { ...header, seq: BigInt(header.seq) },
          plaintext: new Uint8Array(plaintextBytes),
        });
        expect(envelopeLength(header, plaintextBytes)).toBe(payload.length);
      }
    }
  });

  it("base64urlLength has no padding", () => {
    expect([0, 1, 2, 3, 4, 16, 32].map(base64urlLength)).toEqual([0, 2, 3, 4, 6, 22, 43]);
  });

  it("publishPacketBytes matches the packet mqtt-packet generates, across remaining-length widths", () => {
    for (const protocolVersion of [4, 5] as const) {
      for (const payloadBytes of [0, 100, 127, 200, 16_380, 20_000, 2_097_200]) {
        const topic = "edgewarden/lab/gw/press-2/data";
        const packet = mqttPacket.generate(
          {
            cmd: "publish",
            topic,
            payload: Buffer.alloc(payloadBytes),
            qos: 1,
            messageId: 7,
            retain: false,
            dup: false,
          },
          { protocolVersion },
        );
        expect(publishPacketBytes(Buffer.byteLength(topic), payloadBytes, protocolVersion)).toBe(
          packet.length,
        );
      }
    }
  });

  it("takes the broker's announced limit first, then the configured one, then MQTT's", () => {
    expect(packetLimit(2000, 5000)).toBe(2000);
    expect(packetLimit(undefined, 5000)).toBe(5000);
    expect(packetLimit(undefined, undefined)).toBe(MQTT_MAX_PACKET_BYTES);
  });
});
