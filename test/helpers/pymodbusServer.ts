/**
 * Starts test/fixtures/pymodbus/server.py: Debian's pymodbus 3.0 serving a datastore the test
 * gives, over Modbus TCP, RTU over TCP, or RTU on a serial device (one side of a socat pty pair,
 * see ptyPair.ts). Resolves once the server prints READY; kill() ends it by pid and waits for the
 * exit. Passing the `port` of a killed server starts a new one in its place (a restarted device).
 *
 * The datastore goes in on stdin, which stays open: if the test runner dies, the server sees EOF
 * and exits, so no orphan keeps a port.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";

export type PymodbusTransport = "tcp" | "rtu-over-tcp" | "rtu";

/** Start address (zero-based, as on the wire) → consecutive values from there. */
export type RegisterRuns = Readonly<Record<number, readonly number[]>>;
export type BitRuns = Readonly<Record<number, readonly boolean[]>>;

export interface PymodbusUnit {
  readonly holding?: RegisterRuns;
  readonly input?: RegisterRuns;
  readonly coils?: BitRuns;
  readonly discretes?: BitRuns;
  /**
   * Addresses removed from the tables: a read touching one answers exception 02 ILLEGAL DATA
   * ADDRESS. So does any address not given at all (the tables are sparse).
   */
  readonly holes?: {
    readonly holding?: readonly number[];
    readonly input?: readonly number[];
    readonly coils?: readonly number[];
    readonly discretes?: readonly number[];
  };
}

export interface PymodbusServerOptions {
  readonly transport: PymodbusTransport;
  /** TCP transports: the port to bind; default 0 (a free one, reported back). */
  readonly port?: number;
  /** rtu: the serial device path (e.g. PtyPair.b). */
  readonly device?: string;
  readonly baud?: number;
  /** A pty rejects parity; the server then serves with N and says so on stderr. */
  readonly parity?: "N" | "E" | "O";
  readonly stopBits?: 1 | 2;
  /** Unit id → its tables. Unit ids not listed get no reply. */
  readonly units: Readonly<Record<number, PymodbusUnit>>;
  readonly readyTimeoutMs?: number;
}

export interface PymodbusServer {
  /** The TCP port served (TCP transports); 0 for rtu. */
  readonly port: number;
  /** The serial device served (rtu). */
  readonly device: string | undefined;
  readonly pid: number;
  /** What the server wrote on stderr so far (pymodbus warnings, exceptions it answered). */
  stderr(): string;
  /** SIGKILL by default (a crash or power cut); resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export const PYTHON = "/usr/bin/python3";
export const PYMODBUS_SERVER_SCRIPT = join(import.meta.dirname, "..", "fixtures", "pymodbus", "server.py");

function serverArgs(options: PymodbusServerOptions): string[] {
  const args = [PYMODBUS_SERVER_SCRIPT, options.transport];
  if (options.transport === "rtu") {
    if (options.device === undefined) {
      throw new Error("startPymodbusServer: rtu needs a device");
    }
    args.push("--device", options.device);
    args.push("--baud", String(options.baud ?? 9600));
    args.push("--parity", options.parity ?? "N");
    args.push("--stopbits", String(options.stopBits ?? 1));
  } else {
    args.push("--port", String(options.port ?? 0));
  }
  return args;
}

export async function startPymodbusServer(options: PymodbusServerOptions): Promise<PymodbusServer> {
  const child: ChildProcess = spawn(PYTHON, serverArgs(options), { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr += chunk;
  });
  // Writes to the server's stdin after it has died must not become an uncaught EPIPE.
  child.stdin?.on("error", () => undefined);
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  child.stdin?.write(`${JSON.stringify({ units: options.units })}\n`);

  const stdout = child.stdout;
  if (stdout === null) {
    throw new Error("pymodbus server: no stdout pipe");
  }
  const timeoutMs = options.readyTimeoutMs ?? 15_000;
  const readyLine = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: stdout });
    const timer = setTimeout(() => finish(new Error(`no READY within ${timeoutMs} ms`)), timeoutMs);
    const onExit = (): void => finish(new Error("exited before READY"));
    function finish(result: string | Error): void {
      clearTimeout(timer);
      child.off("exit", onExit);
      lines.close();
      // Keep draining stdout so the server can never block on a full pipe.
      stdout?.resume();
      if (typeof result === "string") {
        resolve(result);
      } else {
        child.kill("SIGKILL");
        reject(new Error(`pymodbus ${options.transport} server: ${result.message}\n${stderr}`));
      }
    }
    lines.on("line", (line) => {
      if (line.startsWith("READY ")) {
        finish(line.slice("READY ".length));
      }
    });
    child.once("exit", onExit);
  });

  const pid = child.pid;
  if (pid === undefined) {
    throw new Error(`pymodbus server has no pid\n${stderr}`);
  }
  const rtu = options.transport === "rtu";
  return {
    port: rtu ? 0 : Number(readyLine),
    device: rtu ? readyLine : undefined,
    pid,
    stderr: () => stderr,
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      if (!hasExited) {
        try {
          process.kill(pid, signal);
        } catch {
          // Already gone between the check and the kill.
        }
      }
      await exited;
    },
  };
}
