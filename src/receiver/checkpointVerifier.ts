/**
 * Checkpoints upstream (issue #7 item 2; docs/protocol.md §8.5): the MAC is recomputed under the
 * checkpoint key of the body's kid (a kid not held means unverified, not sound), and ofHash is
 * compared with the hash of entry ofSeq as received. A checkpoint that arrives before the entry it
 * vouches for (out-of-order delivery) waits, in a bounded list per gateway, until that entry comes.
 */
import { type CheckpointBody, checkpointMacMatches } from "../ledger/checkpoint.js";
import type { TamperEvent } from "./outcomes.js";
import type { ReceiverCounters } from "./receiverCounters.js";
import type { ReceiverKeys } from "./receiverKeys.js";
import type { ReceiverState } from "./receiverState.js";

export const DEFAULT_MAX_PENDING_CHECKPOINTS = 64;

interface Pending {
  readonly seq: number;
  readonly body: CheckpointBody;
}

export class CheckpointVerifier {
  readonly #keys: ReceiverKeys;
  readonly #state: ReceiverState;
  readonly #counters: ReceiverCounters;
  readonly #maxPending: number;
  readonly #pending = new Map<string, Pending[]>();

  constructor(
    keys: ReceiverKeys,
    state: ReceiverState,
    counters: ReceiverCounters,
    maxPending = DEFAULT_MAX_PENDING_CHECKPOINTS,
  ) {
    this.#keys = keys;
    this.#state = state;
    this.#counters = counters;
    this.#maxPending = maxPending;
  }

  /** The tampering a new checkpoint entry shows; empty when it verifies, waits, or cannot be verified. */
  check(gateway: string, seq: number, body: CheckpointBody, receivedAt: number): TamperEvent[] {
    const mac = this.#verifyMac(gateway, seq, body, receivedAt);
    if (mac !== "sound") {
      return mac;
    }
    const stored = this.#state.link(gateway, body.ofSeq);
    if (stored !== undefined) {
      return this.#compare(gateway, seq, body, stored.hash, receivedAt);
    }
    if (body.ofSeq > this.#state.head(gateway).seq) {
      const list = this.#pending.get(gateway) ?? [];
      if (list.length >= this.#maxPending) {
        list.shift();
        this.#counters.checkpointUnverified++;
      }
      list.push({ seq, body });
      this.#pending.set(gateway, list);
      return [];
    }
    // At or below the head and forgotten (or lost): nothing left to compare with.
    this.#counters.checkpointUnverified++;
    return [];
  }

  /**
   * The MAC alone, for a core whose chain lives in a shared store (issue #7: a shared-subscription
   * group): ofHash is compared later, by the store's chain auditor, against the stored chain.
   */
  checkMac(gateway: string, seq: number, body: CheckpointBody, receivedAt: number): TamperEvent[] {
    const mac = this.#verifyMac(gateway, seq, body, receivedAt);
    return mac === "sound" ? [] : mac;
  }

  /** "sound" when the MAC verifies; else the tampering (none when the kid's key is not held: unverified). */
  #verifyMac(
    gateway: string,
    seq: number,
    body: CheckpointBody,
    receivedAt: number,
  ): TamperEvent[] | "sound" {
    const key = this.#keys.checkpointKey(gateway, body.kid);
    if (key === undefined) {
      this.#counters.checkpointUnverified++;
      return [];
    }
    let macMatches: boolean;
    try {
      macMatches = checkpointMacMatches(key, body);
    } finally {
      key.fill(0);
    }
    if (!macMatches) {
      const message = `checkpoint ${seq} over seq ${body.ofSeq}: the MAC does not verify under ${body.kid}'s checkpoint key`;
      return [{ type: "tamper", gateway, seq, reason: "checkpoint-mac", message, receivedAt }];
    }
    return "sound";
  }

  /** A new entry arrived: the checkpoints that waited for it are compared now. */
  entryStored(gateway: string, seq: number, hash: string, receivedAt: number): TamperEvent[] {
    const list = this.#pending.get(gateway);
    if (list === undefined) {
      return [];
    }
    const events: TamperEvent[] = [];
    for (let i = list.length - 1; i >= 0; i--) {
      const pending = list[i];
      if (pending !== undefined && pending.body.ofSeq === seq) {
        list.splice(i, 1);
        events.push(...this.#compare(gateway, pending.seq, pending.body, hash, receivedAt));
      }
    }
    return events;
  }

  #compare(
    gateway: string,
    seq: number,
    body: CheckpointBody,
    hash: string,
    receivedAt: number,
  ): TamperEvent[] {
    if (hash === body.ofHash) {
      this.#counters.checkpointVerified++;
      return [];
    }
    const message = `checkpoint ${seq} vouches for seq ${body.ofSeq} with hash ${body.ofHash}, received with ${hash}`;
    return [{ type: "tamper", gateway, seq, reason: "checkpoint-hash", message, receivedAt }];
  }
}
