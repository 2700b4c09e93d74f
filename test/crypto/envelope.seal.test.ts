/**
 * Sealing: every envelope gets 16 fresh bytes from crypto.getRandomValues as its nonce, never a
 * value the caller or the clock chose (issue #3; FAULTS 8.5), and seal() refuses what the format
 * cannot carry. Also the associated data's injectivity (docs/protocol.md §4).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import * as envelopeIndex from "../../src/crypto/envelope/index.js";
import {
  type EnvelopeHeader,
  envelopeAssociatedData,
  MAX_PAYLOAD_CHARS,
  MAX_PLAINTEXT_BYTES,
  openEnvelope,
  sealEnvelope,
} from "../../src/crypto/envelope/index.js";
import { type EnvelopeMessage, sealEnvelopeWithTestNonce } from "../../src/crypto/envelope/seal.js";
import { KeyLookupError } from "../../src/crypto/keys/index.js";
import { fieldBytes, gatewayRing, HEADER, TOPIC, utf8 } from "../fixtures/protocol/envelopeFixtures.js";

const ring = gatewayRing();
const message: EnvelopeMessage = { topic: TOPIC, header: HEADER, plaintext: utf8('{"seq":"1234"}') };

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe("nonces", () => {
  it("gives 1000 seals of one record 1000 different nonces", () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      nonces.add(Buffer.from(fieldBytes(sealEnvelope(ring, message), "n")).toString("hex"));
    }
    expect(nonces.size).toBe(1000);
  });

  it("takes each nonce from crypto.getRandomValues, 16 bytes per seal", () => {
    const drawn: Uint8Array[] = [];
    const original = globalThis.crypto.getRandomValues.bind(globalThis.crypto);
    const spy = vi.spyOn(globalThis.crypto, "getRandomValues");
    spy.mockImplementation((array) => {
      const filled = original(array);
      drawn.push(new Uint8Array(filled.buffer, filled.byteOffset, filled.byteLength).slice());
      return filled;
    });
    const payloads = [sealEnvelope(ring, message), sealEnvelope(ring, message)];
    expect(drawn.map((bytes) => bytes.length)).toEqual([16, 16]);
    expect(payloads.map((payload) => fieldBytes(payload, "n"))).toEqual(drawn);
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it("does not derive the nonce from the clock: a frozen clock still gives different nonces", () => {
    vi.useFakeTimers({ now: 1_795_320_853_847 });
    expect(fieldBytes(sealEnvelope(ring, message), "n")).not.toEqual(
      fieldBytes(sealEnvelope(ring, message), "n"),
    );
  });

  it("offers production code no way to choose the nonce", () => {
    expect(Object.keys(envelopeIndex)).not.toContain("sealEnvelopeWithTestNonce");
    // A stray "nonce" property (as a caller might try) is ignored, not used.
    const chosen = new Uint8Array(16).fill(7);
    const payload = sealEnvelope(ring, { ...message, nonce: chosen } as EnvelopeMessage);
    expect(fieldBytes(payload, "n")).not.toEqual(chosen);
    expect(sealEnvelope.length).toBe(2);
  });

  it("uses the test nonce only through the explicitly named test function", () => {
    const nonce = Uint8Array.from({ length: 16 }, (_, i) => i);
    const payload = sealEnvelopeWithTestNonce(ring, message, nonce);
    expect(fieldBytes(payload, "n")).toEqual(nonce);
    expect(openEnvelope(ring, TOPIC, payload).plaintext).toEqual(message.plaintext);
    expect(() => sealEnvelopeWithTestNonce(ring, message, new Uint8Array(15))).toThrow(RangeError);
  });
});

describe("what seal refuses", () => {
  it.each<[string, Partial<EnvelopeHeader>, RegExp]>([
    ["a gateway id with a slash", { gateway: "a/b" }, /gw: "a\/b" is not a gateway id/],
    ["an empty device id", { device: "" }, /dev: "" is not a device id/],
    ["a key id not k<n>", { keyId: "default" }, /kid: "default" is not a key id/],
    ["a negative seq", { seq: -1n }, /seq: -1 is outside 0 to 2\^64-1/],
    ["a seq beyond 2^64-1", { seq: 2n ** 64n }, /seq: 18446744073709551616 is outside/],
    ["a fractional ts", { ts: 1.5 }, /ts: 1.5 is not a whole number/],
    ["a ts beyond 2^53-1", { ts: 2 ** 53 }, /ts: 9007199254740992 is not a whole number/],
  ])("refuses %s", (_what, change, problem) => {
    expect(() => sealEnvelope(ring, { ...message, header: { ...HEADER, ...change } })).toThrow(problem);
  });

  it("refuses a topic with a wildcard and a plaintext over 512 KiB", () => {
    expect(() => sealEnvelope(ring, { ...message, topic: "edgewarden/#" })).toThrow(/topic: contains/);
    expect(() =>
      sealEnvelope(ring, { ...message, plaintext: new Uint8Array(MAX_PLAINTEXT_BYTES + 1) }),
    ).toThrow(/at most 524288 per record/);
  });

  it("seals the largest record into a payload that open() accepts", () => {
    const plaintext = new Uint8Array(MAX_PLAINTEXT_BYTES).fill(0x41);
    const payload = sealEnvelope(ring, { ...message, plaintext });
    expect(payload.length).toBeLessThan(MAX_PAYLOAD_CHARS);
    // Buffer.equals: vitest's deep equality takes seconds over half a megabyte.
    expect(Buffer.from(openEnvelope(ring, TOPIC, payload).plaintext).equals(plaintext)).toBe(true);
  });

  it("passes the key ring's KeyLookupError on for a key id it does not hold", () => {
    expect(() => sealEnvelope(ring, { ...message, header: { ...HEADER, keyId: "k9" } })).toThrow(
      KeyLookupError,
    );
  });
});

describe("associated data", () => {
  const ad = (topic: string, change: Partial<EnvelopeHeader>) =>
    Buffer.from(envelopeAssociatedData(topic, { ...HEADER, ...change })).toString("hex");

  it("differs when text moves between neighbouring fields", () => {
    expect(ad(TOPIC, { gateway: "ab", device: "c" })).not.toBe(ad(TOPIC, { gateway: "a", device: "bc" }));
    expect(ad("t/a", { gateway: "b" })).not.toBe(ad("t/", { gateway: "ab" }));
    expect(ad(TOPIC, { device: "d", keyId: "k11" })).not.toBe(ad(TOPIC, { device: "dk", keyId: "k1" }));
  });

  it("differs for every header field and the topic", () => {
    const base = ad(TOPIC, {});
    for (const change of [
      { gateway: "hm3-gw-02" },
      { device: "press-3" },
      { keyId: "k2" },
      { seq: 1235n },
      { ts: HEADER.ts + 1 },
    ]) {
      expect(
        ad(TOPIC, change),
        JSON.stringify(change, (_k, v) => (typeof v === "bigint" ? `${v}` : v)),
      ).not.toBe(base);
    }
    expect(ad(`${TOPIC}x`, {})).not.toBe(base);
  });

  it("encodes a multi-byte topic by its UTF-8 length", () => {
    const bytes = envelopeAssociatedData("münchen/ü", HEADER);
    const topicLength = (bytes[24] ?? 0) * 256 + (bytes[25] ?? 0);
    expect(topicLength).toBe(Buffer.byteLength("münchen/ü"));
  });
});
