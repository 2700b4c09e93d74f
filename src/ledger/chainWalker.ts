/**
 * The checks of `ledger verify` (issue #5 item 4) over a stream of stored entries in key order,
 * with no I/O: verifyChain.ts feeds it from LevelDB, tests feed it directly. For each entry:
 *
 *   - its key's seq is the one after the previous key's ("missing" names the first absent seq);
 *   - the text is an entry (ledgerEntry.ts form; "malformed") whose own seq is its key's
 *     ("seq mismatch": a record moved to another key, e.g. two records swapped);
 *   - hash == SHA-256(prev || canonical) ("hash mismatch": the record was altered);
 *   - prev == the previous entry's hash ("broken link": a record deleted, inserted or reordered
 *     and its neighbours re-keyed). The first stored entry's prev is taken as it is when it is
 *     seq 1 with GENESIS_PREV, when the front was removed by retention (seq > 1), or when
 *     m:segment says a new chain segment starts there with that prev (corrupt-DB recovery);
 *   - a checkpoint entry's ofHash equals the stored hash of entry ofSeq (when still stored), and
 *     with a key ring its MAC verifies (checkpoint.ts) — which is what catches a chain rewritten
 *     consistently, every hash recomputed.
 *
 * Only the first problem is reported (firstBad): the lowest seq where one shows; the walk goes on
 * so the summary still counts every record. After a problem the walker re-synchronises on the
 * record's stated hash, so one altered record does not make every later link look broken.
 *
 * The parts: the entry's form and hash read at fixed offsets (entryForm.ts, for verify's speed:
 * >= 300,000 records/s on a 2-core gateway), the checkpoint checks (checkpointChecks.ts), and here
 * the walk — seqs, links, and which problem is reported. With hashCheck "deferred" no hash is
 * computed here at all: verifyChain.ts has them checked on another thread (hashWorker.ts).
 */
import type { CheckpointKeys } from "./checkpoint.js";
import { CheckpointChecks, type CheckpointLookup, type CheckpointProblem } from "./checkpointChecks.js";
import { EntryHasher, MIN_ENTRY_CHARS, readEntryForm, statedHash } from "./entryForm.js";
import { GENESIS_PREV } from "./ledgerEntry.js";

export type ChainProblem =
  | "missing"
  | "seq mismatch"
  | "malformed"
  | "hash mismatch"
  | "broken link"
  | CheckpointProblem
  | "unreadable";

/** Problems at one seq, in the order visit() finds them. */
const PROBLEM_RANK: readonly ChainProblem[] = [
  "missing",
  "seq mismatch",
  "malformed",
  "hash mismatch",
  "broken link",
  "checkpoint malformed",
  "checkpoint key unknown",
  "checkpoint mac mismatch",
  "checkpoint hash mismatch",
  "unreadable",
];

export interface ChainSummary {
  readonly records: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  /** The last entry's stated hash: what the next entry must link to. */
  readonly head: string | null;
  readonly ok: boolean;
  /** detail: LevelDB's message, for "unreadable" only. */
  readonly firstBad: { readonly seq: number; readonly reason: ChainProblem; readonly detail?: string } | null;
  /**
   * checked: checkpoint entries examined (ofHash against the chain; the MAC too when keyed);
   * bad: those that failed; keyed: whether MACs were checked (a key ring was given).
   */
  readonly checkpoints: { readonly checked: number; readonly bad: number; readonly keyed: boolean };
}

/** m:segment: a chain segment restarted after a recovery begins at startSeq and links to prev. */
export interface SegmentStart {
  readonly startSeq: number;
  readonly prev: string;
}

export interface ChainWalkerOptions {
  readonly segment?: SegmentStart;
  /**
   * "inline" (default): visit() computes each hash. "deferred": the caller checks hashes (on the
   * hash worker, hashWorker.ts) and reports failures with hashFailed(), or calls checkHashNow().
   */
  readonly hashCheck?: "inline" | "deferred";
  /** Verify checkpoint MACs with these keys; without, only ofHash is checked. */
  readonly keys?: Pick<CheckpointKeys, "checkpointKey">;
}

export class ChainWalker {
  readonly #segment: SegmentStart | undefined;
  readonly #checkpoints: CheckpointChecks;
  readonly #hasher = new EntryHasher();
  #records = 0;
  #firstSeq: number | undefined;
  #lastSeq: number | undefined;
  #headHash: string | undefined;
  /** The prev the next entry must state; undefined when it cannot be known (after a gap or a malformed record). */
  #linkPrev: string | undefined;
  #firstBad: { seq: number; reason: ChainProblem; detail?: string } | undefined;
  readonly #deferHashes: boolean;

  constructor(options: ChainWalkerOptions = {}) {
    this.#segment = options.segment;
    this.#checkpoints = new CheckpointChecks(options.keys);
    this.#deferHashes = options.hashCheck === "deferred";
  }

  /** The seq the next stored key should carry; undefined before the first entry. */
  get expectedSeq(): number | undefined {
    return this.#lastSeq === undefined ? undefined : this.#lastSeq + 1;
  }

  /**
   * Checks the entry stored under the key of `keySeq` (keys arrive in ascending order). Returns a
   * lookup when the entry is a checkpoint over an entry no longer in the recent window: pass the
   * stored hash of lookup.ofSeq to resolveCheckpoint before the next visit.
   */
  visit(keySeq: number, text: string): CheckpointLookup | undefined {
    this.#records++;
    const expected = this.expectedSeq;
    if (expected === undefined) {
      this.#firstSeq = keySeq;
    } else if (keySeq !== expected) {
      this.#fail(expected, keySeq > expected ? "missing" : "seq mismatch");
      this.#linkPrev = undefined;
    }
    const isFirst = expected === undefined;
    const firstSeq = this.#firstSeq ?? keySeq;
    this.#lastSeq = keySeq;
    const form = readEntryForm(text);
    if (form === undefined) {
      return this.#malformed(keySeq);
    }
    if (form.seq !== keySeq) {
      this.#fail(keySeq, "seq mismatch");
    }
    let stated: string;
    if (this.#deferHashes) {
      stated = statedHash(text);
    } else {
      const computed = this.#hasher.hash(text);
      if (computed === undefined) {
        return this.#malformed(keySeq);
      }
      // Compared in place: slicing the hash out of every text costs more than comparing.
      stated = text.startsWith(computed, form.hashAt) ? computed : statedHash(text);
      if (computed !== stated) {
        this.#fail(keySeq, "hash mismatch");
      }
    }
    if (!this.#linkAccepted(keySeq, text, form.prevAt, isFirst)) {
      this.#fail(keySeq, "broken link");
    }
    this.#linkPrev = stated;
    this.#headHash = stated;
    this.#checkpoints.recordHash(keySeq, stated);
    if (!form.isCheckpoint) {
      return undefined;
    }
    const checked = this.#checkpoints.check(keySeq, text.slice(form.bodyStart, form.bodyEnd), firstSeq);
    if (typeof checked === "string") {
      this.#fail(keySeq, checked);
      return undefined;
    }
    return checked;
  }

  /** A deferred hash check failed for the entry at `seq`: its hash, or its prev's form. */
  hashFailed(seq: number, problem: "hash mismatch" | "malformed"): void {
    this.#fail(seq, problem);
  }

  /** A deferred hash check done here, for an entry too long for the hash worker's slots. */
  checkHashNow(seq: number, text: string): void {
    if (text.length < MIN_ENTRY_CHARS) {
      return; // malformed, reported by visit()
    }
    const result = this.#hasher.check(text);
    if (result !== "sound") {
      this.#fail(seq, result);
    }
  }

  /**
   * A key in the entry range that is not "e" + u64be(seq): counted, reported as malformed at the
   * seq expected there, and the next entry's link is not checked (its predecessor is unknown).
   */
  visitUnreadableKey(): undefined {
    this.#records++;
    this.#fail(this.expectedSeq ?? 1, "malformed");
    this.#linkPrev = undefined;
    return undefined;
  }

  /**
   * LevelDB could not read on (a damaged table file): the walk ends, reported at the seq that
   * would have come next; records after it are not counted. LevelDB may first have skipped the
   * damaged blocks, so the problem already reported (entries "missing") gets the reason as detail.
   */
  unreadable(detail: string): void {
    if (this.#firstBad === undefined) {
      this.#firstBad = { seq: this.expectedSeq ?? 1, reason: "unreadable", detail };
    } else {
      this.#firstBad.detail ??= detail;
    }
  }

  /** The stored hash of lookup.ofSeq, or undefined when that entry is not stored (retention). */
  resolveCheckpoint(lookup: CheckpointLookup, storedHash: string | undefined): void {
    const problem = this.#checkpoints.resolve(lookup, storedHash);
    if (problem !== undefined) {
      this.#fail(lookup.checkpointSeq, problem);
    }
  }

  summary(): ChainSummary {
    return {
      records: this.#records,
      firstSeq: this.#firstSeq ?? null,
      lastSeq: this.#lastSeq ?? null,
      head: this.#headHash ?? null,
      ok: this.#firstBad === undefined,
      firstBad: this.#firstBad ?? null,
      checkpoints: { ...this.#checkpoints.counts, keyed: this.#checkpoints.keyed },
    };
  }

  /** Wipes the checkpoint keys derived during the walk. */
  dispose(): void {
    this.#checkpoints.dispose();
  }

  /**
   * Keeps the problem with the lowest seq; at one seq, the one ranked first in PROBLEM_RANK (the
   * order visit() checks in), so deferred hash results give the same answer as inline ones.
   */
  #fail(seq: number, reason: ChainProblem): void {
    const known = this.#firstBad;
    if (
      known === undefined ||
      seq < known.seq ||
      (seq === known.seq && PROBLEM_RANK.indexOf(reason) < PROBLEM_RANK.indexOf(known.reason))
    ) {
      this.#firstBad = { seq, reason };
    }
  }

  #malformed(keySeq: number): undefined {
    this.#fail(keySeq, "malformed");
    this.#linkPrev = undefined;
    return undefined;
  }

  /** Whether the prev stated at text[prevAt..prevAt+64) is the one this entry may link to. */
  #linkAccepted(keySeq: number, text: string, prevAt: number, isFirst: boolean): boolean {
    const segment = this.#segment;
    if (segment !== undefined && segment.startSeq === keySeq && text.startsWith(segment.prev, prevAt)) {
      return true;
    }
    if (isFirst) {
      return keySeq > 1 || text.startsWith(GENESIS_PREV, prevAt);
    }
    // Unknown after a gap or a malformed record: that problem is already reported.
    return this.#linkPrev === undefined || text.startsWith(this.#linkPrev, prevAt);
  }
}
