/**
 * The exported checkpoint key file (issue #5; docs/protocol.md §8.5): `keys export
 * --checkpoint-key` gives an upstream verifier the checkpoint key of every key id and nothing
 * else. It parses strictly like the other key files, verifies checkpoints exactly as the gateway
 * key file does, and is refused wherever an envelope key is needed.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type CheckpointKeyFile,
  checkpointKeysOf,
  deriveCheckpointKey,
  exportCheckpointKeys,
  exportDeviceKeys,
  type GatewayKeyFile,
  KeyFileError,
  KeyLookupError,
  loadCheckpointKeys,
  loadGatewayKeys,
  loadKeyRing,
  parseKeyFile,
  serializeKeyFile,
} from "../../src/crypto/keys/index.js";
import { exampleValue, protocolExampleValues } from "../fixtures/protocol/protocolDoc.js";

/** The checkpoint key of docs/protocol.md §8.5's worked example (master 00..1f, k1). */
const PAGE_CHECKPOINT_KEY = exampleValue(protocolExampleValues("checkpoint"), "checkpointKey");
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const MASTER = Uint8Array.from({ length: 32 }, (_, i) => i);
const MASTER_2 = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
const gateway: GatewayKeyFile = {
  kind: "gateway",
  active: "k2",
  keys: [
    { id: "k1", created: "2025-01-31T12:00:00.000Z", secret: MASTER },
    { id: "k2", created: "2025-06-30T12:00:00.000Z", secret: MASTER_2 },
  ],
};

describe("exportCheckpointKeys", () => {
  it("holds the §8.5 checkpoint key under every key id, and the gateway id when given", () => {
    const exported = exportCheckpointKeys(gateway, "hm3-gw-01");
    expect(exported.kind).toBe("checkpoint");
    expect(exported.gateway).toBe("hm3-gw-01");
    expect(exported.keys.map((key) => key.id)).toEqual(["k1", "k2"]);
    // The page's worked example: master 00..1f, k1.
    expect(hex(exported.keys[0]?.secret ?? new Uint8Array())).toBe(PAGE_CHECKPOINT_KEY);
    expect(exported.keys[1]?.secret).toEqual(deriveCheckpointKey(MASTER_2, "k2"));
    expect(exportCheckpointKeys(gateway).gateway).toBeUndefined();
    expect(() => exportCheckpointKeys(gateway, "gw 1")).toThrow(KeyLookupError);
  });
});

describe("the checkpoint key file format", () => {
  it("round-trips through its canonical text", () => {
    const exported = exportCheckpointKeys(gateway, "gw-1");
    const text = serializeKeyFile(exported);
    const json = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(["format", "version", "gateway", "keys"]);
    expect(json.format).toBe("edgewarden-checkpoint-key");
    expect(parseKeyFile(text, "cp.key")).toEqual(exported);
  });

  it.each([
    [
      "a 16-byte secret",
      (root: Record<string, unknown>) => {
        root.keys = [{ id: "k1", secret: Buffer.alloc(16, 1).toString("base64url") }];
      },
      /keys\[0\]\.secret holds 16 bytes; a checkpoint key is 32 bytes$/,
    ],
    [
      "a device field",
      (root: Record<string, unknown>) => {
        root.device = "press-2";
      },
      /unknown field "device"$/,
    ],
    [
      "a bad gateway id",
      (root: Record<string, unknown>) => {
        root.gateway = "gw 1";
      },
      /^cp\.key: gateway: /,
    ],
    [
      "no keys",
      (root: Record<string, unknown>) => {
        root.keys = [];
      },
      /"keys" must be a non-empty list$/,
    ],
  ])("refuses %s with its own message and no secret", (_what, change, message) => {
    const root = JSON.parse(serializeKeyFile(exportCheckpointKeys(gateway))) as Record<string, unknown>;
    change(root);
    let error: unknown;
    try {
      parseKeyFile(JSON.stringify(root), "cp.key");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(KeyFileError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(PAGE_CHECKPOINT_KEY);
  });
});

describe("checkpoint keys from a file", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "ew-checkpoint-keys-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  async function write(name: string, file: Parameters<typeof serializeKeyFile>[0]): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, serializeKeyFile(file), { mode: 0o600 });
    return path;
  }

  it("gives the same checkpoint key from the export as from the gateway key file", async () => {
    const fromGateway = await loadCheckpointKeys(await write("gw.key", gateway));
    const fromExport = await loadCheckpointKeys(await write("cp.key", exportCheckpointKeys(gateway)));
    expect([fromGateway.kind, fromExport.kind]).toEqual(["gateway", "checkpoint"]);
    for (const kid of ["k1", "k2"]) {
      expect(fromExport.checkpointKey(kid)).toEqual(fromGateway.checkpointKey(kid));
    }
    // Fresh arrays: a walker wiping its copy leaves the source intact.
    fromExport.checkpointKey("k1").fill(0);
    expect(fromExport.checkpointKey("k1")).toEqual(deriveCheckpointKey(MASTER, "k1"));
  });

  it("names a key id the export does not hold (exported before a rotation)", () => {
    const old: CheckpointKeyFile = exportCheckpointKeys({
      ...gateway,
      active: "k1",
      keys: gateway.keys.slice(0, 1),
    });
    const keys = checkpointKeysOf(old, "old.key");
    expect(() => keys.checkpointKey("k2")).toThrow(
      /old\.key has no checkpoint key "k2" \(it holds k1\); export it again after a rotation/,
    );
    expect(() => keys.checkpointKey("K1")).toThrow(KeyLookupError);
  });

  it("refuses a device key file for checkpoints, and a checkpoint key file for envelopes or rotation", async () => {
    const devicePath = await write("press-2.key", exportDeviceKeys(gateway, "press-2"));
    await expect(loadCheckpointKeys(devicePath)).rejects.toThrow(
      /press-2\.key: holds the exported keys of device "press-2"; checkpoint MACs need the gateway key file or an exported checkpoint key file/,
    );
    const checkpointPath = await write("cp.key", exportCheckpointKeys(gateway));
    await expect(loadKeyRing(checkpointPath)).rejects.toThrow(
      /cp\.key: holds only exported checkpoint keys: they verify checkpoints .* and open no envelope/,
    );
    await expect(loadGatewayKeys(checkpointPath)).rejects.toThrow(
      /cp\.key: holds only exported checkpoint keys, not a gateway master key/,
    );
  });
});
