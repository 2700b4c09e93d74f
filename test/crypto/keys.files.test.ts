/**
 * Key files (issue #3): the two formats parsed strictly (each problem with its message, no
 * secret in any message), written canonically, loaded only when private and regular, and
 * written 0600 without overwriting by accident.
 */
import { spawnSync } from "node:child_process";
import {
  chmod,
  chown,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createKeyFile,
  type DeviceKeyFile,
  type GatewayKeyFile,
  isAlreadyExists,
  KeyFileError,
  loadDeviceKeys,
  loadGatewayKeys,
  loadKeyFile,
  loadKeyRing,
  parseKeyFile,
  replaceKeyFile,
  serializeKeyFile,
} from "../../src/crypto/keys/index.js";

const MASTER = Uint8Array.from({ length: 32 }, (_, i) => i);
const MASTER_TEXT = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
const DEVICE_KEY_TEXT = "aUp0pis_ePW2wTbGA0XhKQ";

const gateway: GatewayKeyFile = {
  kind: "gateway",
  active: "k1",
  keys: [{ id: "k1", created: "2025-01-31T12:00:00.000Z", secret: MASTER }],
};

const GATEWAY_TEXT = `{
  "format": "edgewarden-gateway-key",
  "version": 1,
  "active": "k1",
  "keys": [
    {
      "id": "k1",
      "created": "2025-01-31T12:00:00.000Z",
      "secret": "${MASTER_TEXT}"
    }
  ]
}
`;

/** A gateway key file's text with one part changed. */
function gatewayJson(change: (root: Record<string, unknown>, key: Record<string, unknown>) => void): string {
  const key: Record<string, unknown> = { id: "k1", created: "2025-01-31T12:00:00.000Z", secret: MASTER_TEXT };
  const root: Record<string, unknown> = {
    format: "edgewarden-gateway-key",
    version: 1,
    active: "k1",
    keys: [key],
  };
  change(root, key);
  return JSON.stringify(root);
}

function deviceJson(change: (root: Record<string, unknown>) => void): string {
  const root: Record<string, unknown> = {
    format: "edgewarden-device-key",
    version: 1,
    device: "press-2",
    keys: [{ id: "k1", secret: DEVICE_KEY_TEXT }],
  };
  change(root);
  return JSON.stringify(root);
}

describe("parsing and serialising key files", () => {
  it("writes the gateway format exactly: two-space JSON, fixed field order, trailing newline", () => {
    expect(serializeKeyFile(gateway)).toBe(GATEWAY_TEXT);
  });

  it("round-trips a gateway file and device files with and without a gateway id", () => {
    const device: DeviceKeyFile = {
      kind: "device",
      device: "press-2",
      gateway: "gw-1",
      keys: [
        { id: "k1", secret: new Uint8Array(16).fill(7) },
        { id: "k2", secret: new Uint8Array(16).fill(9) },
      ],
    };
    const { gateway: _omitted, ...withoutGateway } = device;
    for (const file of [gateway, device, withoutGateway]) {
      const text = serializeKeyFile(file);
      expect(parseKeyFile(text, "f")).toEqual(file);
      expect(serializeKeyFile(parseKeyFile(text, "f"))).toBe(text);
    }
    expect(JSON.parse(serializeKeyFile(device))).toEqual({
      format: "edgewarden-device-key",
      version: 1,
      device: "press-2",
      gateway: "gw-1",
      keys: [
        { id: "k1", secret: "BwcHBwcHBwcHBwcHBwcHBw" },
        { id: "k2", secret: "CQkJCQkJCQkJCQkJCQkJCQ" },
      ],
    });
  });

  it.each([
    [
      "not JSON",
      `{"keys": [{"secret": "${MASTER_TEXT}"} x`,
      /^k\.json: not valid JSON \(line 1, column \d+\)$/,
    ],
    ["a JSON array", "[]", /: the file must be a JSON object$/],
    ["no format", "{}", /: not an edgewarden key file \(no "format"/],
    ["another format", '{"format": "pem"}', /: format "pem" is not an edgewarden key file/],
    [
      "version 2",
      gatewayJson((r) => (r.version = 2)),
      /: version 2 is not supported \(this edgewarden reads version 1\)/,
    ],
    ["no version", gatewayJson((r) => delete r.version), /: no "version" \(expected 1\)/],
    ["an unknown field", gatewayJson((r) => (r.secrets = [])), /: unknown field "secrets"$/],
    [
      "an unknown key field",
      gatewayJson((_r, k) => (k.comment = "x")),
      /: keys\[0\]: unknown field "comment"$/,
    ],
    ["no keys", gatewayJson((r) => delete r.keys), /: no "keys"$/],
    ["an empty key list", gatewayJson((r) => (r.keys = [])), /: "keys" must be a non-empty list$/],
    [
      "a key that is not an object",
      gatewayJson((r) => (r.keys = ["k1"])),
      /: keys\[0\] must be a JSON object$/,
    ],
    ["a bad key id", gatewayJson((_r, k) => (k.id = "key1")), /: keys\[0\]\.id: "key1" is not a key id/],
    ["a missing key id", gatewayJson((_r, k) => delete k.id), /: keys\[0\]\.id: missing$/],
    [
      "duplicate key ids",
      gatewayJson((r, k) => (r.keys = [k, { ...k }])),
      /: key id "k1" appears more than once$/,
    ],
    ["no active key id", gatewayJson((r) => delete r.active), /: no "active" key id$/],
    [
      "an active key id that is not among the keys",
      gatewayJson((r) => (r.active = "k2")),
      /: active key "k2" is not among the keys \(k1\)$/,
    ],
    [
      "a creation time that is not UTC",
      gatewayJson((_r, k) => (k.created = "2025-01-31T12:00:00+01:00")),
      /: keys\[0\]\.created: "2025-01-31T12:00:00\+01:00" is not an ISO-8601 UTC time/,
    ],
    [
      "no creation time",
      gatewayJson((_r, k) => delete k.created),
      /: keys\[0\]\.created: missing; expected an ISO/,
    ],
    ["no secret", gatewayJson((_r, k) => delete k.secret), /: keys\[0\]\.secret: missing$/],
    [
      "a secret in standard base64",
      gatewayJson((_r, k) => (k.secret = `${MASTER_TEXT.slice(0, -2)}+/`)),
      /: keys\[0\]\.secret is not base64url without padding$/,
    ],
    [
      "a padded secret",
      gatewayJson((_r, k) => (k.secret = `${MASTER_TEXT}=`)),
      /: keys\[0\]\.secret is not base64url without padding$/,
    ],
    [
      "a secret of 31 bytes",
      gatewayJson((_r, k) => (k.secret = Buffer.alloc(31, 1).toString("base64url"))),
      /: keys\[0\]\.secret holds 31 bytes; a gateway key is 32 bytes$/,
    ],
    [
      "a device file with a bad device id",
      deviceJson((r) => (r.device = "a b")),
      /: device: "a b" is not a device id/,
    ],
    ["a device file with no device", deviceJson((r) => delete r.device), /: no "device"$/],
    [
      "a device file with a bad gateway id",
      deviceJson((r) => (r.gateway = "gw 1")),
      /: gateway: "gw 1" is not a gateway id/,
    ],
    [
      "a device file holding a 32-byte master secret",
      deviceJson((r) => (r.keys = [{ id: "k1", secret: MASTER_TEXT }])),
      /: keys\[0\]\.secret holds 32 bytes; a device key is 16 bytes$/,
    ],
    ["a device file with an active field", deviceJson((r) => (r.active = "k1")), /: unknown field "active"$/],
  ])("refuses %s with its own message, naming the file and never the secret", (_what, text, message) => {
    let error: unknown;
    try {
      parseKeyFile(text, "k.json");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(KeyFileError);
    const text_ = (error as Error).message;
    expect(text_).toMatch(/^k\.json: /);
    expect(text_).toMatch(message);
    expect(text_).not.toContain(MASTER_TEXT.slice(0, 20));
    expect(text_).not.toContain(DEVICE_KEY_TEXT.slice(0, 12));
  });
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "ew-keys-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeKey(name: string, text: string, mode = 0o600): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text, { mode });
  await chmod(path, mode);
  return path;
}

async function loadError(path: string): Promise<string> {
  const error: unknown = await loadKeyFile(path).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(KeyFileError);
  return (error as Error).message;
}

describe("loading key files", () => {
  it("loads a 0600 gateway file", async () => {
    const path = await writeKey("gw.key", GATEWAY_TEXT);
    expect(await loadKeyFile(path)).toEqual(gateway);
    expect((await loadGatewayKeys(path)).active).toBe("k1");
  });

  it.each([0o644, 0o640, 0o604, 0o620])(
    "refuses mode %o and prints the chmod that fixes it",
    async (mode) => {
      const path = await writeKey("gw.key", GATEWAY_TEXT, mode);
      const message = await loadError(path);
      expect(message).toContain(`(mode 0${mode.toString(8)}); run: chmod 600 ${path}`);
      expect(message).toMatch(/by group or others/);
    },
  );

  it("quotes a path with spaces in the chmod hint", async () => {
    const path = await writeKey("my gw.key", GATEWAY_TEXT, 0o644);
    expect(await loadError(path)).toContain(`run: chmod 600 '${path}'`);
  });

  it("refuses a symlink, even to a good key file", async () => {
    const target = await writeKey("gw.key", GATEWAY_TEXT);
    const link = join(dir, "link.key");
    await symlink(target, link);
    expect(await loadError(link)).toMatch(/link\.key: is a symbolic link; a key file must be a regular file/);
  });

  it("refuses a directory", async () => {
    const path = join(dir, "keys.d");
    await mkdir(path, { mode: 0o700 });
    expect(await loadError(path)).toBe(`${path}: not a regular file (a directory)`);
  });

  it.skipIf(spawnSync("mkfifo", ["--version"]).status !== 0)("refuses a FIFO without hanging", async () => {
    const path = join(dir, "fifo.key");
    expect(spawnSync("mkfifo", ["-m", "600", path]).status).toBe(0);
    expect(await loadError(path)).toMatch(/not a regular file \(a device, FIFO or socket\)/);
  });

  it("names a missing file and how to make one", async () => {
    expect(await loadError(join(dir, "none.key"))).toMatch(/none\.key: does not exist \(create one with/);
  });

  it("refuses a file over 64 KiB and a file that is not UTF-8", async () => {
    expect(await loadError(await writeKey("big.key", " ".repeat(64 * 1024 + 1)))).toMatch(
      /: 65537 bytes is too large for a key file \(at most 65536\)/,
    );
    expect(await loadError(await writeKey("latin1.key", "\u00ff"))).toMatch(/: not valid JSON/);
    const binary = join(dir, "binary.key");
    await writeFile(binary, Buffer.of(0x7b, 0xff, 0x7d), { mode: 0o600 });
    expect(await loadError(binary)).toBe(`${binary}: not UTF-8 text`);
  });

  it("tells a gateway file from a device file and refuses the wrong kind", async () => {
    const gatewayPath = await writeKey("gw.key", GATEWAY_TEXT);
    const devicePath = await writeKey(
      "press-2.key",
      deviceJson(() => undefined),
    );
    expect((await loadDeviceKeys(devicePath)).device).toBe("press-2");
    await expect(loadGatewayKeys(devicePath)).rejects.toThrow(
      /press-2\.key: holds the exported keys of device "press-2", not a gateway master key/,
    );
    await expect(loadDeviceKeys(gatewayPath)).rejects.toThrow(/gw\.key: holds gateway master keys/);
  });

  it("gives a KeyRing for either kind, with the same key for the same device", async () => {
    const gatewayRing = await loadKeyRing(await writeKey("gw.key", GATEWAY_TEXT));
    const deviceRing = await loadKeyRing(
      await writeKey(
        "press-2.key",
        deviceJson(() => undefined),
      ),
    );
    expect(gatewayRing.activeKeyId()).toBe("k1");
    expect(deviceRing.deviceKey("press-2", "k1")).toEqual(gatewayRing.deviceKey("press-2", "k1"));
    expect(() => deviceRing.deviceKey("press-3", "k1")).toThrow(/holds only the keys of device "press-2"/);
  });
});

describe("writing key files", () => {
  const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

  it("creates a 0600 file even under a permissive umask", async () => {
    const path = join(dir, "gw.key");
    const umask = process.umask(0);
    try {
      await createKeyFile(path, gateway);
    } finally {
      process.umask(umask);
    }
    expect(await modeOf(path)).toBe(0o600);
    expect(await readFile(path, "utf8")).toBe(GATEWAY_TEXT);
  });

  it("refuses to create over an existing file and leaves it unchanged", async () => {
    const path = await writeKey("gw.key", "precious\n");
    const error: unknown = await createKeyFile(path, gateway).catch((caught: unknown) => caught);
    expect(isAlreadyExists(error)).toBe(true);
    expect((error as Error).message).toBe(`${path}: already exists; refusing to overwrite a key file`);
    expect(await readFile(path, "utf8")).toBe("precious\n");
  });

  it("names a missing directory", async () => {
    await expect(createKeyFile(join(dir, "no", "gw.key"), gateway)).rejects.toThrow(
      /cannot be created: directory .*\/no does not exist/,
    );
  });

  it("replaces a file atomically with a 0600 file and leaves no temp file", async () => {
    const path = await writeKey("gw.key", "old\n");
    await replaceKeyFile(path, gateway, { overwrite: true });
    expect(await readFile(path, "utf8")).toBe(GATEWAY_TEXT);
    expect(await modeOf(path)).toBe(0o600);
    expect(await readdir(dir)).toEqual(["gw.key"]);
  });

  it.skipIf(process.getuid?.() !== 0)(
    "keeps the owner and group of the file it replaces (rotation run as root)",
    async () => {
      const path = await writeKey("gw.key", "old\n");
      await chown(path, 4321, 4322);
      await replaceKeyFile(path, gateway, { overwrite: true });
      const info = await stat(path);
      expect([info.uid, info.gid, info.mode & 0o777]).toEqual([4321, 4322, 0o600]);
    },
  );

  it("without overwrite, creates a new file but refuses an existing one, leaving no temp file", async () => {
    const fresh = join(dir, "new.key");
    await replaceKeyFile(fresh, gateway, { overwrite: false });
    expect(await readFile(fresh, "utf8")).toBe(GATEWAY_TEXT);
    expect(await modeOf(fresh)).toBe(0o600);
    const existing = await writeKey("old.key", "old\n");
    const error: unknown = await replaceKeyFile(existing, gateway, { overwrite: false }).catch(
      (caught: unknown) => caught,
    );
    expect(isAlreadyExists(error)).toBe(true);
    expect(await readFile(existing, "utf8")).toBe("old\n");
    expect((await readdir(dir)).sort()).toEqual(["new.key", "old.key"]);
  });
});
