import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatIssue } from "../../src/config/configIssue.js";
import { type LoadResult, loadConfigFile, loadConfigText } from "../../src/config/loadConfig.js";
import type { Config } from "../../src/config/schema/index.js";

const SKELETON = "gateway:\n  id: gw-1\n  site: lab\n";

function load(text: string, env: Record<string, string> = {}): LoadResult {
  return loadConfigText(text, { displayName: "c.yaml", baseDir: "/etc/edgewarden", env });
}

function loaded(text: string, env: Record<string, string> = {}): Config {
  const result = load(text, env);
  if (!result.ok) {
    throw new Error(result.errors.map(formatIssue).join("\n"));
  }
  return result.config;
}

function errorLines(text: string, env: Record<string, string> = {}): string[] {
  const result = load(text, env);
  return result.ok ? [] : result.errors.map(formatIssue);
}

const TCP_DEVICE = `devices:
  - name: press-2
    protocol: modbus-tcp
    host: 10.0.4.21
    addressing: modicon
    pollGroups:
      - name: fast
        interval: 1s
        tags:
          - { name: current, address: 40001, type: float32 }
          - { name: running, address: 10017, type: bool }
          - { name: counter, address: 300010, type: uint32 }
`;

describe("defaults and normalisation", () => {
  it("fills defaults and derives directories from dataDir", () => {
    const config = loaded(SKELETON);
    expect(config.gateway.dataDir).toBe("/var/lib/edgewarden");
    expect(config.storage.dir).toBe("/var/lib/edgewarden/ledger");
    expect(config.storage.commitInterval).toBe(50);
    expect(config.storage.retention.maxBytes).toBe(1024 ** 3);
    expect(config.crypto.encryption).toBe("ascon-aead128");
    expect(config.devices).toEqual([]);
    expect(config.uplink).toBeUndefined();
  });

  it("turns modicon addresses into a table and a 0-based address", () => {
    const [device] = loaded(SKELETON + TCP_DEVICE).devices;
    if (device?.protocol !== "modbus-tcp") {
      throw new Error("expected a modbus-tcp device");
    }
    expect(device.pollGroups[0]?.tags.map((tag) => [tag.name, tag.table, tag.address])).toEqual([
      ["current", "holding", 0],
      ["running", "discrete", 16],
      ["counter", "input", 9],
    ]);
  });

  it("resolves relative paths against the config file's directory and leaves absolute ones", () => {
    const config = loaded(
      `${SKELETON}  dataDir: state\ncrypto:\n  keyFile: /keys/gw.key\nanalytics:\n  modelDir: ../models\n`,
    );
    expect(config.gateway.dataDir).toBe("/etc/edgewarden/state");
    expect(config.storage.dir).toBe("/etc/edgewarden/state/ledger");
    expect(config.crypto.keyFile).toBe("/keys/gw.key");
    expect(config.analytics?.modelDir).toBe("/etc/models");
  });

  it("reports which sections were written, not those that only have defaults", () => {
    const result = load(`${SKELETON}storage:\n  commitInterval: 10ms\n`);
    expect(result.ok && [...result.sections].sort()).toEqual(["gateway", "storage"]);
  });

  it("hashes the file text, for audit events", () => {
    const a = load(SKELETON);
    const b = load(`${SKELETON}# comment\n`);
    expect(a.ok && a.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(a.ok && b.ok && a.sha256 !== b.sha256).toBe(true);
  });
});

describe("environment overrides", () => {
  it("sets nested keys, addresses list entries by name or index, and reads values as YAML scalars", () => {
    const config = loaded(SKELETON + TCP_DEVICE, {
      EDGEWARDEN_GATEWAY__STOP_TIMEOUT: "5s",
      EDGEWARDEN_DEVICES__PRESS_2__HOST: "10.0.4.22",
      EDGEWARDEN_DEVICES__0__RETRIES: "0",
      EDGEWARDEN_SELF_HEALTH__ENABLED: "false",
      EDGEWARDEN_LOG_LEVEL: "debug",
      EDGEWARDEN_CONFIG: "/ignored/by/the/loader.yaml",
    });
    const device = config.devices[0];
    expect(config.gateway.stopTimeout).toBe(5000);
    expect(device?.protocol === "modbus-tcp" && [device.host, device.retries]).toEqual(["10.0.4.22", 0]);
    expect(config.selfHealth.enabled).toBe(false);
    expect(config.observability.log.level).toBe("debug");
  });

  it("creates sections that the file does not have", () => {
    const config = loaded(SKELETON, { EDGEWARDEN_OBSERVABILITY__STATUS__PORT: "9999" });
    expect(config.observability.status.port).toBe(9999);
  });

  it("names the variable, not a file line, when an overridden value is invalid", () => {
    expect(errorLines(SKELETON, { EDGEWARDEN_GATEWAY__STOP_TIMEOUT: "soon" })).toEqual([
      '$EDGEWARDEN_GATEWAY__STOP_TIMEOUT: gateway.stopTimeout: expected a duration such as 500ms, 10s, 5m, 1h or 7d (got "soon")',
    ]);
  });

  it("refuses overrides that name no key, with a suggestion", () => {
    expect(errorLines(SKELETON, { EDGEWARDEN_GATEWAY__STOP_TIMOUT: "5s" })).toEqual([
      '$EDGEWARDEN_GATEWAY__STOP_TIMOUT: gateway: no key "STOP_TIMOUT" here; did you mean STOP_TIMEOUT?',
    ]);
    expect(errorLines(SKELETON, { EDGEWARDEN_DEVICES__NOPE__HOST: "x" })).toEqual([
      '$EDGEWARDEN_DEVICES__NOPE__HOST: devices: no entry "NOPE" here: the list is empty',
    ]);
    expect(errorLines(SKELETON + TCP_DEVICE, { EDGEWARDEN_DEVICES__PRESS_3__HOST: "x" })).toEqual([
      '$EDGEWARDEN_DEVICES__PRESS_3__HOST: devices: no entry "PRESS_3" here; use an index 0-0 or a name: press-2',
    ]);
    expect(errorLines(SKELETON, { EDGEWARDEN_VERBOSE: "1" })).toEqual([
      "$EDGEWARDEN_VERBOSE: (top level): not an override: use EDGEWARDEN_<SECTION>__<KEY>, e.g. EDGEWARDEN_UPLINK__URL",
    ]);
  });
});

describe("messages", () => {
  it("suggests the intended key for a misspelt nested key, at the key's position", () => {
    const text = `${SKELETON}${TCP_DEVICE.replace("interval: 1s", "intervall: 1s")}`;
    expect(errorLines(text)).toEqual([
      "c.yaml:10:9: devices[0].pollGroups[0].interval: required key is missing",
      'c.yaml:11:9: devices[0].pollGroups[0].intervall: unknown key "intervall"; did you mean "interval"?',
    ]);
  });

  it("warns about publishing in clear, at the key", () => {
    const result = load(`${SKELETON}uplink:\n  url: mqtt://broker:1883\ncrypto:\n  encryption: none\n`);
    expect(result.warnings.map(formatIssue)).toEqual([
      "c.yaml:7:15: crypto.encryption: warning: records will be published in clear (encryption: none)",
    ]);
  });
});

describe("reading the file", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "ew-load-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reports a missing file, a directory and non-UTF-8 bytes as one located error each", async () => {
    await mkdir(join(dir, "a-dir"));
    await writeFile(join(dir, "latin1.yaml"), Buffer.from("gateway:\n  id: gr\xfc\xdfe\n", "latin1"));
    const messages = await Promise.all(
      ["missing.yaml", "a-dir", "latin1.yaml"].map(async (name) => {
        const result = await loadConfigFile(join(dir, name), { displayName: name, env: {} });
        return result.ok ? "ok" : result.errors.map(formatIssue).join("\n");
      }),
    );
    expect(messages).toEqual([
      "missing.yaml:1:1: (top level): cannot read the config: no such file",
      "a-dir:1:1: (top level): cannot read the config: it is a directory, not a file",
      "latin1.yaml:2:1: (top level): the config is not valid UTF-8 text (saved as Latin-1 or Windows-1252? save it as UTF-8)",
    ]);
  });

  it("ignores process.env when an env is given", async () => {
    process.env.EDGEWARDEN_GATEWAY__ID = "from-process-env";
    try {
      await writeFile(join(dir, "c.yaml"), SKELETON);
      const result = await loadConfigFile(join(dir, "c.yaml"), { env: {} });
      expect(result.ok && result.config.gateway.id).toBe("gw-1");
    } finally {
      delete process.env.EDGEWARDEN_GATEWAY__ID;
    }
  });
});
