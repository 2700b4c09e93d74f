/**
 * `edgewarden demo` (issue #7 item 4, must-show: "`npm run demo -- --duration 60` on a fresh
 * clone, with no broker or database installed, prints decrypted readings and at least one anomaly
 * of the injected type, and exits 0"). The built CLI runs with stdout a pipe (plain-log mode),
 * with no EDGEWARDEN_* in its environment; afterwards its daemon child must be gone and its temp
 * dir removed.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, edgewarden } from "../helpers/daemon.js";
import { cliPath, repoRoot } from "../helpers/paths.js";

beforeAll(() => {
  assertBuilt();
});

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runDemo(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, "demo", ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

describe("edgewarden demo", () => {
  it("runs broker, simulator, daemon and receiver for 60 s: decrypted readings, the injected overload as an anomaly, exit 0, nothing left behind", async () => {
    const run = await runDemo(["--duration", "60"]);
    const context = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
    expect(run.code, context).toBe(0);

    // Plain-log mode: stdout is not a TTY, so no escape sequences.
    expect(run.stdout).not.toContain("\u001b[");
    // Readings as the receiver opened them: the drive's fast group, every tag with a value.
    expect(run.stdout).toMatch(
      /^reading demo-gw\/mill-drive motor_current=[\d.]+ A supply_voltage=[\d.]+ V active_power=[\d.]+ kW power_factor=[\d.]+ \(seq \d+\)$/m,
    );
    expect(run.stdout).toMatch(/^reading demo-gw\/press-line run_state=true /m);
    // The injected fault, typed by the drive's power profile and received sealed on the alerts stream.
    expect(run.stdout).toMatch(
      /^demo: fault injected through the simulator's control interface: overload on mill-drive/m,
    );
    expect(run.stdout).toMatch(
      /^anomaly overload mill-drive raised (LOW|MEDIUM|HIGH|CRITICAL) score [\d.]+: /m,
    );
    expect(run.stdout).toMatch(/^checkpoint demo-gw seq \d+ vouches for seq \d+: MAC verified$/m);
    expect(run.stdout).toMatch(/^summary: anomalies raised: .*overload x1/m);
    expect(run.stdout).toMatch(
      /^summary: receiver: \d+ records opened and verified .*; 0 rejected, 0 gaps, 0 tampered/m,
    );

    // Nothing outlives the demo: its daemon child is gone and its temp dir removed.
    const pid = Number(/daemon pid (\d+)/.exec(run.stdout)?.[1]);
    expect(pid, context).toBeGreaterThan(0);
    expect(isAlive(pid)).toBe(false);
    const workspace = /^demo: workspace (\S+) /m.exec(run.stdout)?.[1] ?? "";
    expect(workspace, context).toMatch(/edgewarden-demo-/);
    expect(existsSync(workspace)).toBe(false);
  }, 180_000);

  it("refuses a bad --duration or --seed with exit 2 before starting anything", () => {
    const { code, stderr, stdout } = edgewarden(["demo", "--duration", "soon", "--seed", "-1"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--duration: expected whole seconds 1-604800, got soon/);
    expect(stderr).toMatch(/--seed: expected a whole number 0-4294967295, got -1/);
    expect(stdout).toBe("");
  });
});
