/**
 * A pymodbus 3.0 TCP server (Debian python3-pymodbus, the same third-party peer as the tests)
 * serving a datastore the bench describes, in the format of test/fixtures/pymodbus/server.py:
 * {"units": {"1": {"holding": {"0": [1, 2, 3]}}}}. Shared by scripts/bench/poll.ts (issue #4) and
 * scripts/bench/analyticsRetrain.ts (issue #6).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";

export interface PymodbusDatastore {
  readonly units: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export interface PymodbusServer {
  readonly port: number;
  readonly child: ChildProcess;
}

/** Spawns the fixture server on a free port; resolves once it prints READY. The caller kills `child`. */
export async function startPymodbusServer(datastore: PymodbusDatastore): Promise<PymodbusServer> {
  const script = join(
    import.meta.dirname,
    "..",
    "..",
    "..",
    "..",
    "test",
    "fixtures",
    "pymodbus",
    "server.py",
  );
  const child = spawn("/usr/bin/python3", [script, "tcp", "--port", "0"], {
    // pymodbus logs every connection the benches open and close; not the benchmark's output.
    stdio: ["pipe", "pipe", "ignore"],
  });
  // The server exits when its stdin reaches EOF, so stdin stays open for as long as it runs.
  child.stdin?.write(`${JSON.stringify(datastore)}\n`);
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  for await (const line of lines) {
    const match = /^READY (\d+)/.exec(line);
    if (match?.[1] !== undefined) {
      return { port: Number(match[1]), child };
    }
  }
  throw new Error("pymodbus server exited before READY");
}
