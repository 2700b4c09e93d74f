/**
 * Golden config cases (issue #2, FAULTS 8.6 and the register-limit row of 8.3): each folder under
 * test/config/golden/ holds a config.yaml, the exact lines the loader must report for it in
 * expected.txt (`config.yaml:LINE:COL: path: message`, errors in file order, then warnings) and,
 * optionally, env.json with the EDGEWARDEN_* variables to apply. See golden/README.md.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatIssue } from "../../src/config/configIssue.js";
import { type LoadResult, loadConfigFile } from "../../src/config/loadConfig.js";
import { cliPath, repoRoot } from "../helpers/paths.js";

const GOLDEN_DIR = join(repoRoot, "test", "config", "golden");
const MIN_CASES = 30;
/** The documented size cap: 1 MiB, checked before the file is parsed. */
const SIZE_CAP_BYTES = 1024 * 1024;
const SKELETON = "gateway:\n  id: gw-1\n  site: lab\n";

interface GoldenCase {
  readonly name: string;
  readonly dir: string;
}

/** The lines of a text file, without the final newline; an empty file has no lines. */
function readLines(path: string): string[] {
  const text = readFileSync(path, "utf8").replace(/\r?\n$/, "");
  return text === "" ? [] : text.split(/\r?\n/);
}

/** The case's env.json, checked to be a flat object of EDGEWARDEN_* strings, or {}. */
function readEnv(dir: string): Record<string, string> {
  const path = join(dir, "env.json");
  if (!existsSync(path)) {
    return {};
  }
  const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new Error(`${path}: expected an object of environment variables`);
  }
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (!name.startsWith("EDGEWARDEN_") || typeof value !== "string") {
      throw new Error(`${path}: ${name} must be an EDGEWARDEN_* variable with a string value`);
    }
    env[name] = value;
  }
  return env;
}

function discoverCases(): GoldenCase[] {
  return readdirSync(GOLDEN_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => ({ name: entry.name, dir: join(GOLDEN_DIR, entry.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** What `check` prints: for a failed load its errors then warnings, for a good one its warnings. */
function issueLines(result: LoadResult): string[] {
  const issues = result.ok ? result.warnings : [...result.errors, ...result.warnings];
  return issues.map(formatIssue);
}

/** `PLACE: path: warning: message` is a warning; every other line is an error. */
function isWarningLine(line: string): boolean {
  return /^\S+: (?:\(top level\)|\S+): warning: /.test(line);
}

function load(path: string, env: Record<string, string>): Promise<LoadResult> {
  return loadConfigFile(path, { displayName: "config.yaml", env });
}

const cases = discoverCases();

describe("golden config cases", () => {
  it(`finds at least ${MIN_CASES} cases`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(MIN_CASES);
  });

  for (const golden of cases) {
    it(golden.name, async () => {
      const configPath = join(golden.dir, "config.yaml");
      const expectedPath = join(golden.dir, "expected.txt");
      expect(existsSync(configPath), `${golden.name} has no config.yaml`).toBe(true);
      expect(existsSync(expectedPath), `${golden.name} has no expected.txt`).toBe(true);
      const expected = readLines(expectedPath);
      const result = await load(configPath, readEnv(golden.dir));
      expect(issueLines(result)).toEqual(expected);
      const expectsErrors = expected.some((line) => !isWarningLine(line));
      expect(result.ok, expectsErrors ? "expected errors, so not ok" : "expected no errors, so ok").toBe(
        !expectsErrors,
      );
    });
  }
});

describe("size cap", () => {
  async function loadWithSize(bytes: number): Promise<LoadResult> {
    const dir = await mkdtemp(join(tmpdir(), "edgewarden-golden-"));
    try {
      const path = join(dir, "config.yaml");
      // A valid config padded with one long comment line: only the size can be wrong with it.
      const text = `${SKELETON}#${"x".repeat(bytes - SKELETON.length - 2)}\n`;
      expect(Buffer.byteLength(text)).toBe(bytes);
      await writeFile(path, text);
      return await load(path, {});
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it("refuses a config larger than 1 MiB with a single error at 1:1", async () => {
    const result = await loadWithSize(SIZE_CAP_BYTES + 1);
    expect(issueLines(result)).toEqual([
      "config.yaml:1:1: (top level): the config is larger than 1024 KiB; a hand-written config never is",
    ]);
    expect(result.ok).toBe(false);
  });

  it("accepts a config of exactly 1 MiB", async () => {
    const result = await loadWithSize(SIZE_CAP_BYTES);
    expect(issueLines(result)).toEqual([]);
    expect(result.ok).toBe(true);
  });
});

describe("edgewarden check on a golden case", () => {
  it("exits 2 and prints the three errors of three-errors-in-three-places with the path as given", () => {
    const file = "test/config/golden/three-errors-in-three-places/config.yaml";
    expect(existsSync(cliPath), `${cliPath} is missing: run npm run build first`).toBe(true);
    // The CLI applies overrides from its environment: give it none.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith("EDGEWARDEN_")),
    );
    const result = spawnSync(process.execPath, [cliPath, "check", "-c", file], {
      cwd: repoRoot,
      env,
      encoding: "utf8",
      timeout: 30_000,
    });
    const expected = readLines(join(GOLDEN_DIR, "three-errors-in-three-places", "expected.txt")).map((line) =>
      line.replace(/^config\.yaml:/, `${file}:`),
    );
    expect(expected).toHaveLength(3);
    expect(result.stdout.split("\n").filter((line) => line !== "")).toEqual(expected);
    expect(result.status).toBe(2);
  });
});
