/**
 * The checkpoint part of `ledger verify` (issue #5 item 4; docs/protocol.md §8.5), for
 * chainWalker.ts: a checkpoint's ofHash must equal the stored hash of entry ofSeq (when still
 * stored), and with a key ring its MAC must verify under the checkpoint key of its kid — which is
 * what catches a chain rewritten consistently, every hash recomputed. The hashes of the most
 * recent entries are kept here, so that the usual checkpoint (over an entry just before it) needs
 * no read; an older ofSeq comes back as a lookup for the caller to read.
 */
import { KeyLookupError } from "../crypto/keys/index.js";
import {
  type CheckpointBody,
  type CheckpointKeys,
  checkpointMacMatches,
  parseCheckpointBody,
} from "./checkpoint.js";

export type CheckpointProblem =
  | "checkpoint malformed"
  | "checkpoint hash mismatch"
  | "checkpoint mac mismatch"
  | "checkpoint key unknown";

/** A checkpoint whose ofSeq fell out of the recent-hash window: the caller reads that entry's hash. */
export interface CheckpointLookup {
  readonly checkpointSeq: number;
  readonly ofSeq: number;
  readonly ofHash: string;
}

/** Hashes of the most recent entries kept for checkpoint checks; older ofSeqs are looked up. */
const RECENT_HASHES = 4096;

export class CheckpointChecks {
  readonly #keySource: Pick<CheckpointKeys, "checkpointKey"> | undefined;
  /** Checkpoint keys by key id; null for a key id the ring does not hold. Wiped by dispose(). */
  readonly #keys = new Map<string, Uint8Array | null>();
  readonly #recentSeq = new Float64Array(RECENT_HASHES).fill(-1);
  readonly #recentHash = new Array<string>(RECENT_HASHES).fill("");
  #checked = 0;
  #bad = 0;

  /** Without keys only ofHash is checked. */
  constructor(keys: Pick<CheckpointKeys, "checkpointKey"> | undefined) {
    this.#keySource = keys;
  }

  get keyed(): boolean {
    return this.#keySource !== undefined;
  }

  /** Checkpoint entries examined, and how many of them failed. */
  get counts(): { readonly checked: number; readonly bad: number } {
    return { checked: this.#checked, bad: this.#bad };
  }

  /** The hash the entry at `seq` states, for later checkpoints over it. */
  recordHash(seq: number, hash: string): void {
    const slot = seq % RECENT_HASHES;
    this.#recentSeq[slot] = seq;
    this.#recentHash[slot] = hash;
  }

  /**
   * Checks the checkpoint entry at `keySeq`, whose body text is `body`; `firstSeq` is the first
   * stored entry's seq (an ofSeq before it was removed by retention: only the MAC can be checked).
   * Returns the problem, a lookup to finish with resolve(), or undefined when sound.
   */
  check(keySeq: number, body: string, firstSeq: number): CheckpointProblem | CheckpointLookup | undefined {
    this.#checked++;
    const checkpoint = parseCheckpointBody(body);
    if (checkpoint === undefined || checkpoint.ofSeq >= keySeq) {
      return this.#failed("checkpoint malformed");
    }
    if (this.#keySource !== undefined) {
      const key = this.#keyFor(checkpoint.kid);
      if (key === null) {
        // Unverifiable is not verified: a rewrite could otherwise name a key id nobody holds.
        return this.#failed("checkpoint key unknown");
      }
      if (!checkpointMacMatches(key, checkpoint)) {
        return this.#failed("checkpoint mac mismatch");
      }
    }
    return this.#checkOfHash(keySeq, checkpoint, firstSeq);
  }

  /** The stored hash of lookup.ofSeq, or undefined when that entry is not stored (retention). */
  resolve(lookup: CheckpointLookup, storedHash: string | undefined): CheckpointProblem | undefined {
    return storedHash !== undefined && storedHash !== lookup.ofHash
      ? this.#failed("checkpoint hash mismatch")
      : undefined;
  }

  /** Wipes the checkpoint keys derived during the walk. */
  dispose(): void {
    for (const key of this.#keys.values()) {
      key?.fill(0);
    }
    this.#keys.clear();
  }

  #checkOfHash(
    keySeq: number,
    checkpoint: CheckpointBody,
    firstSeq: number,
  ): CheckpointProblem | CheckpointLookup | undefined {
    const { ofSeq, ofHash } = checkpoint;
    if (ofSeq < firstSeq) {
      return undefined; // removed by retention: only the MAC can be checked
    }
    const slot = ofSeq % RECENT_HASHES;
    if (this.#recentSeq[slot] === ofSeq) {
      return this.#recentHash[slot] === ofHash ? undefined : this.#failed("checkpoint hash mismatch");
    }
    return { checkpointSeq: keySeq, ofSeq, ofHash };
  }

  #failed(problem: CheckpointProblem): CheckpointProblem {
    this.#bad++;
    return problem;
  }

  #keyFor(kid: string): Uint8Array | null {
    let key = this.#keys.get(kid);
    if (key === undefined) {
      try {
        key = this.#keySource?.checkpointKey(kid) ?? null;
      } catch (error) {
        if (!(error instanceof KeyLookupError)) {
          throw error;
        }
        key = null;
      }
      this.#keys.set(kid, key);
    }
    return key;
  }
}
