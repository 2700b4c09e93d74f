/**
 * Starts test/fixtures/rtuFaultPeer.py (a fault-injecting RTU slave, see its header for the
 * address-selected faults) on one end of a pty pair and waits until it listens.
 */
import { fileURLToPath } from "node:url";
import { LineChild } from "./lineChild.js";

const SCRIPT = fileURLToPath(new URL("../fixtures/rtuFaultPeer.py", import.meta.url));

export interface RtuFaultPeerOptions {
  /** Delay of the 200..299 "late reply" mode. */
  readonly lateMs?: number;
  /** Gap between bytes of the 500..599 "byte by byte" mode. */
  readonly gapMs?: number;
}

export async function startRtuFaultPeer(port: string, options: RtuFaultPeerOptions = {}): Promise<LineChild> {
  const args = [SCRIPT, "--port", port];
  if (options.lateMs !== undefined) {
    args.push("--late-ms", String(options.lateMs));
  }
  if (options.gapMs !== undefined) {
    args.push("--gap-ms", String(options.gapMs));
  }
  // Debian's /usr/bin/python3, like the pymodbus fixtures (the python3 on PATH may differ).
  const peer = new LineChild("rtuFaultPeer", "/usr/bin/python3", args, { env: process.env });
  try {
    await peer.waitFor((line) => line.ev === "ready", "fault peer ready", { timeoutMs: 10_000 });
  } catch (error) {
    await peer.kill();
    throw error;
  }
  return peer;
}
