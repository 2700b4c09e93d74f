/** A gateway key file (0600) in a test's temp dir, and its ring, as `edgewarden keys generate` makes them. */
import { join } from "node:path";
import {
  createKeyFile,
  type KeyRing,
  loadKeyRing,
  newGatewayKeyFile,
} from "../../../src/crypto/keys/index.js";

export async function gatewayKeyRing(
  dir: string,
): Promise<{ readonly path: string; readonly ring: KeyRing }> {
  const path = join(dir, "gateway.key");
  await createKeyFile(path, newGatewayKeyFile(new Date()));
  return { path, ring: await loadKeyRing(path) };
}
