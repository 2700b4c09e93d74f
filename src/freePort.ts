/**
 * A TCP port that is free on `host` right now: the OS picks it for a probe that closes at once.
 * For the simulator and the demo, whose servers (modbus-serial's ServerTCP, the status endpoint's
 * config) cannot take port 0 themselves; someone else may bind it before the caller does, so it is
 * for tests, the demo and tools, not for a production listener.
 */
import { createServer } from "node:net";

export async function freeTcpPort(host = "127.0.0.1"): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen(0, host, () => resolve());
  });
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address !== "object") {
    throw new Error(`no free TCP port on ${host}`);
  }
  return address.port;
}
