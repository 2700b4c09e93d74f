/**
 * Spawning the built daemon (`node dist/cli.js run -c FILE`) with a clean environment and
 * optional preload fixtures, plus the config files and log-line predicates the tests share.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { isRecord, type JsonRecord, LineChild, type LinePredicate } from "./lineChild.js";
import { cliPath, fixturePath, repoRoot } from "./paths.js";
import type { Resources } from "./resources.js";

export const PID_FILE = "edgewarden.pid";

export function assertBuilt(): void {
  if (!existsSync(cliPath)) {
    throw new Error(`${cliPath} is missing: build first with npx tsc -p tsconfig.build.json`);
  }
}

export interface SpawnDaemonOptions {
  readonly config: string;
  /** Added to a minimal environment (PATH only), e.g. NOTIFY_SOCKET, WATCHDOG_USEC. */
  readonly env?: Readonly<Record<string, string>>;
  /** Fixture file names under test/fixtures, loaded with `node --import`. */
  readonly preload?: readonly string[];
  readonly name?: string;
  /** Open a Node IPC channel to the daemon (its messages collect in LineChild.messages). */
  readonly ipc?: boolean;
}

export function spawnDaemon(resources: Resources, options: SpawnDaemonOptions): LineChild {
  const preloads = (options.preload ?? []).flatMap((name) => [
    "--import",
    pathToFileURL(fixturePath(name)).href,
  ]);
  return resources.track(
    new LineChild(
      options.name ?? "daemon",
      process.execPath,
      [...preloads, cliPath, "run", "-c", options.config],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...options.env },
        ipc: options.ipc ?? false,
      },
    ),
  );
}

export interface ConfigOptions {
  readonly dataDir: string;
  readonly id?: string;
  readonly stopTimeout?: string;
  readonly startTimeout?: string;
  readonly interval?: string;
  readonly logLevel?: string;
}

/**
 * A runnable config, one key per line so that line numbers are known:
 * line 1 gateway, 2 id, 3 site, 4 dataDir, 5 stopTimeout, 6 startTimeout, 7 selfHealth,
 * 8 interval, 9 observability, 10 log, 11 level.
 */
export function configText(options: ConfigOptions): string {
  return [
    "gateway:",
    `  id: ${options.id ?? "gw-test"}`,
    "  site: lab",
    `  dataDir: ${options.dataDir}`,
    `  stopTimeout: ${options.stopTimeout ?? "5s"}`,
    `  startTimeout: ${options.startTimeout ?? "90s"}`,
    "selfHealth:",
    `  interval: ${options.interval ?? "1s"}`,
    "observability:",
    "  log:",
    `    level: ${options.logLevel ?? "info"}`,
    "",
  ].join("\n");
}

export async function writeConfig(path: string, options: ConfigOptions): Promise<string> {
  await writeFile(path, configText(options));
  return path;
}

/** A temp dir with a config file in it; returns both paths. */
export async function daemonSandbox(
  resources: Resources,
  options: Partial<ConfigOptions> = {},
): Promise<{ dir: string; dataDir: string; config: string; pidFile: string }> {
  const dir = await resources.tempDir("edgewarden-daemon-");
  const dataDir = join(dir, "data");
  const config = await writeConfig(join(dir, "config.yaml"), { ...options, dataDir });
  return { dir, dataDir, config, pidFile: join(dataDir, PID_FILE) };
}

/** Log-line predicates. */
export const hasMsg =
  (msg: string): LinePredicate =>
  (line) =>
    line.msg === msg;

export const componentMsg =
  (component: string, msg: string): LinePredicate =>
  (line) =>
    line.component === component && line.msg === msg;

export const hasEvent =
  (type: string): LinePredicate =>
  (line) =>
    isRecord(line.event) && line.event.type === type;

export function eventOf(line: JsonRecord): JsonRecord {
  if (!isRecord(line.event)) {
    throw new Error(`not an event line: ${JSON.stringify(line)}`);
  }
  return line.event;
}

export const RUNNING = hasMsg("edgewarden running");

/** Command names of the direct children of `pid` (ps from procps). */
export function childCommands(pid: number): string[] {
  const result = spawnSync("ps", ["--ppid", String(pid), "-o", "comm="], { encoding: "utf8" });
  if (result.error !== undefined) {
    throw result.error;
  }
  return result.stdout
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/** Components every daemon runs between the instance lock and the sources (issue #5), uplink off. */
export const OUTBOX_COMPONENTS = ["ledger", "ledger-events", "pipeline-metrics", "sample-pipeline"] as const;

export interface EdgewardenRunOptions {
  /** Added to a minimal environment (PATH only), e.g. EDGEWARDEN_* overrides. */
  readonly env?: Readonly<Record<string, string>>;
  /** Written to the CLI's stdin, which is then closed (e.g. `decrypt`'s JSON lines). */
  readonly input?: string;
  /** Largest stdout or stderr kept, in bytes (spawnSync's default is 1 MiB). */
  readonly maxBuffer?: number;
}

export interface EdgewardenResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** How long one CLI run may take before it is killed (code null): a hung command fails its test. */
export const EDGEWARDEN_TIMEOUT_MS = 20_000;

/** Runs the built CLI to completion. */
export function edgewarden(args: readonly string[], options: EdgewardenRunOptions = {}): EdgewardenResult {
  const result = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: repoRoot,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...options.env },
    timeout: EDGEWARDEN_TIMEOUT_MS,
    ...(options.input === undefined ? {} : { input: options.input }),
    ...(options.maxBuffer === undefined ? {} : { maxBuffer: options.maxBuffer }),
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * edgewarden() without blocking this process: for a CLI whose peer this test process serves or
 * reads (a pymodbus server's pipes, a broker), which a blocked event loop would stall.
 */
export function edgewardenAsync(
  args: readonly string[],
  options: Omit<EdgewardenRunOptions, "maxBuffer"> = {},
): Promise<EdgewardenResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...options.env },
      timeout: EDGEWARDEN_TIMEOUT_MS,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

/** Every entry of a stopped daemon's ledger, parsed (`ledger tail`); or only the last `last`. */
export function ledgerEntries(dir: string, last = 1_000_000): JsonRecord[] {
  const tail = edgewarden(["ledger", "tail", "-d", dir, "-n", String(last)], { maxBuffer: 1 << 30 });
  if (tail.code !== 0) {
    throw new Error(`ledger tail -d ${dir} exited ${tail.code}: ${tail.stderr}`);
  }
  return tail.stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as JsonRecord);
}
