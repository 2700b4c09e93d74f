/**
 * The gateway key file, loaded at start (constructors do no I/O) for the parts that seal or sign:
 * the forwarder (envelopes, issue #3) and the checkpointer (checkpoint HMACs, issue #5). Its config
 * key is the file's path and identity (fileStamp), so after `keys rotate` the new active key id is
 * used from the next reload or restart; until then records are sealed under the old id, which
 * receivers keep (docs/protocol.md §2.5). Secrets are never logged; stop() drops the ring.
 */
import { statSync } from "node:fs";
import { type KeyRing, loadKeyRing } from "../crypto/keys/index.js";
import type { Component } from "./component.js";

export class GatewayKeys implements Component {
  readonly name = "gateway-keys";
  readonly #path: string;
  #ring: KeyRing | undefined;

  constructor(path: string) {
    this.#path = path;
  }

  /** The loaded ring; throws before start() or after stop(). */
  get ring(): KeyRing {
    if (this.#ring === undefined) {
      throw new Error(`gateway keys from ${this.#path} are not loaded`);
    }
    return this.#ring;
  }

  async start(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const ring = await loadKeyRing(this.#path);
    // Sealing and checkpoints need the master secret: an exported device key file cannot do either.
    ring.activeKeyId();
    this.#ring = ring;
  }

  stop(): Promise<void> {
    this.#ring = undefined;
    return Promise.resolve();
  }
}

/**
 * What tells one key file from its replacement without reading it: device, inode, size and
 * mtime ("absent" when it cannot be stat'ed; start() then reports why). Read when the daemon plans
 * its components, at start and at each reload.
 */
export function fileStamp(path: string): string {
  try {
    const info = statSync(path, { bigint: true });
    return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}`;
  } catch {
    return "absent";
  }
}
