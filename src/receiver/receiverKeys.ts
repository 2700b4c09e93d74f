/**
 * The keys a receiver holds (issue #7 item 2; docs/protocol.md §2.4, §8.5): gateway key files
 * (every device and the checkpoint keys of one gateway), exported device key files (one device)
 * and exported checkpoint key files, each bound to the gateway id it belongs to. A key file does
 * not reliably name its gateway (`gateway` is optional and informational), so the receiver's
 * config binds it; a file bound to no gateway is tried for every gateway after the bound ones.
 * Lookup is by the authenticated header's (gw, dev, kid).
 */
import type { DeviceKeySource } from "../crypto/envelope/index.js";
import {
  type CheckpointKeySource,
  checkpointKeysOf,
  type KeyFile,
  KeyLookupError,
  type KeyRing,
  keyRingOf,
} from "../crypto/keys/index.js";

/** Distinct (gateway, device, key id) keys kept derived; a handful per gateway in practice. */
export const DERIVED_KEY_CACHE_LIMIT = 4_096;

export interface ReceiverKeyFile {
  readonly file: KeyFile;
  /** Where it came from, for messages. */
  readonly source: string;
  /** The gateway id it serves; undefined: any gateway (one-gateway setups). */
  readonly gateway?: string | undefined;
}

interface Bound<T> {
  readonly gateway: string | undefined;
  readonly keys: T;
}

export class ReceiverKeys {
  readonly #rings: readonly Bound<KeyRing>[];
  readonly #checkpoints: readonly Bound<CheckpointKeySource>[];
  readonly #derived = new Map<string, Uint8Array>();

  constructor(files: readonly ReceiverKeyFile[]) {
    const rings: Bound<KeyRing>[] = [];
    const checkpoints: Bound<CheckpointKeySource>[] = [];
    for (const { file, source, gateway } of files) {
      if (file.kind !== "checkpoint") {
        rings.push({ gateway, keys: keyRingOf(file, source) });
      }
      if (file.kind !== "device") {
        checkpoints.push({ gateway, keys: checkpointKeysOf(file, source) });
      }
    }
    // Files bound to the gateway come first, so an unbound file never shadows a bound one.
    const boundFirst = <T>(list: Bound<T>[]) =>
      list.sort((a, b) => Number(a.gateway === undefined) - Number(b.gateway === undefined));
    this.#rings = boundFirst(rings);
    this.#checkpoints = boundFirst(checkpoints);
  }

  /**
   * The device keys of `gateway`, for openEnvelope; KeyLookupError when no file holds (dev, kid).
   * Derived keys are cached (bounded, cleared whole when full) and handed out as copies, since
   * openEnvelope wipes the key it used: an HKDF per message would cost more than opening it.
   */
  deviceKeysOf(gateway: string): DeviceKeySource {
    return {
      deviceKey: (deviceId, keyId) => {
        const id = `${gateway}\u0000${deviceId}\u0000${keyId}`;
        let key = this.#derived.get(id);
        if (key === undefined) {
          const rings = this.#rings.filter((r) => r.gateway === undefined || r.gateway === gateway);
          key = firstHolding(rings, (ring) => ring.deviceKey(deviceId, keyId), `gateway ${gateway}`);
          if (this.#derived.size >= DERIVED_KEY_CACHE_LIMIT) {
            for (const old of this.#derived.values()) {
              old.fill(0);
            }
            this.#derived.clear();
          }
          this.#derived.set(id, key);
        }
        return key.slice();
      },
    };
  }

  /** The 32-byte checkpoint key of (gateway, kid), or undefined when none is held (unverifiable, §8.5). */
  checkpointKey(gateway: string, keyId: string): Uint8Array | undefined {
    const sources = this.#checkpoints.filter((c) => c.gateway === undefined || c.gateway === gateway);
    try {
      return firstHolding(sources, (keys) => keys.checkpointKey(keyId), `gateway ${gateway}`);
    } catch (error) {
      if (error instanceof KeyLookupError) {
        return undefined;
      }
      throw error;
    }
  }
}

function firstHolding<T>(
  candidates: readonly Bound<T>[],
  get: (keys: T) => Uint8Array,
  what: string,
): Uint8Array {
  const misses: string[] = [];
  for (const candidate of candidates) {
    try {
      return get(candidate.keys);
    } catch (error) {
      if (!(error instanceof KeyLookupError)) {
        throw error;
      }
      misses.push(error.message);
    }
  }
  throw new KeyLookupError(
    misses.length === 0
      ? `no key file is bound to ${what}`
      : `no key file of ${what} holds it: ${misses.join("; ")}`,
  );
}
