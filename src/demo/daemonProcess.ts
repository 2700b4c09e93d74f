/**
 * The demo's daemon as a child process (issue #7 item 4), `node dist/cli.js run -c <tmp>/demo.yaml`,
 * exactly as systemd runs it, so that its signals, logs and exit codes behave as in production.
 * Its stdout and stderr (pino JSON lines) go to a log file in the demo's temp dir; the demo shows
 * that file's tail when the daemon dies. The environment is the demo's minus EDGEWARDEN_*
 * overrides and systemd's notify/watchdog variables: the demo runs what its config file says.
 *
 * The constructor does no I/O; start() spawns, stop() sends SIGTERM and waits (SIGKILL after the
 * grace period), so no child outlives the demo.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { open, readFile } from "node:fs/promises";

export interface DaemonExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Lines of the daemon's log shown when it died. */
const TAIL_LINES = 30;

export class DaemonProcess {
  #child: ChildProcess | undefined;
  #exited: Promise<DaemonExit> | undefined;
  #exit: DaemonExit | undefined;

  constructor(
    private readonly cliPath: string,
    private readonly configPath: string,
    private readonly logPath: string,
  ) {}

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Set once the daemon has exited. */
  get exit(): DaemonExit | undefined {
    return this.#exit;
  }

  /** Resolves when the daemon exits, for whatever reason. */
  get exited(): Promise<DaemonExit> {
    if (this.#exited === undefined) {
      throw new Error("the daemon is not started");
    }
    return this.#exited;
  }

  async start(): Promise<number> {
    const log = await open(this.logPath, "a", 0o600);
    try {
      const child = spawn(process.execPath, [this.cliPath, "run", "-c", this.configPath], {
        stdio: ["ignore", log.fd, log.fd],
        env: daemonEnvironment(process.env),
      });
      this.#child = child;
      this.#exited = new Promise<DaemonExit>((resolve) => {
        child.once("exit", (code, signal) => {
          this.#exit = { code, signal };
          resolve(this.#exit);
        });
        child.once("error", () => {
          this.#exit = { code: null, signal: null };
          resolve(this.#exit);
        });
      });
      await new Promise<void>((resolve, reject) => {
        child.once("spawn", () => resolve());
        child.once("error", reject);
      });
      return child.pid ?? 0;
    } finally {
      // The child holds its own copy of the descriptor.
      await log.close();
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within graceMs; resolves once it is gone. */
  async stop(graceMs: number): Promise<DaemonExit | undefined> {
    const child = this.#child;
    if (child === undefined || this.#exited === undefined) {
      return undefined;
    }
    if (this.#exit !== undefined) {
      return this.#exit;
    }
    child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve(undefined);
      }, graceMs);
    });
    await Promise.race([this.#exited, killed]);
    clearTimeout(timer);
    return this.#exited;
  }

  /** The last lines of the daemon's log, for a failure message. */
  async logTail(lines = TAIL_LINES): Promise<string> {
    const text = await readFile(this.logPath, "utf8").catch(() => "");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  }
}

function daemonEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith("EDGEWARDEN_") || ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"].includes(name)) {
      continue;
    }
    out[name] = value;
  }
  return out;
}
