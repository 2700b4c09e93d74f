/**
 * What `keys generate`, `keys rotate` and `keys export` do to key files, in memory (issue #3).
 * Writing them to disk is writeKeyFile.ts.
 */
import { randomBytes } from "@noble/hashes/utils.js";
import { deriveCheckpointKey, deriveDeviceKey, MASTER_KEY_BYTES } from "./derivation.js";
import { KeyLookupError } from "./errors.js";
import { deviceIdProblem, gatewayIdProblem, keyIdNumber } from "./identifiers.js";
import type { CheckpointKeyFile, DeviceKeyFile, GatewayKey, GatewayKeyFile } from "./keyFile.js";

/** A new gateway key file with one fresh 256-bit master secret, k1, active. */
export function newGatewayKeyFile(now: Date): GatewayKeyFile {
  return { kind: "gateway", active: "k1", keys: [newKey("k1", now)] };
}

/**
 * The file with one more key, k(max + 1), made active. The old keys stay: receivers and
 * `decrypt` still need them to open what was sealed before. The result shares the old keys'
 * secrets with `file`.
 */
export function rotateGatewayKeys(file: GatewayKeyFile, now: Date): GatewayKeyFile {
  const highest = Math.max(...file.keys.map((key) => keyIdNumber(key.id) ?? 0));
  const id = `k${highest + 1}`;
  return { kind: "gateway", active: id, keys: [...file.keys, newKey(id, now)] };
}

/**
 * The device key file of one device for an upstream consumer: the derived key under every key id
 * of the gateway file, so that the consumer can open old messages as well as new ones — and
 * nothing about any other device.
 */
export function exportDeviceKeys(file: GatewayKeyFile, deviceId: string, gatewayId?: string): DeviceKeyFile {
  const problem =
    deviceIdProblem(deviceId) ?? (gatewayId === undefined ? undefined : gatewayIdProblem(gatewayId));
  if (problem !== undefined) {
    throw new KeyLookupError(problem);
  }
  return {
    kind: "device",
    device: deviceId,
    ...(gatewayId === undefined ? {} : { gateway: gatewayId }),
    keys: file.keys.map((key) => ({ id: key.id, secret: deriveDeviceKey(key.secret, key.id, deviceId) })),
  };
}

/**
 * The checkpoint key file of a gateway for an upstream verifier (docs/protocol.md §8.5): the
 * checkpoint key under every key id, so checkpoints made before a rotation still verify. It
 * verifies (and could forge) checkpoint MACs, and opens no envelope: no device key and no master
 * secret can be had from it (HKDF outputs under distinct labels).
 */
export function exportCheckpointKeys(file: GatewayKeyFile, gatewayId?: string): CheckpointKeyFile {
  const problem = gatewayId === undefined ? undefined : gatewayIdProblem(gatewayId);
  if (problem !== undefined) {
    throw new KeyLookupError(problem);
  }
  return {
    kind: "checkpoint",
    ...(gatewayId === undefined ? {} : { gateway: gatewayId }),
    keys: file.keys.map((key) => ({ id: key.id, secret: deriveCheckpointKey(key.secret, key.id) })),
  };
}

function newKey(id: string, now: Date): GatewayKey {
  return { id, created: now.toISOString(), secret: randomBytes(MASTER_KEY_BYTES) };
}
