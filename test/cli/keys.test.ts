/**
 * `edgewarden keys` on the built CLI (issue #3): generate, show, rotate and export as an operator
 * runs them, with the exit codes and messages they promise and no secret on the terminal.
 */
import { hkdfSync } from "node:crypto";
import { chmod, copyFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { edgewarden } from "../helpers/daemon.js";

interface GatewayFileJson {
  format: string;
  version: number;
  active: string;
  keys: { id: string; created: string; secret: string }[];
}

interface DeviceFileJson {
  format: string;
  version: number;
  device: string;
  gateway?: string;
  keys: { id: string; secret: string }[];
}

const readJson = async <T>(path: string) => JSON.parse(await readFile(path, "utf8")) as T;
const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

/** The device key as docs/protocol.md defines it, computed by node:crypto. */
function derive(masterText: string, keyId: string, deviceId: string): string {
  const info = Buffer.from(`device-key\u0000${keyId}\u0000${deviceId}`, "utf8");
  const master = Buffer.from(masterText, "base64url");
  return Buffer.from(hkdfSync("sha256", master, Buffer.from("edgewarden/v1"), info, 16)).toString(
    "base64url",
  );
}

let dir: string;
let keyFile: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "ew-cli-keys-"));
  keyFile = join(dir, "gateway.key");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("edgewarden keys --help", () => {
  it.each(["generate", "show", "rotate", "export"])("documents `keys %s` with its exit codes", (name) => {
    const { code, stdout } = edgewarden(["keys", name, "--help"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Exit codes: 0 done, 2 refused, bad key file or bad usage\./);
  });
});

describe("edgewarden keys generate", () => {
  it("creates a 0600 gateway key file with one 32-byte secret, k1 active", async () => {
    const { code, stdout } = edgewarden(["keys", "generate", "--out", keyFile]);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^created .*gateway\.key \(mode 0600\): gateway key k1, fingerprint [0-9a-f]{16}\n$/,
    );
    expect(await modeOf(keyFile)).toBe(0o600);
    const file = await readJson<GatewayFileJson>(keyFile);
    expect(file).toMatchObject({ format: "edgewarden-gateway-key", version: 1, active: "k1" });
    expect(file.keys).toHaveLength(1);
    expect(file.keys[0]?.id).toBe("k1");
    expect(file.keys[0]?.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(file.keys[0]!.secret, "base64url")).toHaveLength(32);
    expect(Date.parse(file.keys[0]!.created)).not.toBeNaN();
    expect(stdout).not.toContain(file.keys[0]!.secret);
  });

  it("refuses to overwrite an existing file with exit 2 and leaves it unchanged", async () => {
    expect(edgewarden(["keys", "generate", "--out", keyFile]).code).toBe(0);
    const before = await readFile(keyFile, "utf8");
    const { code, stderr } = edgewarden(["keys", "generate", "--out", keyFile]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/gateway\.key: already exists; refusing to overwrite a key file/);
    expect(await readFile(keyFile, "utf8")).toBe(before);
  });

  it("requires --out (usage error, exit 2)", () => {
    expect(edgewarden(["keys", "generate"]).code).toBe(2);
  });
});

describe("edgewarden keys show", () => {
  it("prints key ids and fingerprints, never the secret", async () => {
    edgewarden(["keys", "generate", "--out", keyFile]);
    const secret = (await readJson<GatewayFileJson>(keyFile)).keys[0]!.secret;
    for (const args of [[], ["--json"], ["--device", "press-2"]]) {
      const { code, stdout, stderr } = edgewarden(["keys", "show", "--key-file", keyFile, ...args]);
      expect(code).toBe(0);
      expect(stdout).toMatch(/k1/);
      expect(stdout).toMatch(/[0-9a-f]{16}/);
      expect(stdout + stderr).not.toContain(secret);
      expect(stdout + stderr).not.toContain(Buffer.from(secret, "base64url").toString("hex"));
      expect(stdout + stderr).not.toContain(Buffer.from(secret, "base64url").toString("base64"));
    }
    const shown = JSON.parse(edgewarden(["keys", "show", "--json", "--key-file", keyFile]).stdout) as {
      format: string;
      active: string;
      keys: { id: string; active: boolean; fingerprint: string }[];
    };
    expect(shown).toMatchObject({ format: "gateway", active: "k1", keys: [{ id: "k1", active: true }] });
    expect(shown.keys[0]?.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  });

  it("exits 2 on a copy readable by group and others and prints the chmod that fixes it", async () => {
    edgewarden(["keys", "generate", "--out", keyFile]);
    const copy = join(dir, "copy.key");
    await copyFile(keyFile, copy);
    await chmod(copy, 0o644);
    const { code, stdout, stderr } = edgewarden(["keys", "show", "--key-file", copy]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain(`readable by group or others (mode 0644); run: chmod 600 ${copy}`);
  });

  it("exits 2 on a file that is not a key file, naming the problem", async () => {
    const bad = join(dir, "bad.key");
    await writeFile(bad, '{"format": "edgewarden-gateway-key", "version": 2}\n', { mode: 0o600 });
    const { code, stderr } = edgewarden(["keys", "show", "--key-file", bad]);
    expect(code).toBe(2);
    expect(stderr).toBe(
      `edgewarden keys show: ${bad}: version 2 is not supported (this edgewarden reads version 1)\n`,
    );
  });
});

describe("edgewarden keys rotate", () => {
  it("rotating twice gives k1, k2, k3 with k3 active and the old secrets kept", async () => {
    edgewarden(["keys", "generate", "--out", keyFile]);
    const original = await readJson<GatewayFileJson>(keyFile);
    expect(edgewarden(["keys", "rotate", "--key-file", keyFile]).code).toBe(0);
    const { code, stdout } = edgewarden(["keys", "rotate", "--key-file", keyFile]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/added key k3 \(fingerprint [0-9a-f]{16}\), now active; k1, k2 kept for opening/);
    const rotated = await readJson<GatewayFileJson>(keyFile);
    expect(rotated.active).toBe("k3");
    expect(rotated.keys.map((k) => k.id)).toEqual(["k1", "k2", "k3"]);
    expect(rotated.keys[0]).toEqual(original.keys[0]);
    expect(new Set(rotated.keys.map((k) => k.secret)).size).toBe(3);
    expect(await modeOf(keyFile)).toBe(0o600);
  });

  it("refuses to rotate an exported device key file", async () => {
    edgewarden(["keys", "generate", "--out", keyFile]);
    const deviceFile = join(dir, "press-2.key");
    edgewarden(["keys", "export", "--key-file", keyFile, "--device", "press-2", "--out", deviceFile]);
    const before = await readFile(deviceFile, "utf8");
    const { code, stderr } = edgewarden(["keys", "rotate", "--key-file", deviceFile]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/holds the exported keys of device "press-2", not a gateway master key/);
    expect(await readFile(deviceFile, "utf8")).toBe(before);
  });
});

describe("edgewarden keys export", () => {
  it("writes a 0600 device key file whose secrets are the derivation under every key id", async () => {
    edgewarden(["keys", "generate", "--out", keyFile]);
    edgewarden(["keys", "rotate", "--key-file", keyFile]);
    const out = join(dir, "press-2.key");
    const { code, stdout } = edgewarden([
      "keys",
      "export",
      "--key-file",
      keyFile,
      "--device",
      "press-2",
      "--gateway",
      "gw-1",
      "--out",
      out,
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /wrote .*press-2\.key \(mode 0600\): keys of device press-2 of gateway gw-1 under k1, k2/,
    );
    expect(await modeOf(out)).toBe(0o600);
    const master = await readJson<GatewayFileJson>(keyFile);
    const exported = await readJson<DeviceFileJson>(out);
    expect(exported).toEqual({
      format: "edgewarden-device-key",
      version: 1,
      device: "press-2",
      gateway: "gw-1",
      keys: master.keys.map((k) => ({ id: k.id, secret: derive(k.secret, k.id, "press-2") })),
    });
    // `show` of the export and `show --device` of the gateway file agree on the fingerprints.
    const fingerprints = (args: string[]) =>
      (
        JSON.parse(edgewarden(["keys", "show", "--json", ...args]).stdout) as {
          keys: { fingerprint: string; deviceFingerprint?: string }[];
        }
      ).keys.map((k) => k.deviceFingerprint ?? k.fingerprint);
    expect(fingerprints(["--key-file", out])).toEqual(
      fingerprints(["--key-file", keyFile, "--device", "press-2"]),
    );
  });

  it("refuses to overwrite an existing --out without --force, and replaces it with --force", async () => {
    edgewarden(["keys", "generate", "--out", keyFile]);
    const out = join(dir, "consumer.key");
    await writeFile(out, "keep me\n", { mode: 0o600 });
    const args = ["keys", "export", "--key-file", keyFile, "--device", "_gateway", "--out", out];
    const refused = edgewarden(args);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/consumer\.key: already exists; add --force to replace it/);
    expect(await readFile(out, "utf8")).toBe("keep me\n");
    expect(edgewarden([...args, "--force"]).code).toBe(0);
    expect((await readJson<DeviceFileJson>(out)).device).toBe("_gateway");
  });

  it("refuses an invalid device id and --out naming the key file itself", async () => {
    edgewarden(["keys", "generate", "--out", keyFile]);
    const badDevice = edgewarden([
      "keys",
      "export",
      "--key-file",
      keyFile,
      "--device",
      "a b",
      "--out",
      join(dir, "x"),
    ]);
    expect(badDevice.code).toBe(2);
    expect(badDevice.stderr).toMatch(/--device: "a b" is not a device id/);
    const before = await readFile(keyFile, "utf8");
    const same = edgewarden([
      "keys",
      "export",
      "--key-file",
      keyFile,
      "--device",
      "d",
      "--out",
      keyFile,
      "--force",
    ]);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/is the key file itself/);
    expect(await readFile(keyFile, "utf8")).toBe(before);
  });
});

describe("edgewarden keys export --checkpoint-key", () => {
  /** The checkpoint key as docs/protocol.md §8.5 defines it, computed by node:crypto. */
  const checkpointKey = (masterText: string, keyId: string) =>
    Buffer.from(
      hkdfSync(
        "sha256",
        Buffer.from(masterText, "base64url"),
        Buffer.from("edgewarden/v1"),
        Buffer.from(`checkpoint-key\u0000${keyId}`, "utf8"),
        32,
      ),
    ).toString("base64url");

  it("writes a 0600 checkpoint key file under every key id, printing no key bytes", async () => {
    edgewarden(["keys", "generate", "--out", keyFile]);
    edgewarden(["keys", "rotate", "--key-file", keyFile]);
    const out = join(dir, "gw-1.checkpoint.key");
    const args = ["keys", "export", "--key-file", keyFile, "--checkpoint-key", "--gateway", "gw-1"];
    const { code, stdout, stderr } = edgewarden([...args, "--out", out]);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /wrote .*gw-1\.checkpoint\.key \(mode 0600\): checkpoint keys of gateway gw-1 under k1, k2\n$/,
    );
    expect(await modeOf(out)).toBe(0o600);
    const master = await readJson<GatewayFileJson>(keyFile);
    const exported = await readJson<Record<string, unknown>>(out);
    expect(exported).toEqual({
      format: "edgewarden-checkpoint-key",
      version: 1,
      gateway: "gw-1",
      keys: master.keys.map((k) => ({ id: k.id, secret: checkpointKey(k.secret, k.id) })),
    });
    for (const key of master.keys) {
      expect(stdout + stderr).not.toContain(checkpointKey(key.secret, key.id));
    }
    // `show` of the export and `show --checkpoint-key` of the gateway file agree on the fingerprints.
    const shown = (file: string, ...extra: string[]) =>
      JSON.parse(edgewarden(["keys", "show", "--json", "--key-file", file, ...extra]).stdout) as {
        format: string;
        keys: { fingerprint: string; checkpointFingerprint?: string }[];
      };
    const fromExport = shown(out);
    expect(fromExport.format).toBe("checkpoint");
    expect(fromExport.keys.map((k) => k.fingerprint)).toEqual(
      shown(keyFile, "--checkpoint-key").keys.map((k) => k.checkpointFingerprint),
    );
    expect(edgewarden(["keys", "show", "--key-file", out]).stdout).toMatch(
      /checkpoint key file \(gateway gw-1\), 2 key id\(s\)/,
    );
  });

  it("refuses --device with --checkpoint-key, and neither", () => {
    edgewarden(["keys", "generate", "--out", keyFile]);
    const out = join(dir, "x.key");
    const both = edgewarden([
      "keys",
      "export",
      "--key-file",
      keyFile,
      "--device",
      "d",
      "--checkpoint-key",
      "--out",
      out,
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--device and --checkpoint-key exclude each other/);
    const neither = edgewarden(["keys", "export", "--key-file", keyFile, "--out", out]);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/name what to export: --device ID .* or --checkpoint-key/);
  });

  it("is refused by decrypt and rotate, which need envelope or master keys", () => {
    edgewarden(["keys", "generate", "--out", keyFile]);
    const out = join(dir, "cp.key");
    expect(edgewarden(["keys", "export", "--key-file", keyFile, "--checkpoint-key", "--out", out]).code).toBe(
      0,
    );
    const decrypt = edgewarden(["decrypt", "--key-file", out], { input: "" });
    expect(decrypt.code).toBe(2);
    expect(decrypt.stderr).toMatch(/cp\.key: holds only exported checkpoint keys: they verify checkpoints/);
    const rotate = edgewarden(["keys", "rotate", "--key-file", out]);
    expect(rotate.code).toBe(2);
    expect(rotate.stderr).toMatch(/holds only exported checkpoint keys, not a gateway master key/);
  });
});
