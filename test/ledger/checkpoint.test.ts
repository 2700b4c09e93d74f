/**
 * Keyed checkpoints (issue #5 item 4): the checkpoint key's derivation (checked against
 * node:crypto's HKDF), the MAC input layout, the body's one canonical form, and which key rings
 * can sign and verify.
 */
import { createHmac, hkdfSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CHECKPOINT_KEY_BYTES,
  checkpointKeyInfo,
  deriveCheckpointKey,
  deriveDeviceKey,
  KeyLookupError,
  keyRingOf,
} from "../../src/crypto/keys/index.js";
import {
  type CheckpointBody,
  checkpointBodyText,
  checkpointFields,
  checkpointMac,
  checkpointMacInput,
  checkpointMacMatches,
  parseCheckpointBody,
} from "../../src/ledger/checkpoint.js";
import { NO_DEVICE } from "../../src/ledger/ledgerEntry.js";
import { gatewayRing, MASTER_K1, MASTER_K2 } from "../fixtures/protocol/envelopeFixtures.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const OF_HASH = "5f".repeat(32);

describe("the checkpoint key", () => {
  it("is HKDF-SHA256(master, salt edgewarden/v1, info checkpoint-key 0x00 kid, 32 bytes)", () => {
    for (const [master, keyId] of [
      [MASTER_K1, "k1"],
      [MASTER_K2, "k2"],
    ] as const) {
      const info = Buffer.from(`checkpoint-key\0${keyId}`, "utf8");
      expect(hex(checkpointKeyInfo(keyId))).toBe(info.toString("hex"));
      const expected = new Uint8Array(hkdfSync("sha256", master, "edgewarden/v1", info, 32));
      expect(hex(deriveCheckpointKey(master, keyId))).toBe(hex(expected));
    }
    expect(deriveCheckpointKey(MASTER_K1, "k1")).toHaveLength(CHECKPOINT_KEY_BYTES);
  });

  it("differs from every device key of the same master and key id", () => {
    const key = hex(deriveCheckpointKey(MASTER_K1, "k1"));
    for (const device of ["_gateway", "checkpoint", "press-2"]) {
      expect(key.startsWith(hex(deriveDeviceKey(MASTER_K1, "k1", device)))).toBe(false);
    }
  });

  it("is derived by a gateway key ring for any of its key ids, and refused by a device key file", () => {
    const ring = gatewayRing();
    expect(hex(ring.checkpointKey("k1"))).toBe(hex(deriveCheckpointKey(MASTER_K1, "k1")));
    expect(hex(ring.checkpointKey("k2"))).toBe(hex(deriveCheckpointKey(MASTER_K2, "k2")));
    expect(() => ring.checkpointKey("k9")).toThrow(KeyLookupError);
    expect(() => ring.checkpointKey("k1\0")).toThrow(KeyLookupError);
    const deviceRing = keyRingOf(
      { kind: "device", device: "press-2", keys: [{ id: "k1", secret: new Uint8Array(16) }] },
      "press-2.key",
    );
    expect(() => deviceRing.checkpointKey("k1")).toThrow(/checkpoint MACs need the gateway key file/);
  });
});

describe("the checkpoint MAC", () => {
  it("is HMAC-SHA256 over u64be(ofSeq) || the 32 bytes of ofHash", () => {
    const input = checkpointMacInput(2 ** 40 + 5, OF_HASH);
    expect(hex(input)).toBe(`0000010000000005${OF_HASH}`);
    const key = deriveCheckpointKey(MASTER_K1, "k1");
    expect(checkpointMac(key, 2 ** 40 + 5, OF_HASH)).toBe(
      createHmac("sha256", key).update(input).digest("hex"),
    );
  });

  it("verifies under its key only, and not for another seq or hash", () => {
    const key = deriveCheckpointKey(MASTER_K1, "k1");
    const body: CheckpointBody = {
      ofSeq: 99,
      ofHash: OF_HASH,
      kid: "k1",
      mac: checkpointMac(key, 99, OF_HASH),
    };
    expect(checkpointMacMatches(key, body)).toBe(true);
    expect(checkpointMacMatches(deriveCheckpointKey(MASTER_K2, "k1"), body)).toBe(false);
    expect(checkpointMacMatches(key, { ...body, ofSeq: 100 })).toBe(false);
    expect(checkpointMacMatches(key, { ...body, ofHash: "5e".repeat(32) })).toBe(false);
  });

  it("refuses inputs outside the format", () => {
    expect(() => checkpointMacInput(0, OF_HASH)).toThrow(RangeError);
    expect(() => checkpointMacInput(1, OF_HASH.toUpperCase())).toThrow(RangeError);
  });
});

describe("the checkpoint entry", () => {
  it("is a _gateway checkpoint whose body names the entry, the active key id and the MAC", () => {
    const ring = gatewayRing();
    const fields = checkpointFields(ring, 4_096, OF_HASH, 1_795_320_853_847, false);
    expect(fields).toMatchObject({
      kind: "checkpoint",
      device: NO_DEVICE,
      ts: 1_795_320_853_847,
      clockSynced: false,
    });
    const mac = checkpointMac(deriveCheckpointKey(MASTER_K2, "k2"), 4_096, OF_HASH);
    expect(fields.body).toBe(`{"ofSeq":"4096","ofHash":"${OF_HASH}","kid":"k2","mac":"${mac}"}`);
    expect(parseCheckpointBody(fields.body)).toEqual({ ofSeq: 4_096, ofHash: OF_HASH, kid: "k2", mac });
  });

  it("parses only the canonical body text", () => {
    const body = checkpointBodyText({ ofSeq: 7, ofHash: OF_HASH, kid: "k1", mac: "ab".repeat(32) });
    expect(parseCheckpointBody(body)).toBeDefined();
    for (const other of [
      body.replace("{", "{ "),
      body.replace('"ofSeq":"7"', '"ofSeq":7'),
      body.replace('"ofSeq":"7"', '"ofSeq":"07"'),
      body.replace('"k1"', '"K1"'),
      body.replace("}", ',"extra":1}'),
      JSON.stringify({ ...JSON.parse(body), ofSeq: "7" }).replace('"mac"', '"mac2"'),
      "[]",
      "not json",
    ]) {
      expect(parseCheckpointBody(other), other).toBeUndefined();
    }
  });
});
