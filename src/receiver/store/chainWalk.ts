/**
 * One walk along a gateway's stored chain in seq order (issue #7 item 2; docs/protocol.md §8.4,
 * §8.5), the check a single receiver makes on the fly, made after the fact over what a whole
 * shared-subscription group stored. Each row's prev must be the hash of the row before; a
 * checkpoint's ofHash must be the stored hash of ofSeq; a hole is either named lost by one of the
 * gateway's own gap entries (§8.3: retention, database recovery), or loss on the way: an open gap
 * once it has lasted `graceMs` (the row after it arrived that long ago), before which the walk
 * stops and waits, since another receiver of the group may still be storing it. Across a gap the
 * hash is unknown, so the next link is not checked (the gap's closing checks it). Pure.
 */
import { GENESIS_PREV } from "../../ledger/ledgerEntry.js";
import type { GapEvent, TamperEvent } from "../outcomes.js";

export interface ChainRow {
  readonly seq: number;
  readonly prev: string;
  readonly hash: string;
  /** Wall ms when the receiver that stored it received it. */
  readonly receivedAt: number;
  /** For checkpoint rows: what it vouches for, and the stored hash of ofSeq (undefined: not stored). */
  readonly checkpoint?: { readonly ofSeq: number; readonly ofHash: string; readonly storedHash?: string };
}

/** A seq range the gateway's own gap entry names lost. */
export interface LostClaim {
  readonly fromSeq: number;
  readonly toSeq: number;
  readonly reason: string;
}

export interface WalkPosition {
  /** Every seq up to here was walked; 0 before the first. */
  readonly seq: number;
  /** The hash of entry `seq`; null when unknown (after a gap). At seq 0 the genesis prev is due. */
  readonly hash: string | null;
}

export interface WalkOptions {
  readonly gateway: string;
  readonly claims: readonly LostClaim[];
  /** Wall ms now, and the time a hole may last before it is an open gap. */
  readonly now: number;
  readonly graceMs: number;
  /**
   * "open-after-grace": the main walk (holes become open gaps or make it wait);
   * "note": re-walking an open gap, whose holes are listed, never reported.
   */
  readonly holes: "open-after-grace" | "note";
}

export interface SeqRange {
  readonly fromSeq: number;
  readonly toSeq: number;
}

export interface WalkResult {
  position: WalkPosition;
  /** The walk stopped at a hole still within its grace. */
  waiting: boolean;
  readonly events: (GapEvent | TamperEvent)[];
  readonly lostParts: (SeqRange & { readonly reason: string })[];
  /** Holes no claim explains (mode "note" only). */
  readonly unexplained: SeqRange[];
  checkpointsVerified: number;
  checkpointsUnverified: number;
}

/** A walk that has found nothing yet, standing at `position`. */
export function emptyWalk(position: WalkPosition): WalkResult {
  return {
    position,
    waiting: false,
    events: [],
    lostParts: [],
    unexplained: [],
    checkpointsVerified: 0,
    checkpointsUnverified: 0,
  };
}

export function walkChain(start: WalkPosition, rows: readonly ChainRow[], options: WalkOptions): WalkResult {
  const { gateway, now } = options;
  const result = emptyWalk(start);
  for (const row of rows) {
    if (row.seq <= result.position.seq) {
      continue;
    }
    let expected = result.position.seq + 1;
    while (expected < row.seq) {
      const claim = coveringClaim(options.claims, expected);
      if (claim !== undefined) {
        const toSeq = Math.min(claim.toSeq, row.seq - 1);
        result.lostParts.push({ fromSeq: expected, toSeq, reason: claim.reason });
        if (options.holes === "open-after-grace") {
          result.events.push(gapEvent(gateway, "lost", expected, toSeq, now, claim.reason));
        }
        result.position = { seq: toSeq, hash: null };
        expected = toSeq + 1;
        continue;
      }
      const toSeq = nextClaimStart(options.claims, expected, row.seq) - 1;
      if (options.holes === "note") {
        result.unexplained.push({ fromSeq: expected, toSeq });
      } else if (now - row.receivedAt >= options.graceMs) {
        result.events.push(gapEvent(gateway, "open", expected, toSeq, now));
      } else {
        result.waiting = true;
        return result;
      }
      result.position = { seq: toSeq, hash: null };
      expected = toSeq + 1;
    }
    const due = result.position.seq === 0 ? GENESIS_PREV : result.position.hash;
    if (due !== null && row.prev !== due) {
      const message = `seq ${row.seq} states prev ${row.prev}, the stored entry ${row.seq - 1} has hash ${due}`;
      result.events.push(tamper(gateway, row.seq, "prev-mismatch", message, now));
    }
    const checkpoint = row.checkpoint;
    if (checkpoint !== undefined) {
      if (checkpoint.storedHash === undefined) {
        // ofSeq lost or not stored when its checkpoint was walked: unverified, not sound (§8.5).
        result.checkpointsUnverified++;
      } else if (checkpoint.storedHash === checkpoint.ofHash) {
        result.checkpointsVerified++;
      } else {
        const message = `checkpoint ${row.seq} vouches for seq ${checkpoint.ofSeq} with hash ${checkpoint.ofHash}, stored with ${checkpoint.storedHash}`;
        result.events.push(tamper(gateway, row.seq, "checkpoint-hash", message, now));
      }
    }
    result.position = { seq: row.seq, hash: row.hash };
  }
  return result;
}

/** The claim covering `seq` that reaches furthest. */
function coveringClaim(claims: readonly LostClaim[], seq: number): LostClaim | undefined {
  let best: LostClaim | undefined;
  for (const claim of claims) {
    if (claim.fromSeq <= seq && seq <= claim.toSeq && (best === undefined || claim.toSeq > best.toSeq)) {
      best = claim;
    }
  }
  return best;
}

/** Where the next claim after `seq` begins, if before `limit`; else `limit`. */
function nextClaimStart(claims: readonly LostClaim[], seq: number, limit: number): number {
  let start = limit;
  for (const claim of claims) {
    if (claim.fromSeq > seq && claim.fromSeq < start) {
      start = claim.fromSeq;
    }
  }
  return start;
}

function gapEvent(
  gateway: string,
  state: GapEvent["state"],
  fromSeq: number,
  toSeq: number,
  at: number,
  reason?: string,
): GapEvent {
  return {
    type: "gap",
    gateway,
    state,
    fromSeq,
    toSeq,
    receivedAt: at,
    ...(reason === undefined ? {} : { reason }),
  };
}

function tamper(
  gateway: string,
  seq: number,
  reason: TamperEvent["reason"],
  message: string,
  at: number,
): TamperEvent {
  return { type: "tamper", gateway, seq, reason, message, receivedAt: at };
}
