/**
 * The envelope seals and opens one record for one topic, and anything moved, altered or truncated
 * fails with the reason docs/protocol.md §6 gives (issue #3).
 */
import { describe, expect, it } from "vitest";
import {
  EnvelopeError,
  type EnvelopeRejection,
  openEnvelope,
  sealEnvelope,
} from "../../src/crypto/envelope/index.js";
import { keyRingOf } from "../../src/crypto/keys/index.js";
import {
  base64url,
  fieldBytes,
  gatewayRing,
  HEADER,
  MASTER_K1,
  TOPIC,
  utf8,
  withFields,
} from "../fixtures/protocol/envelopeFixtures.js";

const ring = gatewayRing();

function sealed(plaintext: Uint8Array = utf8('{"seq":"1234","kind":"sample"}')): string {
  return sealEnvelope(ring, { topic: TOPIC, header: HEADER, plaintext });
}

/** The reason open() rejects with; fails the test if it opens or throws anything but EnvelopeError. */
function rejection(payload: string, topic = TOPIC, keys = ring): EnvelopeRejection {
  try {
    openEnvelope(keys, topic, payload);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvelopeError);
    return (error as EnvelopeError).reason;
  }
  throw new Error("the envelope opened");
}

describe("round trip", () => {
  it.each([0, 1, 15, 16, 17, 1000])("opens a %i-byte plaintext to the same bytes and header", (size) => {
    const plaintext = Uint8Array.from({ length: size }, (_, i) => (i * 37 + 11) & 0xff);
    const payload = sealed(plaintext);
    const opened = openEnvelope(ring, TOPIC, payload);
    expect(opened.topic).toBe(TOPIC);
    expect(opened.header).toEqual(HEADER);
    expect(opened.plaintext).toEqual(plaintext);
    expect(fieldBytes(payload, "ct")).toHaveLength(size + 16);
  });

  it("carries sequence numbers beyond 2^53 exactly, as decimal text", () => {
    const header = { ...HEADER, seq: 2n ** 64n - 1n };
    const payload = sealEnvelope(ring, { topic: TOPIC, header, plaintext: utf8("x") });
    expect(payload).toContain('"seq":"18446744073709551615"');
    expect(openEnvelope(ring, TOPIC, payload).header.seq).toBe(2n ** 64n - 1n);
  });

  it("opens records of no device under the _gateway key, and with a device key file only its device", () => {
    const events = sealEnvelope(ring, {
      topic: "edgewarden/hm3/hm3-gw-01/_gateway/events",
      header: { ...HEADER, device: "_gateway" },
      plaintext: utf8("{}"),
    });
    expect(openEnvelope(ring, "edgewarden/hm3/hm3-gw-01/_gateway/events", events).header.device).toBe(
      "_gateway",
    );
    const pressOnly = keyRingOf(
      { kind: "device", device: "press-2", keys: [{ id: "k1", secret: ring.deviceKey("press-2", "k1") }] },
      "press-2 key file",
    );
    expect(openEnvelope(pressOnly, TOPIC, sealed()).header.device).toBe("press-2");
    expect(rejection(events, "edgewarden/hm3/hm3-gw-01/_gateway/events", pressOnly)).toBe("unknown-key");
  });

  it("refuses to open without the key id, as unknown-key", () => {
    const onlyK1 = keyRingOf(
      {
        kind: "gateway",
        active: "k1",
        keys: [{ id: "k1", created: "2026-01-01T00:00:00Z", secret: MASTER_K1 }],
      },
      "k1 only",
    );
    expect(
      rejection(
        sealEnvelope(ring, { topic: TOPIC, header: { ...HEADER, keyId: "k2" }, plaintext: utf8("") }),
        TOPIC,
        onlyK1,
      ),
    ).toBe("unknown-key");
  });

  it("seals the same record twice to different payloads (a fresh nonce each time)", () => {
    expect(sealed()).not.toBe(sealed());
  });
});

describe("tampering", () => {
  const payload = sealed(utf8("seventeen bytes!!"));

  it("fails every single-bit flip of the nonce with auth-failed", () => {
    const nonce = fieldBytes(payload, "n");
    for (let bit = 0; bit < nonce.length * 8; bit++) {
      const flipped = nonce.slice();
      flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      expect(rejection(withFields(payload, { n: base64url(flipped) })), `bit ${bit}`).toBe("auth-failed");
    }
  });

  it("fails every single-bit flip of ciphertext || tag with auth-failed", () => {
    const ct = fieldBytes(payload, "ct");
    for (let bit = 0; bit < ct.length * 8; bit++) {
      const flipped = ct.slice();
      flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      expect(rejection(withFields(payload, { ct: base64url(flipped) })), `bit ${bit}`).toBe("auth-failed");
    }
  });

  it.each([
    ["gw", "hm3-gw-02"],
    ["dev", "press-3"],
    ["dev", "_gateway"],
    ["kid", "k2"],
    ["seq", "1235"],
    ["seq", "0"],
    ["ts", 1_795_320_853_848],
    ["ts", 0],
  ])("fails with %s changed to %j (auth-failed)", (field, value) => {
    expect(rejection(withFields(payload, { [field]: value }))).toBe("auth-failed");
  });

  it.each([
    ["another stream", "edgewarden/hm3/hm3-gw-01/press-2/alerts"],
    ["another device", "edgewarden/hm3/hm3-gw-01/press-3/data"],
    ["another gateway", "edgewarden/hm3/hm3-gw-02/press-2/data"],
    ["a trailing slash", `${TOPIC}/`],
    ["another case", TOPIC.toUpperCase()],
  ])("fails on %s's topic (auth-failed)", (_what, topic) => {
    expect(rejection(payload, topic)).toBe("auth-failed");
  });

  it("fails every truncation of ciphertext || tag: auth-failed down to the tag, malformed below it", () => {
    const ct = fieldBytes(payload, "ct");
    for (let length = ct.length - 1; length >= 0; length--) {
      const reason = rejection(withFields(payload, { ct: base64url(ct.subarray(0, length)) }));
      expect(reason, `${length} bytes`).toBe(length >= 16 ? "auth-failed" : "malformed");
    }
  });

  it("fails a truncated payload text as malformed", () => {
    for (const length of [0, 1, payload.length - 1, payload.length - 3]) {
      expect(rejection(payload.slice(0, length))).toBe("malformed");
    }
  });

  it("reports a newer version and another algorithm as such, before any other check", () => {
    expect(rejection(withFields(payload, { v: 2, extra: true }))).toBe("unsupported-version");
    expect(rejection(withFields(payload, { alg: "ascon-128" }))).toBe("unsupported-algorithm");
    expect(rejection(withFields(payload, { alg: "aes-256-gcm", n: "short" }))).toBe("unsupported-algorithm");
  });
});
