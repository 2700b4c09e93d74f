/**
 * A pair of connected pseudo-terminals from socat, standing in for an RS-485 adapter and the bus
 * behind it. `a` and `b` are stable symlinks in `dir` (like /dev/serial/by-id names): kill()
 * removes them, which is how a test unplugs the adapter; starting a new pair with the same dir
 * and names replugs it (the pty behind the link changes, as a replugged USB adapter's ttyUSBn
 * may).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { waitUntil } from "./waitUntil.js";

export interface PtyPair {
  /** The side the code under test opens. */
  readonly a: string;
  /** The side the peer (pymodbus, a fault injector) opens. */
  readonly b: string;
  readonly pid: number;
  kill(): Promise<void>;
}

export async function startPtyPair(
  dir: string,
  names: { a: string; b: string } = { a: "a", b: "b" },
): Promise<PtyPair> {
  const a = join(dir, names.a);
  const b = join(dir, names.b);
  const child: ChildProcess = spawn(
    "socat",
    ["-d", "-d", `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exited = true;
      resolve();
    });
  });
  try {
    await waitUntil(() => exited || (existsSync(a) && existsSync(b)), `socat pty pair ${a} ${b}`, {
      timeoutMs: 5_000,
    });
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  if (exited || child.pid === undefined) {
    throw new Error(`socat exited early: ${stderr}`);
  }
  const pid = child.pid;
  return {
    a,
    b,
    pid,
    async kill() {
      if (!exited) {
        child.kill("SIGTERM");
        await exit;
      }
      // socat removes its links on SIGTERM; wait so a replug in the same dir cannot race it.
      await waitUntil(() => !existsSync(a) && !existsSync(b), `socat to remove ${a} ${b}`, {
        timeoutMs: 5_000,
      });
    },
  };
}
