/**
 * From ledger entries to an MQTT payload (issue #5, item 6; docs/protocol.md §8 and "Batches"):
 * the plaintext is the entry's text, or the texts of a batch joined by LF; it is sealed with
 * sealEnvelope under the gateway key ring's active key id, header {gateway, device, keyId, seq of
 * the first entry, ts of the first entry}. With `encryption: none` the payload is the plaintext.
 *
 * Device keys are derived (HKDF-SHA256) once per (device, key id) and kept in a small bounded
 * cache: deriving per record would cost more than sealing a ledger entry. The ring already holds
 * the master secrets in memory, so cached derived keys expose nothing new.
 */
import { type DeviceKeySource, MAX_PLAINTEXT_BYTES, sealEnvelope } from "../crypto/envelope/index.js";
import type { KeyRing } from "../crypto/keys/index.js";
import type { LedgerEntry } from "../ledger/ledgerEntry.js";
import { envelopeLength } from "./packetSize.js";

export type Encryption = "ascon-aead128" | "none";

/** The separator of a batch's entry texts (docs/protocol.md, "Batches"). */
export const BATCH_SEPARATOR = "\n";

export interface MessageSealer {
  /** Exact payload bytes of a message whose first entry is `first` and plaintext has `plaintextBytes` bytes. */
  payloadBytes(first: LedgerEntry, plaintextBytes: number): number;
  /**
   * The payload of `entries` (one, or a batch of consecutive entries of one device and stream)
   * published on `topic`. Throws (RangeError, TypeError, KeyLookupError) when the envelope refuses.
   */
  seal(topic: string, entries: readonly LedgerEntry[]): string;
}

export function plaintextOf(entries: readonly LedgerEntry[]): string {
  return entries.length === 1
    ? (entries[0]?.text ?? "")
    : entries.map((entry) => entry.text).join(BATCH_SEPARATOR);
}

export function createSealer(options: {
  readonly encryption: Encryption;
  readonly gateway: string;
  readonly keys?: KeyRing | undefined;
}): MessageSealer {
  if (options.encryption === "none") {
    return {
      payloadBytes: (_first, plaintextBytes) => plaintextBytes,
      seal: (_topic, entries) => plaintextOf(entries),
    };
  }
  const ring = options.keys;
  if (ring === undefined) {
    throw new TypeError("sealing with ascon-aead128 needs the gateway key ring");
  }
  const keyId = ring.activeKeyId();
  const keys = new DeviceKeyCache(ring);
  const { gateway } = options;
  // The plaintext is encoded into one reused buffer: sealEnvelope reads it synchronously and
  // keeps nothing, and a fresh Buffer per record showed in the bench's profile.
  let scratch = Buffer.alloc(4096);
  return {
    payloadBytes: (first, plaintextBytes) =>
      envelopeLength({ gateway, device: first.device, keyId, seq: first.seq, ts: first.ts }, plaintextBytes),
    seal: (topic, entries) => {
      const first = entries[0];
      if (first === undefined) {
        throw new RangeError("nothing to seal");
      }
      const text = plaintextOf(entries);
      const most = text.length * 3;
      if (most > scratch.length) {
        scratch = Buffer.alloc(Math.min(Math.max(most, scratch.length * 2), MAX_PLAINTEXT_BYTES * 3 + 3));
      }
      // UTF-8 takes at most 3 bytes per UTF-16 unit, so a text within `most` always fits whole;
      // one beyond the cap is encoded apart (and refused by sealEnvelope as too large).
      const plaintext =
        most <= scratch.length ? scratch.subarray(0, scratch.write(text, "utf8")) : Buffer.from(text, "utf8");
      return sealEnvelope(keys, {
        topic,
        header: { gateway, device: first.device, keyId, seq: BigInt(first.seq), ts: first.ts },
        plaintext,
      });
    },
  };
}

export const DEVICE_KEY_CACHE_LIMIT = 1024;

/** Derived device keys, kept; every caller gets a copy, since sealEnvelope wipes the key it used. */
export class DeviceKeyCache implements DeviceKeySource {
  readonly #ring: DeviceKeySource;
  readonly #keys = new Map<string, Uint8Array>();
  readonly #limit: number;

  constructor(ring: DeviceKeySource, limit = DEVICE_KEY_CACHE_LIMIT) {
    this.#ring = ring;
    this.#limit = limit;
  }

  deviceKey(deviceId: string, keyId: string): Uint8Array {
    const id = `${deviceId}\u0000${keyId}`;
    let key = this.#keys.get(id);
    if (key === undefined) {
      key = this.#ring.deviceKey(deviceId, keyId);
      if (this.#keys.size >= this.#limit) {
        for (const old of this.#keys.values()) {
          old.fill(0);
        }
        this.#keys.clear();
      }
      this.#keys.set(id, key);
    }
    return key.slice();
  }
}
