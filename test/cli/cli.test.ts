import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { edgewarden } from "../helpers/daemon.js";
import { cliPath } from "../helpers/paths.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ew-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("edgewarden check", () => {
  it("accepts the example plant config with exit 0", () => {
    const { code, stderr, stdout } = edgewarden(["check", "-c", "config/example.yaml"]);
    expect(code).toBe(0);
    expect(stderr).toMatch(/^config\/example\.yaml: OK: 6 device\(s\), 29 tag\(s\)/m);
    expect(stdout).not.toMatch(/analytics: warning: not supported/); // analytics runs (issue #6)
    expect(stdout).not.toMatch(/(storage|uplink|crypto): warning: not supported/); // the outbox runs (issue #5)
    expect(stdout).not.toMatch(/devices: warning/); // polling runs (issue #4)
  });

  it("prints every error as FILE:LINE:COL: path: message and exits 2", async () => {
    const file = join(dir, "bad.yaml");
    await writeFile(
      file,
      "gateway:\n  id: gw-1\n  site: lab\n  stopTimeout: 1000\nselfHealth:\n  enabled: on\n",
    );
    const { code, stdout, stderr } = edgewarden(["check", "-c", file]);
    expect(code).toBe(2);
    expect(stdout.trim().split("\n")).toEqual([
      `${file}:4:16: gateway.stopTimeout: expected a duration with a unit, such as "20s" (got the bare number 1000; write 1000ms or 1000s)`,
      `${file}:6:12: selfHealth.enabled: expected true or false (got the text "on": YAML 1.2 reads yes/no/on/off as text)`,
    ]);
    expect(stderr).toBe(`${file}: 2 error(s)\n`);
  });

  it("emits JSON with --json", async () => {
    const file = join(dir, "bad.json.yaml");
    await writeFile(file, "gateway:\n  id: gw 1\n  site: lab\n");
    const { code, stdout } = edgewarden(["check", "--json", "-c", file]);
    expect(code).toBe(2);
    const parsed = JSON.parse(stdout) as {
      ok: boolean;
      errors: { line: number; col: number; path: string }[];
    };
    expect(parsed.ok).toBe(false);
    expect(parsed.errors.map((e) => [e.line, e.col, e.path])).toEqual([[2, 7, "gateway.id"]]);
  });

  it("fails warnings with --strict and takes the file from $EDGEWARDEN_CONFIG", async () => {
    const file = join(dir, "warn.yaml");
    await writeFile(
      file,
      "gateway: { id: gw-1, site: lab }\nuplink: { url: 'mqtt://b:1883' }\ncrypto: { encryption: none }\n",
    );
    expect(edgewarden(["check"], { env: { EDGEWARDEN_CONFIG: file } }).code).toBe(0);
    expect(edgewarden(["check", "--strict"], { env: { EDGEWARDEN_CONFIG: file } }).code).toBe(2);
  });

  it("prints the effective config with --print", async () => {
    const file = join(dir, "print.yaml");
    await writeFile(file, "gateway: { id: gw-1, site: lab }\n");
    const { code, stdout } = edgewarden(["check", "--print", "-c", file], {
      env: { EDGEWARDEN_STORAGE__COMMIT_INTERVAL: "20ms" },
    });
    expect(code).toBe(0);
    const config = JSON.parse(stdout) as { storage: { commitInterval: number; dir: string } };
    expect(config.storage).toMatchObject({ commitInterval: 20, dir: "/var/lib/edgewarden/ledger" });
  });
});

describe("the command surface", () => {
  it("answers version with exit 0", () => {
    const { code, stdout } = edgewarden(["version", "--json"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      edgewarden: expect.stringMatching(/^\d+\.\d+\.\d+/),
      configFormat: 1,
    });
  });

  it("registers receive with --help, and refuses a config it cannot read with exit 2", () => {
    const help = edgewarden(["receive", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes:/);
    const { code, stderr } = edgewarden(["receive", "-c", "x.yaml"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^x\.yaml:1:1: \(top level\): cannot read the config: no such file$/m);
  });

  it("exits 2 on an unknown command or option, and on a command group without its subcommand", () => {
    expect(edgewarden(["frobnicate"]).code).toBe(2);
    expect(edgewarden(["check", "--frobnicate"]).code).toBe(2);
    expect(edgewarden(["keys"]).code).toBe(2);
  });

  it("stops quietly when the reader closes the pipe early (EPIPE), as `| head` does", () => {
    // `true` exits without reading, long before node has started: every write meets a closed pipe.
    const result = spawnSync(
      "bash",
      ["-c", `"${process.execPath}" "${cliPath}" --help | true; echo "rc=\${PIPESTATUS[0]}" >&2`],
      {
        encoding: "utf8",
      },
    );
    expect(result.stderr).toBe("rc=0\n");
  });

  it("shows help with exit 0", () => {
    const { code, stdout } = edgewarden(["--help"]);
    expect(code).toBe(0);
    for (const command of [
      "run",
      "check",
      "poll",
      "keys",
      "ledger",
      "decrypt",
      "receive",
      "train",
      "backtest",
      "simulate",
      "demo",
      "status",
      "version",
    ]) {
      expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    }
  });
});
