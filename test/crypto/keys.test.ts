/**
 * Keys in memory (issue #3): device key derivation against node:crypto's HKDF and a pinned
 * known-answer vector, id validation, fingerprints, base64url, rotation, export and KeyRing
 * lookups. Files on disk are keys.files.test.ts.
 */
import { createHash, hkdfSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  decodeBase64url,
  deriveDeviceKey,
  deviceIdProblem,
  encodeBase64url,
  exportDeviceKeys,
  GATEWAY_KEY_DEVICE,
  type GatewayKeyFile,
  KeyLookupError,
  keyFingerprint,
  keyIdProblem,
  keyRingOf,
  newGatewayKeyFile,
  rotateGatewayKeys,
} from "../../src/crypto/keys/index.js";

/** Master secret 0x00..0x1f: the known-answer vector of docs/protocol.md. */
const KAT_MASTER = Uint8Array.from({ length: 32 }, (_, i) => i);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** The derivation as docs/protocol.md states it, computed by node:crypto instead of @noble/hashes. */
function independentDeviceKey(master: Uint8Array, keyId: string, deviceId: string): string {
  const info = Buffer.concat([
    Buffer.from("device-key", "utf8"),
    Buffer.of(0),
    Buffer.from(keyId, "utf8"),
    Buffer.of(0),
    Buffer.from(deviceId, "utf8"),
  ]);
  return Buffer.from(hkdfSync("sha256", master, Buffer.from("edgewarden/v1", "utf8"), info, 16)).toString(
    "hex",
  );
}

function gatewayFile(active: string, ...ids: string[]): GatewayKeyFile {
  return {
    kind: "gateway",
    active,
    keys: ids.map((id, index) => ({
      id,
      created: "2025-01-31T12:00:00.000Z",
      secret: Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + index * 31) & 0xff),
    })),
  };
}

describe("device key derivation", () => {
  it("matches the pinned known-answer vector (master 0x00..0x1f, k1, press-2)", () => {
    expect(hex(deriveDeviceKey(KAT_MASTER, "k1", "press-2"))).toBe("694a74a62b3f78f5b6c136c60345e129");
    expect(hex(deriveDeviceKey(KAT_MASTER, "k1", GATEWAY_KEY_DEVICE))).toBe(
      "f2c9d7fbef5aaf8ff02f0499f033099b",
    );
  });

  it.each([
    ["k1", "press-2"],
    ["k2", "press-2"],
    ["k10", "_gateway"],
    ["k1", "a"],
    ["k7", "line.3_oven-A"],
    ["k123456", "x".repeat(64)],
  ])("matches node:crypto hkdfSync for key id %s and device %s", (keyId, deviceId) => {
    for (const master of [KAT_MASTER, new Uint8Array(32), new Uint8Array(32).fill(0xff)]) {
      expect(hex(deriveDeviceKey(master, keyId, deviceId))).toBe(
        independentDeviceKey(master, keyId, deviceId),
      );
    }
  });

  it("is deterministic and yields 16 bytes", () => {
    const first = deriveDeviceKey(KAT_MASTER, "k3", "press-2");
    expect(first).toHaveLength(16);
    expect(deriveDeviceKey(KAT_MASTER, "k3", "press-2")).toEqual(first);
  });

  it("gives different keys for different device ids, key ids and masters", () => {
    const other = KAT_MASTER.slice();
    other[31] = 0x1e; // was 0x1f: one bit flipped
    const keys = [
      deriveDeviceKey(KAT_MASTER, "k1", "press-2"),
      deriveDeviceKey(KAT_MASTER, "k1", "press-3"),
      deriveDeviceKey(KAT_MASTER, "k2", "press-2"),
      deriveDeviceKey(other, "k1", "press-2"),
      // The 0x00 separators keep ("k1", "1x") and ("k11", "x") apart.
      deriveDeviceKey(KAT_MASTER, "k1", "1x"),
      deriveDeviceKey(KAT_MASTER, "k11", "x"),
    ].map(hex);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it.each(["", "x".repeat(65), "press 2", "press/2", "a\u0000b", "pr\u00e9ss", "press-2\n", "k1:x"])(
    "refuses the invalid device id %j",
    (deviceId) => {
      expect(deviceIdProblem(deviceId)).toMatch(/is not a device id/);
      expect(() => deriveDeviceKey(KAT_MASTER, "k1", deviceId)).toThrow(KeyLookupError);
    },
  );

  it.each(["_gateway", "a", ".", "-", "x".repeat(64), "Press_2.a-b"])(
    "accepts the device id %j",
    (deviceId) => {
      expect(deviceIdProblem(deviceId)).toBeUndefined();
    },
  );

  it.each(["k0", "K1", "k01", "k", "k-1", "k1 ", "1", "k99999999999999999999"])(
    "refuses the invalid key id %j",
    (keyId) => {
      expect(keyIdProblem(keyId)).toMatch(/is not a key id/);
      expect(() => deriveDeviceKey(KAT_MASTER, keyId, "press-2")).toThrow(KeyLookupError);
    },
  );

  it("refuses a master secret that is not 32 bytes", () => {
    expect(() => deriveDeviceKey(new Uint8Array(16), "k1", "press-2")).toThrow(/32 bytes, not 16/);
  });
});

describe("fingerprints", () => {
  it("are 16 hex characters of the domain-separated SHA-256, stable for one key", () => {
    const expected = createHash("sha256")
      .update(Buffer.concat([Buffer.from("edgewarden/v1 fingerprint"), Buffer.of(0), KAT_MASTER]))
      .digest("hex")
      .slice(0, 16);
    expect(keyFingerprint(KAT_MASTER)).toBe(expected);
    expect(keyFingerprint(KAT_MASTER)).toBe("13dff3b5a71bdae1");
    expect(keyFingerprint(deriveDeviceKey(KAT_MASTER, "k1", "press-2"))).toBe("e0390ecabdbb0bc1");
  });

  it("do not reveal the key and tell keys apart", () => {
    const fingerprint = keyFingerprint(KAT_MASTER);
    expect(hex(KAT_MASTER)).not.toContain(fingerprint);
    expect(fingerprint).not.toBe(createHash("sha256").update(KAT_MASTER).digest("hex").slice(0, 16));
    expect(keyFingerprint(KAT_MASTER.slice().fill(1))).not.toBe(fingerprint);
  });

  it("leave the key untouched", () => {
    const key = KAT_MASTER.slice();
    keyFingerprint(key);
    expect(key).toEqual(KAT_MASTER);
  });
});

describe("base64url", () => {
  it("round-trips every length and agrees with Buffer's unpadded base64url", () => {
    for (let length = 0; length <= 40; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 37 + length) & 0xff);
      const text = encodeBase64url(bytes);
      expect(text).toBe(Buffer.from(bytes).toString("base64url"));
      expect(decodeBase64url(text)).toEqual(bytes);
    }
  });

  it.each([
    ["padding", "AAAAAAAAAAAAAAAAAAAAAA=="],
    ["standard-alphabet characters", "ab+/"],
    ["a length of 4n+1", "AAAAA"],
    ["non-zero trailing bits", "AB"],
    ["whitespace", "AAAA AAAA"],
    ["a non-ASCII letter", "AAA\u00e9"],
    ["a character past the table (U+0141, whose low byte is 'A')", "AAA\u0141"],
    ["a NUL", "AA\u0000A"],
  ])("refuses %s", (_what, text) => {
    expect(decodeBase64url(text)).toBeUndefined();
  });
});

describe("generate, rotate and export", () => {
  it("generates k1 with a fresh 32-byte secret each time", () => {
    const now = new Date("2025-01-31T12:00:00Z");
    const [a, b] = [newGatewayKeyFile(now), newGatewayKeyFile(now)];
    expect(a.active).toBe("k1");
    expect(a.keys).toHaveLength(1);
    expect(a.keys[0]).toMatchObject({ id: "k1", created: "2025-01-31T12:00:00.000Z" });
    expect(a.keys[0]?.secret).toHaveLength(32);
    expect(hex(a.keys[0]!.secret)).not.toBe(hex(b.keys[0]!.secret));
  });

  it("rotation adds k(max+1), makes it active and keeps the old keys", () => {
    const file = gatewayFile("k1", "k1", "k5", "k2");
    const rotated = rotateGatewayKeys(file, new Date("2025-02-01T00:00:00Z"));
    expect(rotated.active).toBe("k6");
    expect(rotated.keys.map((k) => k.id)).toEqual(["k1", "k5", "k2", "k6"]);
    expect(rotated.keys.slice(0, 3)).toEqual(file.keys);
    expect(rotated.keys[3]?.created).toBe("2025-02-01T00:00:00.000Z");
    expect(file.active).toBe("k1");
    expect(rotateGatewayKeys(rotated, new Date()).active).toBe("k7");
  });

  it("export holds the derived key of the device under every key id", () => {
    const file = gatewayFile("k2", "k1", "k2");
    const exported = exportDeviceKeys(file, "press-2", "gw-1");
    expect(exported).toMatchObject({ kind: "device", device: "press-2", gateway: "gw-1" });
    expect(exported.keys.map((k) => [k.id, hex(k.secret)])).toEqual(
      file.keys.map((k) => [k.id, independentDeviceKey(k.secret, k.id, "press-2")]),
    );
    expect(exportDeviceKeys(file, "_gateway")).not.toHaveProperty("gateway");
  });

  it("export refuses an invalid device or gateway id", () => {
    const file = gatewayFile("k1", "k1");
    expect(() => exportDeviceKeys(file, "press 2")).toThrow(/"press 2" is not a device id/);
    expect(() => exportDeviceKeys(file, "press-2", "-gw")).toThrow(/"-gw" is not a gateway id/);
  });
});

describe("KeyRing", () => {
  it("derives any device's key from a gateway file and reports the active key id", () => {
    const file = gatewayFile("k2", "k1", "k2");
    const ring = keyRingOf(file, "gw.key");
    expect(ring.kind).toBe("gateway");
    expect(ring.activeKeyId()).toBe("k2");
    expect(ring.keyIds()).toEqual(["k1", "k2"]);
    for (const key of file.keys) {
      for (const device of ["press-2", GATEWAY_KEY_DEVICE]) {
        expect(hex(ring.deviceKey(device, key.id))).toBe(independentDeviceKey(key.secret, key.id, device));
      }
    }
  });

  it("hands out fresh arrays, so a caller wiping its key does not break the next lookup", () => {
    const ring = keyRingOf(gatewayFile("k1", "k1"), "gw.key");
    const first = ring.deviceKey("press-2", "k1");
    const expected = hex(first);
    first.fill(0);
    expect(hex(ring.deviceKey("press-2", "k1"))).toBe(expected);
  });

  it("names the unknown key id and the ids it holds", () => {
    const ring = keyRingOf(gatewayFile("k1", "k1", "k2"), "gw.key");
    const lookup = () => ring.deviceKey("press-2", "k9");
    expect(lookup).toThrow(KeyLookupError);
    expect(lookup).toThrow(/gw\.key has no key "k9" \(it holds k1, k2\)/);
    expect(() => ring.deviceKey("press 2", "k1")).toThrow(/"press 2" is not a device id/);
  });

  it("opens only its own device from an exported device file and cannot seal", () => {
    const exported = exportDeviceKeys(gatewayFile("k2", "k1", "k2"), "press-2");
    const ring = keyRingOf(exported, "press-2.key");
    expect(ring.kind).toBe("device");
    expect(ring.keyIds()).toEqual(["k1", "k2"]);
    expect(ring.deviceKey("press-2", "k2")).toEqual(exported.keys[1]?.secret);
    expect(() => ring.deviceKey("press-3", "k1")).toThrow(
      /press-2\.key holds only the keys of device "press-2", not of device "press-3"/,
    );
    expect(() => ring.deviceKey("press-2", "k3")).toThrow(/has no key "k3"/);
    expect(() => ring.activeKeyId()).toThrow(KeyLookupError);
    expect(() => ring.activeKeyId()).toThrow(/holds only the keys of device "press-2"; sealing needs/);
  });
});
