/**
 * The receiver's config file (receiver/config/): the shipped example is valid, defaults are the
 * documented ones, paths are relative to the file, and every problem is reported at once as
 * FILE:LINE:COL with the daemon's wording. Files it names are read at start: a key file open to
 * others is refused at the key that names it.
 */
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { formatIssue } from "../../src/config/configIssue.js";
import {
  loadReceiverConfigFile,
  loadReceiverConfigText,
} from "../../src/receiver/config/loadReceiverConfig.js";
import { readReceiverFiles } from "../../src/receiver/config/receiverFiles.js";
import { intakeSettings } from "../../src/receiver/receiverService.js";
import { repoRoot } from "../helpers/paths.js";
import { Resources } from "../helpers/resources.js";
import { receiverSetup } from "./receiverHarness.js";

const resources = new Resources();
afterEach(() => resources.release());

const minimal = (store: string) =>
  [
    "mqtt:",
    "  url: mqtt://broker:1883",
    "  clientId: r1",
    "keys:",
    "  - file: gw.key",
    "store:",
    store,
    "",
  ].join("\n");

function load(text: string) {
  return loadReceiverConfigText(text, { displayName: "receiver.yaml", baseDir: "/etc/edgewarden" });
}

function errorsOf(text: string): string[] {
  const result = load(text);
  return result.ok ? [] : result.errors.map(formatIssue);
}

describe("the receiver's config", () => {
  it("config/receiver.example.yaml is valid", async () => {
    const result = await loadReceiverConfigFile(join(repoRoot, "config", "receiver.example.yaml"));
    expect(result.ok ? [] : result.errors.map(formatIssue)).toEqual([]);
    if (result.ok) {
      expect(intakeSettings(result.config).subscription).toBe("$share/plant-receivers/edgewarden/#");
    }
  });

  it("fills in the documented defaults and resolves paths against the file's directory", () => {
    const result = load(minimal("  jsonl:\n    path: out/received.jsonl"));
    if (!result.ok) {
      throw new Error(result.errors.map(formatIssue).join("\n"));
    }
    const { config } = result;
    expect(config.keys).toEqual([{ file: "/etc/edgewarden/gw.key" }]);
    expect(config.store.jsonl).toEqual({ path: "/etc/edgewarden/out/received.jsonl" });
    expect(config.topics).toEqual({
      prefix: "edgewarden",
      template: "{prefix}/{site}/{gateway}/{device}/{stream}",
    });
    expect(config.batch).toEqual({ maxMessages: 500, maxDelay: 50 });
    expect(config.log).toMatchObject({ level: "info", countersInterval: 60_000, rejectionsPerMinute: 60 });
    expect(intakeSettings(config)).toMatchObject({
      subscription: "edgewarden/#",
      sessionExpirySeconds: 3600,
      receiveMaximum: 1000,
      keepaliveMs: 30_000,
    });
  });

  it('keeps "-" (stdout) as it is and fills in the PostgreSQL defaults', () => {
    const jsonl = load(minimal('  jsonl:\n    path: "-"'));
    expect(jsonl.ok && jsonl.config.store.jsonl).toEqual({ path: "-" });
    const postgres = load(
      minimal("  postgres:\n    url: postgres://receiver@db/plant\n    passwordFile: db.pw"),
    );
    expect(postgres.ok && postgres.config.store.postgres).toEqual({
      url: "postgres://receiver@db/plant",
      passwordFile: "/etc/edgewarden/db.pw",
      schema: "edgewarden",
      auditInterval: 10_000,
      gapGrace: 30_000,
    });
  });

  it("refuses a store that is neither or both, a group without PostgreSQL, and a password in a URL", () => {
    expect(errorsOf(minimal("  {}"))).toEqual([
      'receiver.yaml:6:1: store: expected exactly one of "postgres" or "jsonl" (got neither)',
    ]);
    expect(
      errorsOf(
        minimal("  jsonl:\n    path: x.jsonl").replace("  clientId: r1", "  clientId: r1\n  group: plant"),
      ),
    ).toEqual([
      "receiver.yaml:4:10: mqtt.group: a shared subscription group needs store.postgres: with jsonl each receiver would see only part of each chain",
    ]);
    expect(errorsOf(minimal("  postgres:\n    url: postgres://r:secret@db/plant"))).toEqual([
      "receiver.yaml:8:10: store.postgres.url: do not put the password in the URL (it would show in logs); use passwordFile",
    ]);
  });

  it("reports every problem at once, each at its place", () => {
    const text = [
      "mqtt:", // 1
      "  url: mqtt://broker:1883", // 2
      "  clientId: r1", // 3
      "  subscribe: $share/g/edgewarden/#", // 4
      "  receiveMaximum: 0", // 5
      "keys:", // 6
      "  - gateway: gw 1", // 7
      "store:", // 8
      "  jsonl:", // 9
      "    path: x.jsonl", // 10
      "log:", // 11
      "  level: loud", // 12
      "",
    ].join("\n");
    expect(errorsOf(text)).toEqual([
      "receiver.yaml:4:14: mqtt.subscribe: write the filter without $share/; set mqtt.group for a shared subscription",
      "receiver.yaml:5:19: mqtt.receiveMaximum: must be from 1 to 65535 (got 0)",
      "receiver.yaml:7:5: keys[0].file: required key is missing",
      'receiver.yaml:7:14: keys[0].gateway: expected a gateway id of letters, digits, "_", "." or "-", starting with a letter or digit, at most 64 characters (got "gw 1")',
      'receiver.yaml:12:10: log.level: expected one of "fatal", "error", "warn", "info", "debug", "trace" (got the text "loud")',
    ]);
  });

  it("refuses a key file readable by others, at the key that names it", async () => {
    const setup = await receiverSetup(await resources.tempDir());
    await chmod(setup.keyPath, 0o644);
    const loaded = await loadReceiverConfigFile(setup.configPath);
    if (!loaded.ok) {
      throw new Error("the harness config is valid");
    }
    const files = await readReceiverFiles(loaded.config, loaded.locate);
    expect(files.ok ? [] : files.errors.map(formatIssue)).toEqual([
      `${setup.configPath}:11:11: keys[0].file: ${setup.keyPath}: holds a secret but is readable by group or others (mode 0644); run: chmod 600 ${setup.keyPath}`,
    ]);
  });

  it("refuses a broker password file that is missing, at mqtt.passwordFile", async () => {
    const dir = await resources.tempDir();
    const setup = await receiverSetup(dir);
    const config = join(dir, "with-password.yaml");
    await writeFile(
      config,
      (await readFile(setup.configPath, "utf8")).replace(
        "  sessionExpiry",
        "  passwordFile: missing.pw\n  sessionExpiry",
      ),
    );
    const loaded = await loadReceiverConfigFile(config);
    if (!loaded.ok) {
      throw new Error(loaded.errors.map(formatIssue).join("\n"));
    }
    const files = await readReceiverFiles(loaded.config, loaded.locate);
    expect(files.ok ? [] : files.errors.map(formatIssue)).toEqual([
      `${config}:5:17: mqtt.passwordFile: ${join(dir, "missing.pw")}: password file does not exist`,
    ]);
  });
});
