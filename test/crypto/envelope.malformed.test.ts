/**
 * open() checks everything that comes off the wire before it touches a key or the cipher, and
 * answers a bad payload with EnvelopeError("malformed") and a message naming the problem, never
 * with anything else (issue #3; docs/protocol.md §6, steps 1-8).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  EnvelopeError,
  MAX_PAYLOAD_CHARS,
  openEnvelope,
  sealEnvelope,
} from "../../src/crypto/envelope/index.js";
import type { DeviceKeySource } from "../../src/crypto/envelope/seal.js";
import {
  base64url,
  gatewayRing,
  HEADER,
  parsePayloadJson,
  TOPIC,
  utf8,
  withFields,
} from "../fixtures/protocol/envelopeFixtures.js";

const ring = gatewayRing();
const good = sealEnvelope(ring, { topic: TOPIC, header: HEADER, plaintext: utf8('{"seq":"1234"}') });

/** Counts key lookups, to show that a malformed payload never reaches the key ring. */
function countingRing(): DeviceKeySource & { lookups: number } {
  const counter = {
    lookups: 0,
    deviceKey(deviceId: string, keyId: string) {
      counter.lookups++;
      return ring.deviceKey(deviceId, keyId);
    },
  };
  return counter;
}

function openFailure(payload: unknown, topic: unknown = TOPIC): EnvelopeError {
  const keys = countingRing();
  try {
    openEnvelope(keys, topic as string, payload as string);
  } catch (error) {
    if (!(error instanceof EnvelopeError)) {
      throw error;
    }
    if (error.reason === "malformed") {
      expect(keys.lookups, "a malformed payload must not reach the key ring").toBe(0);
    }
    return error;
  }
  throw new Error("the envelope opened");
}

const withoutField = (field: string) => {
  const json = parsePayloadJson(good);
  delete json[field];
  return JSON.stringify(json);
};

describe("malformed payloads", () => {
  it.each([
    ["empty text", "", /not JSON/],
    ["not JSON", "hello", /not JSON/],
    ["JSON null", "null", /expected a JSON object/],
    ["a JSON array", "[1,2]", /expected a JSON object/],
    ["a JSON string", '"x"', /expected a JSON object/],
    ["no v", withoutField("v"), /missing field "v"/],
    ["v as text", withFields(good, { v: "1" }), /"v" must be a whole number/],
    ["v fractional", withFields(good, { v: 1.5 }), /"v" must be a whole number/],
    ["no alg", withoutField("alg"), /missing field "alg"/],
    ["alg a number", withFields(good, { alg: 128 }), /"alg" must be text/],
    ["no ct", withoutField("ct"), /missing field "ct"/],
    ["no gw", withoutField("gw"), /missing field "gw"/],
    ["an extra field", withFields(good, { extra: 1 }), /unexpected field "extra"/],
    ["gw a number", withFields(good, { gw: 7 }), /"gw" must be text/],
    ["gw with a slash", withFields(good, { gw: "a/b" }), /gw: "a\/b" is not a gateway id/],
    ["dev empty", withFields(good, { dev: "" }), /dev: "" is not a device id/],
    ["kid not k<n>", withFields(good, { kid: "key1" }), /kid: "key1" is not a key id/],
    ["seq a number", withFields(good, { seq: 1234 }), /"seq" must be a decimal number in a string/],
    ["seq with a leading zero", withFields(good, { seq: "01234" }), /without sign or leading zeros/],
    ["seq negative", withFields(good, { seq: "-1" }), /without sign or leading zeros/],
    ["seq beyond 2^64-1", withFields(good, { seq: "18446744073709551616" }), /larger than 2\^64-1/],
    ["ts as text", withFields(good, { ts: "1795320853847" }), /"ts" must be a whole number/],
    ["ts negative", withFields(good, { ts: -1 }), /"ts" must be a whole number/],
    ["ts fractional", withFields(good, { ts: 1.5 }), /"ts" must be a whole number/],
    ["ts beyond 2^53", withFields(good, { ts: 2 ** 53 }), /"ts" must be a whole number/],
    ["n null", withFields(good, { n: null }), /"n" must be base64url text \(got null\)/],
    [
      "n with padding",
      withFields(good, { n: `${base64url(new Uint8Array(16))}==` }),
      /not canonical base64url/,
    ],
    ["n in standard base64", withFields(good, { n: "+/+/+/+/+/+/+/+/+/+/+w" }), /not canonical base64url/],
    [
      "n with non-zero spare bits",
      withFields(good, { n: "AAAAAAAAAAAAAAAAAAAAAB" }),
      /not canonical base64url/,
    ],
    [
      "n of 15 bytes",
      withFields(good, { n: base64url(new Uint8Array(15)) }),
      /"n" must be 16 bytes \(got 15\)/,
    ],
    [
      "n of 17 bytes",
      withFields(good, { n: base64url(new Uint8Array(17)) }),
      /"n" must be 16 bytes \(got 17\)/,
    ],
    [
      "ct shorter than a tag",
      withFields(good, { ct: base64url(new Uint8Array(15)) }),
      /at least the 16-byte tag/,
    ],
    ["ct with a space", withFields(good, { ct: "AAAA AAAA" }), /not canonical base64url/],
    ["whitespace", good.replace(",", ", "), /not in canonical form/],
    ["a trailing newline", `${good}\n`, /not in canonical form/],
    [
      "fields reordered",
      JSON.stringify({ alg: "ascon-aead128", ...parsePayloadJson(good) }),
      /not in canonical form/,
    ],
    ["a duplicate key", good.replace('"seq":"1234"', '"seq":"9","seq":"1234"'), /not in canonical form/],
    ["an escaped character", good.replace('"press-2"', '"press\\u002d2"'), /not in canonical form/],
    ["ts with an exponent", good.replace(/"ts":\d+/, '"ts":1.795320853847e12'), /not in canonical form/],
    ["v as 1.0", good.replace('"v":1', '"v":1.0'), /not in canonical form/],
  ])("refuses %s as malformed", (_what, payload, message) => {
    const error = openFailure(payload);
    expect(error.reason).toBe("malformed");
    expect(error.message).toMatch(message);
  });

  it("refuses a payload over 1 MiB before parsing it", () => {
    const huge = `{"v":1,"pad":"${"A".repeat(MAX_PAYLOAD_CHARS)}"}`;
    const error = openFailure(huge);
    expect(error.reason).toBe("malformed");
    expect(error.message).toMatch(/longer than an envelope can be/);
  });

  it("refuses a ct longer than any record can be sealed to", () => {
    const error = openFailure(withFields(good, { ct: base64url(new Uint8Array(512 * 1024 + 17)) }));
    expect(error.message).toMatch(/more than a record can be sealed to/);
  });

  it.each([
    ["empty", ""],
    ["with a wildcard", "edgewarden/+/gw/dev/data"],
    ["with a NUL", "edgewarden/\u0000"],
    ["with a lone surrogate", "edgewarden/\ud800/data"],
    ["longer than MQTT allows", "t".repeat(65_536)],
  ])("refuses a topic %s as malformed", (_what, topic) => {
    const error = openFailure(good, topic);
    expect(error.reason).toBe("malformed");
    expect(error.message).toMatch(/^topic: /);
  });

  it("refuses a payload or topic that is not text, as malformed", () => {
    expect(openFailure(Buffer.from(good)).reason).toBe("malformed");
    expect(openFailure(good, 42).reason).toBe("malformed");
  });
});

describe("fuzzing", () => {
  it("throws nothing but EnvelopeError for any text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) => {
        expect(openFailure(text)).toBeInstanceOf(EnvelopeError);
      }),
      { numRuns: 500 },
    );
  });

  it("throws nothing but EnvelopeError for any change of one character of a good payload", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: good.length - 1 }),
        fc.string({ unit: "binary", minLength: 0, maxLength: 3 }),
        (at, replacement) => {
          const mutated = good.slice(0, at) + replacement + good.slice(at + 1);
          fc.pre(mutated !== good);
          expect(openFailure(mutated)).toBeInstanceOf(EnvelopeError);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("throws nothing but EnvelopeError for any JSON value in any field", () => {
    const fields = Object.keys(parsePayloadJson(good));
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.jsonValue(), (field, value) => {
        const mutated = withFields(good, { [field]: value });
        fc.pre(mutated !== good);
        expect(openFailure(mutated)).toBeInstanceOf(EnvelopeError);
      }),
      { numRuns: 500 },
    );
  });
});
