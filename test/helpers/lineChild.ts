/**
 * A child process whose stdout is JSON lines (the daemon's pino log, the fake notify socket's
 * datagrams): collects them as they arrive and lets a test wait, with a timeout, until one
 * matches. Waiting fails at once, with the output so far, if the child exits first.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

export type JsonRecord = Record<string, unknown>;

export interface ExitResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface WaitOptions {
  /** Default 15 s: generous for a loaded CI box; a healthy run needs well under a second. */
  readonly timeoutMs?: number;
  /** Only lines at or after this index count. */
  readonly from?: number;
}

export type LinePredicate = (line: JsonRecord) => boolean;

const DEFAULT_TIMEOUT_MS = 15_000;

export function isRecord(value: unknown): value is JsonRecord {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

export interface LineChildOptions {
  readonly cwd?: string;
  readonly env: NodeJS.ProcessEnv;
  /** Also open a Node IPC channel; the child's process.send() messages collect in `messages`. */
  readonly ipc?: boolean;
}

export class LineChild {
  readonly name: string;
  readonly lines: JsonRecord[] = [];
  /** IPC messages from the child, in arrival order (only with the `ipc` option). */
  readonly messages: unknown[] = [];
  readonly exited: Promise<ExitResult>;
  readonly #child: ChildProcess;
  readonly #listeners = new Set<() => void>();
  #stderr = "";
  #exit: ExitResult | undefined;

  constructor(name: string, command: string, args: readonly string[], options: LineChildOptions) {
    this.name = name;
    this.#child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: options.ipc === true ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
    });
    this.#child.on("message", (message: unknown) => {
      this.messages.push(message);
      this.#notify();
    });
    const stdout = this.#child.stdout;
    const stderr = this.#child.stderr;
    if (stdout === null || stderr === null) {
      throw new Error(`${name}: no stdout/stderr pipes`);
    }
    createInterface({ input: stdout }).on("line", (text) => {
      this.lines.push(parseLine(text));
      this.#notify();
    });
    stderr.setEncoding("utf8");
    stderr.on("data", (chunk: string) => {
      this.#stderr += chunk;
      this.#notify();
    });
    this.exited = new Promise<ExitResult>((resolve) => {
      // 'close' comes after stdio has ended, so every line is collected by then.
      this.#child.once("close", (code, signal) => {
        this.#exit = { code, signal };
        this.#notify();
        resolve(this.#exit);
      });
      this.#child.once("error", (error) => {
        this.#stderr += `spawn error: ${error.message}\n`;
      });
    });
  }

  get pid(): number {
    const pid = this.#child.pid;
    if (pid === undefined) {
      throw new Error(`${this.name} has no pid (spawn failed?)\n${this.describe()}`);
    }
    return pid;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Undefined while the child runs. */
  get exitResult(): ExitResult | undefined {
    return this.#exit;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.#exit !== undefined) {
      throw new Error(`${this.name} already exited; cannot send ${signal}\n${this.describe()}`);
    }
    this.#child.kill(signal);
  }

  indexOf(predicate: LinePredicate, from = 0): number {
    for (let index = Math.max(0, from); index < this.lines.length; index++) {
      const line = this.lines[index];
      if (line !== undefined && predicate(line)) {
        return index;
      }
    }
    return -1;
  }

  filter(predicate: LinePredicate, from = 0): JsonRecord[] {
    return this.lines.slice(from).filter(predicate);
  }

  /** Resolves with the index of the first matching line. */
  waitForIndex(predicate: LinePredicate, description: string, options: WaitOptions = {}): Promise<number> {
    const from = options.from ?? 0;
    return this.#waitUntil(description, options.timeoutMs, () => {
      const index = this.indexOf(predicate, from);
      return index >= 0 ? index : undefined;
    });
  }

  async waitFor(
    predicate: LinePredicate,
    description: string,
    options: WaitOptions = {},
  ): Promise<JsonRecord> {
    const index = await this.waitForIndex(predicate, description, options);
    const line = this.lines[index];
    if (line === undefined) {
      throw new Error(`line ${index} vanished`);
    }
    return line;
  }

  /** Waits until `count` lines (from `from` on) match. */
  waitForCount(
    predicate: LinePredicate,
    count: number,
    description: string,
    options: WaitOptions = {},
  ): Promise<number> {
    const from = options.from ?? 0;
    return this.#waitUntil(description, options.timeoutMs, () => {
      const seen = this.filter(predicate, from).length;
      return seen >= count ? seen : undefined;
    });
  }

  waitForStderr(text: string, options: { readonly timeoutMs?: number } = {}): Promise<void> {
    return this.#waitUntil(`stderr to contain ${JSON.stringify(text)}`, options.timeoutMs, () =>
      this.#stderr.includes(text) ? true : undefined,
    ).then(() => undefined);
  }

  async waitForExit(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ExitResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.name} did not exit within ${timeoutMs} ms\n${this.describe()}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** For cleanup: SIGKILL if still running, then wait for the exit. */
  async kill(): Promise<void> {
    if (this.#exit === undefined && this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill("SIGKILL");
    }
    if (this.#child.pid !== undefined) {
      await this.exited;
    }
  }

  /** The tail of the output, for failure messages. */
  describe(): string {
    const tail = this.lines
      .slice(-40)
      .map((line) => JSON.stringify(line))
      .join("\n");
    const exit =
      this.#exit === undefined ? "running" : `exited code=${this.#exit.code} signal=${this.#exit.signal}`;
    return `--- ${this.name} (${exit}) stdout tail:\n${tail}\n--- stderr:\n${this.#stderr.slice(-4000)}`;
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) {
      listener();
    }
  }

  #waitUntil<T>(description: string, timeoutMs: number | undefined, probe: () => T | undefined): Promise<T> {
    const limit = timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      const check = (): void => {
        const value = probe();
        if (value !== undefined) {
          finish();
          resolve(value);
        } else if (this.#exit !== undefined) {
          finish();
          reject(new Error(`${this.name} exited before ${description}\n${this.describe()}`));
        }
      };
      timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${limit} ms waiting for ${description}\n${this.describe()}`));
      }, limit);
      this.#listeners.add(check);
      check();
    });
  }
}

function parseLine(text: string): JsonRecord {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : { raw: text };
  } catch {
    return { raw: text };
  }
}
