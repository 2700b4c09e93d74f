/**
 * The lookup the envelope uses (issue #3): (deviceId, keyId) -> 16-byte key, the same for a
 * gateway key file (which derives any device's key) and for an exported device key file (which
 * holds the keys of one device only). Sealing needs the active key id, which only a gateway file
 * has.
 */
import { deriveCheckpointKey, deriveDeviceKey, GATEWAY_KEY_DEVICE } from "./derivation.js";
import { KeyLookupError, quoteForMessage } from "./errors.js";
import { deviceIdProblem, keyIdProblem } from "./identifiers.js";
import type { CheckpointKeyFile, EnvelopeKeyFile, GatewayKeyFile } from "./keyFile.js";

export interface KeyRing {
  readonly kind: EnvelopeKeyFile["kind"];
  /** The key file the ring came from, for messages. */
  readonly source: string;
  /** Key ids in file order. */
  keyIds(): readonly string[];
  /** The key id new envelopes are sealed under; throws KeyLookupError for a device key file. */
  activeKeyId(): string;
  /**
   * The 16-byte key of `deviceId` under `keyId`, as a fresh array the caller may wipe. Throws
   * KeyLookupError for an invalid id, an unknown key id, or a device a device key file does not
   * hold.
   */
  deviceKey(deviceId: string, keyId: string): Uint8Array;
  /**
   * The 32-byte checkpoint key of `keyId` (issue #5, keyed checkpoints), as a fresh array. Only a
   * gateway key file derives it: throws KeyLookupError for a device key file or an unknown key id.
   */
  checkpointKey(keyId: string): Uint8Array;
}

/** A ring over a parsed key file. It keeps (does not copy) the file's secrets; wipe the file when done. */
export function keyRingOf(file: EnvelopeKeyFile, source: string): KeyRing {
  const keyIds = file.keys.map((key) => key.id);
  const findKey = (deviceId: string, keyId: string) => {
    const problem = deviceIdProblem(deviceId) ?? keyIdProblem(keyId);
    if (problem !== undefined) {
      throw new KeyLookupError(problem);
    }
    const key = file.keys.find((k) => k.id === keyId);
    if (key === undefined) {
      throw new KeyLookupError(
        `${source} has no key ${quoteForMessage(keyId)} (it holds ${keyIds.join(", ")}); was the key file rotated elsewhere?`,
      );
    }
    return key;
  };
  return {
    kind: file.kind,
    source,
    keyIds: () => keyIds,
    activeKeyId: () => {
      if (file.kind === "device") {
        throw new KeyLookupError(
          `${source} holds only the keys of device ${quoteForMessage(file.device)}; sealing needs the gateway key file`,
        );
      }
      return file.active;
    },
    deviceKey: (deviceId, keyId) => {
      if (file.kind === "device") {
        if (deviceId !== file.device) {
          throw new KeyLookupError(
            `${source} holds only the keys of device ${quoteForMessage(file.device)}, not of device ${quoteForMessage(deviceId)}`,
          );
        }
        return findKey(deviceId, keyId).secret.slice();
      }
      return deriveDeviceKey(findKey(deviceId, keyId).secret, keyId, deviceId);
    },
    checkpointKey: (keyId) => {
      if (file.kind === "device") {
        throw new KeyLookupError(
          `${source} holds only the keys of device ${quoteForMessage(file.device)}; checkpoint MACs need the gateway key file`,
        );
      }
      return deriveCheckpointKey(findKey(GATEWAY_KEY_DEVICE, keyId).secret, keyId);
    },
  };
}

/**
 * What verifies keyed checkpoints (docs/protocol.md §8.5): the gateway key file, which derives
 * the checkpoint keys, or an exported checkpoint key file (`keys export --checkpoint-key`), which
 * holds them and nothing else — so an upstream verifier needs no master secret.
 */
export interface CheckpointKeySource {
  readonly kind: "gateway" | "checkpoint";
  readonly source: string;
  keyIds(): readonly string[];
  /** The 32-byte checkpoint key of `keyId`, as a fresh array; KeyLookupError for an unknown key id. */
  checkpointKey(keyId: string): Uint8Array;
}

/** Checkpoint keys over a parsed file. It keeps (does not copy) the file's secrets; wipe the file when done. */
export function checkpointKeysOf(
  file: GatewayKeyFile | CheckpointKeyFile,
  source: string,
): CheckpointKeySource {
  if (file.kind === "gateway") {
    const ring = keyRingOf(file, source);
    return { kind: "gateway", source, keyIds: ring.keyIds, checkpointKey: ring.checkpointKey };
  }
  const keyIds = file.keys.map((key) => key.id);
  return {
    kind: "checkpoint",
    source,
    keyIds: () => keyIds,
    checkpointKey: (keyId) => {
      const problem = keyIdProblem(keyId);
      if (problem !== undefined) {
        throw new KeyLookupError(problem);
      }
      const key = file.keys.find((k) => k.id === keyId);
      if (key === undefined) {
        throw new KeyLookupError(
          `${source} has no checkpoint key ${quoteForMessage(keyId)} (it holds ${keyIds.join(", ")}); export it again after a rotation`,
        );
      }
      return key.secret.slice();
    },
  };
}
