/**
 * Thousands of reconnects leave nothing behind (issue #4: "memory leaks on exception paths" are a
 * top complaint about gateways): no listeners on a long-lived signal, no open handles, no warning
 * about too many listeners, and a heap that does not grow with the number of cycles.
 */
import { getEventListeners } from "node:events";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, expect, it } from "vitest";
import { ReconnectingStream } from "../../../src/sources/link/reconnectingStream.js";
import { tcpConnector } from "../../../src/sources/link/tcpConnector.js";
import { type LocalTcpServer, startLocalTcpServer } from "../../helpers/localTcpServer.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function handleCount(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === "TCPSocketWrap" || kind === "Timeout")
    .length;
}

let peer: LocalTcpServer | undefined;
let stream: ReconnectingStream | undefined;
afterEach(async () => {
  await stream?.stop();
  await peer?.close();
});

/** Runs until the stream has connected `target` times in all; every connection is cut at once. */
async function cycles(target: number, signal: AbortSignal): Promise<void> {
  if (stream === undefined) {
    throw new Error("no stream");
  }
  while (stream.connects < target) {
    // A waiter with a long-lived signal on every cycle: its listener must go when it settles.
    await stream.whenConnected(1_000, signal);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

it("2000 connect/close cycles leak no listeners, handles or heap", { timeout: 60_000 }, async () => {
  peer = await startLocalTcpServer((socket) => {
    socket.write(Buffer.from([1, 2, 3, 4]));
    socket.destroy();
  });
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(warning);
  };
  process.on("warning", onWarning);
  const longLived = new AbortController();
  let bytes = 0;
  stream = new ReconnectingStream(tcpConnector("127.0.0.1", peer.port), { initialDelayMs: 0, maxDelayMs: 1 });
  stream.onData((chunk) => {
    bytes += chunk.length;
  });
  await stream.start(longLived.signal);

  await cycles(200, longLived.signal);
  const heapBefore = heapAfterGc();
  const handlesBefore = handleCount();
  await cycles(2_200, longLived.signal);
  const heapAfter = heapAfterGc();
  const handlesAfter = handleCount();
  process.off("warning", onWarning);

  expect(stream.connects).toBeGreaterThanOrEqual(2_200);
  expect(stream.disconnects).toBeGreaterThanOrEqual(2_199);
  expect(bytes).toBeGreaterThan(0);
  expect(getEventListeners(longLived.signal, "abort")).toHaveLength(0);
  expect(warnings.map((w) => w.message)).toEqual([]);
  // One socket and one timer at most belong to the stream at any moment; allow a few in passing.
  expect(handlesAfter).toBeLessThanOrEqual(handlesBefore + 4);
  // 2000 leaked sockets or closures would be megabytes; the rough bound leaves room for JIT noise.
  expect(heapAfter - heapBefore).toBeLessThan(4 * 1024 * 1024);
});
