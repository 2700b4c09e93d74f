/**
 * docs/protocol.md's worked examples are what the code computes (issue #3: "a worked example ...
 * that a test checks, so that a third party can write a receiver from the doc alone"). The inputs
 * and expected outputs are read from the page; the device key is checked against node:crypto's
 * HKDF as well as ours, so the page, the code and an independent implementation all agree.
 */
import { spawnSync } from "node:child_process";
import { createHmac, hkdfSync } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ENVELOPE_AD_DOMAIN,
  type EnvelopeError,
  type EnvelopeHeader,
  envelopeAssociatedData,
  openEnvelope,
  sealEnvelope,
} from "../../src/crypto/envelope/index.js";
import { sealEnvelopeWithTestNonce } from "../../src/crypto/envelope/seal.js";
import { deriveDeviceKey, GATEWAY_KEY_DEVICE } from "../../src/crypto/keys/index.js";
import {
  gatewayRing,
  HEADER,
  MASTER_K1,
  MASTER_K2,
  withFields,
} from "../fixtures/protocol/envelopeFixtures.js";
import {
  exampleValue,
  protocolDoc,
  protocolDocPath,
  protocolExample,
  protocolExampleHex,
  protocolExampleValues,
} from "../fixtures/protocol/protocolDoc.js";
import { VECTORS } from "../helpers/kat.js";
import { PYTHON } from "../helpers/notifyListener.js";
import { repoRoot } from "../helpers/paths.js";

const doc = protocolDoc();
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const fromHex = (text: string) => Uint8Array.from(Buffer.from(text, "hex"));

describe("docs/protocol.md §2.3, the worked derivation", () => {
  const values = protocolExampleValues("key-derivation", doc);
  const value = (name: string) => exampleValue(values, name);
  const master = fromHex(value("master"));

  it("states the salt, info and PRK of the HKDF as the spec defines them", () => {
    expect(value("salt")).toBe(hex(new TextEncoder().encode("edgewarden/v1")));
    expect(value("info")).toBe(
      hex(new TextEncoder().encode(`device-key\0${value("keyId")}\0${value("device")}`)),
    );
    expect(value("gatewayInfo")).toBe(
      hex(new TextEncoder().encode(`device-key\0${value("keyId")}\0_gateway`)),
    );
    expect(value("prk")).toBe(
      createHmac("sha256", fromHex(value("salt")))
        .update(master)
        .digest("hex"),
    );
  });

  it("gives the device keys our code and node:crypto derive", () => {
    for (const [device, expected] of [
      [value("device"), value("deviceKey")],
      [GATEWAY_KEY_DEVICE, value("gatewayKey")],
    ] as const) {
      expect(hex(deriveDeviceKey(master, value("keyId"), device))).toBe(expected);
      const info = Buffer.from(`device-key\0${value("keyId")}\0${device}`, "utf8");
      expect(hex(new Uint8Array(hkdfSync("sha256", master, "edgewarden/v1", info, 16)))).toBe(expected);
    }
  });
});

describe("docs/protocol.md §7, the worked example", () => {
  const inputs = protocolExampleValues("envelope-inputs", doc);
  const input = (name: string) => exampleValue(inputs, name);
  const key = fromHex(input("key"));
  const keys = { deviceKey: () => key.slice() };
  const topic = input("topic");
  const header: EnvelopeHeader = {
    gateway: input("gw"),
    device: input("dev"),
    keyId: input("kid"),
    seq: BigInt(input("seq")),
    ts: Number(input("ts")),
  };
  const plaintextText = protocolExample("plaintext", doc);
  const plaintext = new TextEncoder().encode(plaintextText);
  const payload = protocolExample("payload", doc);

  it("uses the device key derived in §2.3", () => {
    expect(input("key")).toBe(exampleValue(protocolExampleValues("key-derivation", doc), "deviceKey"));
    expect(input("dev")).toBe(exampleValue(protocolExampleValues("key-derivation", doc), "device"));
  });

  it("builds the associated data shown in §7.3", () => {
    const ad = envelopeAssociatedData(topic, header);
    expect(hex(ad)).toBe(hex(protocolExampleHex("associated-data", doc)));
    expect(new TextDecoder().decode(ad.subarray(2, 2 + ENVELOPE_AD_DOMAIN.length))).toBe(ENVELOPE_AD_DOMAIN);
  });

  it("seals to the ciphertext, tag and payload shown in §7.4 and §7.5", () => {
    const sealed = sealEnvelopeWithTestNonce(keys, { topic, header, plaintext }, fromHex(input("nonce")));
    expect(sealed).toBe(payload);
    const ciphertext = protocolExampleValues("ciphertext", doc);
    const ct = Buffer.from(JSON.parse(payload).ct as string, "base64url");
    expect(hex(ct.subarray(0, -16))).toBe(exampleValue(ciphertext, "ciphertext"));
    expect(hex(ct.subarray(-16))).toBe(exampleValue(ciphertext, "tag"));
  });

  it("opens the payload of §7.5 on its topic to the plaintext of §7.2", () => {
    const opened = openEnvelope(keys, topic, payload);
    expect(opened.header).toEqual(header);
    expect(new TextDecoder().decode(opened.plaintext)).toBe(plaintextText);
  });

  it("fails the payload of §7.5 on the alerts topic, as §7.6 says", () => {
    expect(() => openEnvelope(keys, topic.replace(/\/data$/, "/alerts"), payload)).toThrow(
      expect.objectContaining({ reason: "auth-failed" }) as EnvelopeError,
    );
  });

  it("states the sizes the prose gives", () => {
    expect(doc).toContain(`${plaintext.length} bytes of UTF-8, exactly this line`);
    expect(doc).toContain(`${envelopeAssociatedData(topic, header).length} bytes (comments after \`#\`)`);
    expect(doc).toContain(
      `For the worked example (§7) the AD is ${envelopeAssociatedData(topic, header).length} bytes`,
    );
    expect(doc).toContain(`exactly these ${Buffer.byteLength(payload)} bytes`);
    expect(doc).toContain(`the payload is ${payload.length} characters`);
    expect(doc).toContain(`\`ct\` to ${plaintext.length + 16} bytes`);
    expect(doc).toContain(`returns the ${plaintext.length}-byte plaintext`);
  });
});

describe("a receiver written from docs/protocol.md alone, in Python", () => {
  // test/fixtures/protocol/independent_receiver.py: its own Ascon-AEAD128 (checked against the
  // whole official KAT file), HKDF, AD and parsing, with nothing of ours; it also re-checks §2.3 and §7.
  const receiver = join(repoRoot, "test", "fixtures", "protocol", "independent_receiver.py");
  const kat = join(VECTORS, "sp800-232", "asconaead128", "LWC_AEAD_KAT_128_128.txt.gz");
  const ring = gatewayRing();

  interface Case {
    readonly topic: string;
    readonly payload: string;
    readonly master: Uint8Array;
  }

  function receive(cases: readonly Case[]): unknown[] {
    const input = cases
      .map((c) => JSON.stringify({ topic: c.topic, payload: c.payload, master: hex(c.master) }))
      .join("\n");
    const result = spawnSync(PYTHON, [receiver, protocolDocPath, kat], {
      input,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    return result.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as unknown);
  }

  /** What our openEnvelope says, in the receiver's terms. */
  function ours(c: Case): unknown {
    try {
      return { plaintext: hex(openEnvelope(ring, c.topic, c.payload).plaintext) };
    } catch (error) {
      return { reason: (error as EnvelopeError).reason };
    }
  }

  it("checks the worked examples and agrees with openEnvelope on sealed, moved and altered envelopes", () => {
    const seal = (topic: string, header: EnvelopeHeader, size: number) =>
      sealEnvelope(ring, {
        topic,
        header,
        plaintext: Uint8Array.from({ length: size }, (_, i) => (i * 131 + size) & 0xff),
      });
    const topic = "edgewarden/hm3/hm3-gw-01/press-2/data";
    const cases: Case[] = [];
    for (const size of [0, 1, 15, 16, 17, 31, 32, 33, 1000]) {
      cases.push({ topic, payload: seal(topic, HEADER, size), master: MASTER_K1 });
    }
    const k2 = { ...HEADER, keyId: "k2", device: GATEWAY_KEY_DEVICE, seq: 2n ** 64n - 1n, ts: 0 };
    const unicodeTopic = "edgewarden/münchen/hm3-gw-01/_gateway/events";
    cases.push({ topic: unicodeTopic, payload: seal(unicodeTopic, k2, 40), master: MASTER_K2 });
    const good = seal(topic, HEADER, 20);
    cases.push(
      { topic: `${topic}/x`, payload: good, master: MASTER_K1 },
      { topic, payload: withFields(good, { seq: "1235" }), master: MASTER_K1 },
      { topic, payload: withFields(good, { ts: 1 }), master: MASTER_K1 },
      { topic, payload: good.replace('"ct":"', '"ct":"A'), master: MASTER_K1 },
      { topic, payload: good.replace(",", ", "), master: MASTER_K1 },
      { topic, payload: withFields(good, { v: 2 }), master: MASTER_K1 },
    );
    const theirs = receive(cases);
    expect(theirs).toEqual(cases.map(ours));
    expect(theirs.filter((r) => (r as { plaintext?: string }).plaintext !== undefined)).toHaveLength(10);
  });
});
