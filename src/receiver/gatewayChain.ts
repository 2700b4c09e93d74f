/**
 * The continuity check of each gateway's chain upstream (issue #7 item 2; docs/protocol.md §8.4):
 * seq by seq, an entry must state the stored predecessor's hash as its prev; a seq seen again is
 * a duplicate if its hash is the same and tampering if not; a seq beyond the next one leaves a
 * hole, reported as an open gap and closed when redelivery fills it. The gateway's own gap
 * entries name what it knows to be lost (retention, recovery): those ranges become `lost` gaps,
 * never tampering, and the head moves over them (the link across them cannot be checked).
 *
 * Memory is bounded: at most `maxAhead` stored seqs above the head and `maxOpenGaps` open gaps
 * per gateway; past either, the lowest hole is given up as lost ("receiver-gave-up") so the head
 * moves on. Time comes in with each call; there are no timers.
 */
import { GENESIS_PREV } from "../ledger/ledgerEntry.js";
import type { GapEvent, TamperEvent } from "./outcomes.js";
import type { ReceiverState, StoredLink } from "./receiverState.js";

export interface ChainLimits {
  readonly maxAhead: number;
  readonly maxOpenGaps: number;
}

export const DEFAULT_CHAIN_LIMITS: ChainLimits = { maxAhead: 16_384, maxOpenGaps: 256 };

export type ChainEvent = GapEvent | TamperEvent;

export interface ChainVerdict {
  /** new: store it; duplicate: already stored (same hash, or below the head and forgotten); conflict: another hash for a stored seq. */
  readonly status: "new" | "duplicate" | "conflict";
  readonly events: readonly ChainEvent[];
}

interface OpenGap {
  fromSeq: number;
  toSeq: number;
  missing: number;
}

interface LostRange {
  readonly fromSeq: number;
  readonly toSeq: number;
}

interface GatewayGaps {
  readonly open: OpenGap[];
  readonly lost: LostRange[];
}

export class GatewayChains {
  readonly #state: ReceiverState;
  readonly #limits: ChainLimits;
  readonly #gaps = new Map<string, GatewayGaps>();

  constructor(state: ReceiverState, limits: ChainLimits = DEFAULT_CHAIN_LIMITS) {
    this.#state = state;
    this.#limits = limits;
  }

  /** Takes one entry whose own hash has been verified (§8.4 step 2). */
  add(gateway: string, link: StoredLink, receivedAt: number): ChainVerdict {
    const state = this.#state;
    const known = state.link(gateway, link.seq);
    if (known !== undefined) {
      if (known.hash === link.hash) {
        return { status: "duplicate", events: [] };
      }
      const message = `seq ${link.seq} arrived with hash ${link.hash}, stored with ${known.hash}`;
      return { status: "conflict", events: [tamper(gateway, link.seq, "seq-conflict", message, receivedAt)] };
    }
    const head = state.head(gateway);
    if (link.seq <= head.seq) {
      // Stored (or known lost) and no longer remembered: not stored again (the store's key is (gateway, seq)).
      return { status: "duplicate", events: [] };
    }
    const events: ChainEvent[] = [];
    const predecessor =
      link.seq === 1
        ? GENESIS_PREV
        : head.seq === link.seq - 1
          ? head.hash
          : state.link(gateway, link.seq - 1)?.hash;
    if (predecessor !== undefined && predecessor !== link.prev) {
      const message = `seq ${link.seq} states prev ${link.prev}, the stored entry ${link.seq - 1} has hash ${predecessor}`;
      events.push(tamper(gateway, link.seq, "prev-mismatch", message, receivedAt));
    }
    const successor = state.link(gateway, link.seq + 1);
    if (successor !== undefined && successor.prev !== link.hash) {
      const message = `stored seq ${successor.seq} states prev ${successor.prev}, entry ${link.seq} has hash ${link.hash}`;
      events.push(tamper(gateway, successor.seq, "prev-mismatch", message, receivedAt));
    }
    state.markStored(gateway, link);
    this.#trackHole(gateway, link.seq, head.seq, receivedAt, events);
    this.#advance(gateway);
    this.#enforceLimits(gateway, receivedAt, events);
    return { status: "new", events };
  }

  /** The gateway's gap entry says fromSeq..toSeq are lost (§8.3): not a hole to wait for, not tampering. */
  declareLost(gateway: string, fromSeq: number, toSeq: number, reason: string, receivedAt: number): GapEvent {
    const gaps = this.#gapsOf(gateway);
    for (let i = gaps.open.length - 1; i >= 0; i--) {
      const gap = gaps.open[i];
      if (gap === undefined || gap.toSeq < fromSeq || gap.fromSeq > toSeq) {
        continue;
      }
      if (gap.fromSeq >= fromSeq && gap.toSeq <= toSeq) {
        gaps.open.splice(i, 1);
      } else {
        // Partly explained: keep the unexplained end open; its count can only have shrunk.
        if (gap.fromSeq >= fromSeq) {
          gap.fromSeq = toSeq + 1;
        } else {
          gap.toSeq = fromSeq - 1;
        }
        gap.missing = Math.min(gap.missing, gap.toSeq - gap.fromSeq + 1);
      }
    }
    if (toSeq > this.#state.head(gateway).seq) {
      if (gaps.lost.length >= this.#limits.maxOpenGaps) {
        // Bounded like the open gaps: the oldest announcement is dropped; its seqs become a hole again.
        gaps.lost.shift();
      }
      gaps.lost.push({ fromSeq, toSeq });
      this.#advance(gateway);
    }
    return { type: "gap", gateway, state: "lost", fromSeq, toSeq, reason, receivedAt };
  }

  /** Open gaps of a gateway, lowest first (for status and tests). */
  openGaps(gateway: string): readonly { fromSeq: number; toSeq: number; missing: number }[] {
    return [...(this.#gaps.get(gateway)?.open ?? [])].sort((a, b) => a.fromSeq - b.fromSeq);
  }

  #trackHole(gateway: string, seq: number, headSeq: number, receivedAt: number, events: ChainEvent[]): void {
    const gaps = this.#gapsOf(gateway);
    const filled = gaps.open.findIndex((gap) => gap.fromSeq <= seq && seq <= gap.toSeq);
    if (filled >= 0) {
      const gap = gaps.open[filled];
      if (gap !== undefined && --gap.missing <= 0) {
        gaps.open.splice(filled, 1);
        events.push({
          type: "gap",
          gateway,
          state: "closed",
          fromSeq: gap.fromSeq,
          toSeq: gap.toSeq,
          receivedAt,
        });
      }
      return;
    }
    if (
      seq <= headSeq + 1 ||
      this.#state.link(gateway, seq - 1) !== undefined ||
      gaps.lost.some((range) => range.fromSeq <= seq && seq <= range.toSeq)
    ) {
      return;
    }
    // The hole runs from just after the last seq known (stored, open or lost) below this one.
    let below = Math.max(headSeq, this.#state.aheadBelow(gateway, seq) ?? 0);
    for (const range of [...gaps.open, ...gaps.lost]) {
      if (range.toSeq < seq) {
        below = Math.max(below, range.toSeq);
      }
    }
    if (below + 1 <= seq - 1) {
      const gap = { fromSeq: below + 1, toSeq: seq - 1, missing: seq - 1 - below };
      gaps.open.push(gap);
      events.push({
        type: "gap",
        gateway,
        state: "open",
        fromSeq: gap.fromSeq,
        toSeq: gap.toSeq,
        receivedAt,
      });
    }
  }

  /** Moves the head over stored seqs and lost ranges that follow it. */
  #advance(gateway: string): void {
    const state = this.#state;
    const start = state.head(gateway);
    let head = start;
    const gaps = this.#gapsOf(gateway);
    for (;;) {
      const next = state.link(gateway, head.seq + 1);
      if (next !== undefined) {
        head = { seq: next.seq, hash: next.hash };
        continue;
      }
      const lost = gaps.lost.findIndex((range) => range.fromSeq <= head.seq + 1 && range.toSeq > head.seq);
      if (lost < 0) {
        break;
      }
      const range = gaps.lost[lost];
      gaps.lost.splice(lost, 1);
      if (range !== undefined) {
        head = { seq: range.toSeq, hash: state.link(gateway, range.toSeq)?.hash };
      }
    }
    // Lost ranges the head has passed are spent.
    for (let i = gaps.lost.length - 1; i >= 0; i--) {
      if ((gaps.lost[i]?.toSeq ?? 0) <= head.seq) {
        gaps.lost.splice(i, 1);
      }
    }
    if (head !== start) {
      state.setHead(gateway, head);
    }
  }

  #enforceLimits(gateway: string, receivedAt: number, events: ChainEvent[]): void {
    const gaps = this.#gapsOf(gateway);
    while (
      gaps.open.length > this.#limits.maxOpenGaps ||
      this.#state.aheadCount(gateway) > this.#limits.maxAhead
    ) {
      const lowest = this.openGaps(gateway)[0];
      if (lowest === undefined) {
        return;
      }
      events.push(this.declareLost(gateway, lowest.fromSeq, lowest.toSeq, "receiver-gave-up", receivedAt));
    }
  }

  #gapsOf(gateway: string): GatewayGaps {
    let gaps = this.#gaps.get(gateway);
    if (gaps === undefined) {
      gaps = { open: [], lost: [] };
      this.#gaps.set(gateway, gaps);
    }
    return gaps;
  }
}

function tamper(
  gateway: string,
  seq: number,
  reason: TamperEvent["reason"],
  message: string,
  receivedAt: number,
): TamperEvent {
  return { type: "tamper", gateway, seq, reason, message, receivedAt };
}
