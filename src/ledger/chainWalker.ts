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
 * Speed (verify >= 300,000 records/s on a 2-core gateway): no JSON.parse per record, fixed-offset
 * checks of the tail (the hash and prev fields have fixed lengths), one sticky regex for the head,
 * and one native one-shot SHA-256 (crypto.hash) over a reused buffer — or none here at all with
 * hashCheck "deferred", when verifyChain.ts has the hashes checked on another thread.
 */
import { hash as oneShotHash } from "node:crypto";
import { KeyLookupError } from "../crypto/keys/index.js";
import {
  type CheckpointBody,
  type CheckpointKeys,
  checkpointMacMatches,
  parseCheckpointBody,
} from "./checkpoint.js";
import { GENESIS_PREV, LEDGER_KINDS } from "./ledgerEntry.js";

export type ChainProblem =
  | "missing"
  | "seq mismatch"
  | "malformed"
  | "hash mismatch"
  | "broken link"
  | "checkpoint malformed"
  | "checkpoint hash mismatch"
  | "checkpoint mac mismatch"
  | "checkpoint key unknown"
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

/** A checkpoint whose ofSeq fell out of the recent-hash window: the caller reads that entry's hash. */
export interface CheckpointLookup {
  readonly checkpointSeq: number;
  readonly ofSeq: number;
  readonly ofHash: string;
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

/** `,"prev":"` + 64 hex + `"` then `,"hash":"` + 64 hex + `"}`: the fixed-length tail of every entry. */
const TAIL_CHARS = 149;
/** Shorter texts cannot be entries: visit() reports them malformed, and no hash is checked. */
export const MIN_ENTRY_CHARS = TAIL_CHARS + 1;
const HASH_PART_CHARS = 75;
const PREV_FIELD = ',"prev":"';
/** The closing quote of prev, then the hash field's name. */
const HASH_FIELD = '","hash":"';
/** Lowercase hex digit values by byte; NOT_HEX elsewhere (uppercase too: the format is lowercase). */
const NOT_HEX = 0xff;
const HEX_VALUE = (() => {
  const table = new Uint8Array(256).fill(NOT_HEX);
  for (let i = 0; i < 16; i++) {
    table["0123456789abcdef".charCodeAt(i)] = i;
  }
  return table;
})();
const QUOTE = 0x22;
const HEAD =
  /\{"seq":"([1-9][0-9]{0,15})","ts":-?[0-9][0-9.eE+-]*,"clockSynced":(?:true|false),"kind":"([a-z]+)","device":"(?:[^"\\]|\\.)*","body":\{/y;
const KINDS: ReadonlySet<string> = new Set(LEDGER_KINDS);
const CLOSE_BRACE = 0x7d;
/** Hashes of the most recent entries kept for checkpoint checks; older ofSeqs are looked up. */
const RECENT_HASHES = 4096;
const PREV_BYTES = 32;

const SEQ_PREFIX = '{"seq":"';
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * The seq an entry text states, read without a regex or an allocation; -1 when the text does not
 * start like an entry. For the walk's cheap cross-check of a key; visit() checks the form fully.
 */
export function statedSeq(text: string): number {
  if (!text.startsWith(SEQ_PREFIX)) {
    return -1;
  }
  let seq = 0;
  let index = SEQ_PREFIX.length;
  for (
    let code = text.charCodeAt(index);
    code >= DIGIT_0 && code <= DIGIT_9;
    code = text.charCodeAt(++index)
  ) {
    seq = seq * 10 + (code - DIGIT_0);
  }
  return index > SEQ_PREFIX.length && text.charCodeAt(index) === QUOTE ? seq : -1;
}

export class ChainWalker {
  readonly #segment: SegmentStart | undefined;
  readonly #keySource: Pick<CheckpointKeys, "checkpointKey"> | undefined;
  /** Checkpoint keys by key id; null for a key id the ring does not hold. Wiped by dispose(). */
  readonly #keys = new Map<string, Uint8Array | null>();
  readonly #recentSeq = new Float64Array(RECENT_HASHES).fill(-1);
  readonly #recentHash = new Array<string>(RECENT_HASHES).fill("");
  #scratch = Buffer.alloc(64 * 1024);
  #records = 0;
  #firstSeq: number | undefined;
  #lastSeq: number | undefined;
  #headHash: string | undefined;
  /** The prev the next entry must state; undefined when it cannot be known (after a gap or a malformed record). */
  #linkPrev: string | undefined;
  #firstBad: { seq: number; reason: ChainProblem; detail?: string } | undefined;
  #checkpointsChecked = 0;
  #checkpointsBad = 0;
  readonly #deferHashes: boolean;

  constructor(options: ChainWalkerOptions = {}) {
    this.#segment = options.segment;
    this.#keySource = options.keys;
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
    this.#lastSeq = keySeq;
    const length = text.length;
    const tailAt = length - TAIL_CHARS;
    HEAD.lastIndex = 0;
    const head = tailAt > 0 ? HEAD.exec(text) : null;
    // The body runs from the head's "{" to the "}" just before the fixed-length tail. (Plain
    // startsWith checks: a sticky regex over the tail costs more than the SHA-256.)
    if (
      head === null ||
      HEAD.lastIndex >= tailAt ||
      text.charCodeAt(tailAt - 1) !== CLOSE_BRACE ||
      !text.startsWith(PREV_FIELD, tailAt) ||
      !text.startsWith(HASH_FIELD, length - HASH_PART_CHARS - 1) ||
      text.charCodeAt(length - 2) !== QUOTE ||
      text.charCodeAt(length - 1) !== CLOSE_BRACE ||
      !KINDS.has(head[2] ?? "")
    ) {
      return this.#malformed(keySeq);
    }
    const textSeq = Number(head[1]);
    if (!Number.isSafeInteger(textSeq)) {
      return this.#malformed(keySeq);
    }
    if (textSeq !== keySeq) {
      this.#fail(keySeq, "seq mismatch");
    }
    const hashAt = length - HASH_PART_CHARS;
    let stated: string;
    if (this.#deferHashes) {
      stated = text.slice(hashAt + 9, length - 2);
    } else {
      const computed = this.#computeHash(text);
      if (computed === undefined) {
        return this.#malformed(keySeq);
      }
      // Compared in place: slicing the hash out of every text costs more than comparing.
      stated = text.startsWith(computed, hashAt + 9) ? computed : text.slice(hashAt + 9, length - 2);
      if (computed !== stated) {
        this.#fail(keySeq, "hash mismatch");
      }
    }
    if (!this.#linkAccepted(keySeq, text, hashAt - 65, isFirst)) {
      this.#fail(keySeq, "broken link");
    }
    this.#linkPrev = stated;
    this.#headHash = stated;
    const slot = keySeq % RECENT_HASHES;
    this.#recentSeq[slot] = keySeq;
    this.#recentHash[slot] = stated;
    return head[2] === "checkpoint"
      ? this.#checkCheckpoint(keySeq, text.slice(HEAD.lastIndex - 1, tailAt))
      : undefined;
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
    const computed = this.#computeHash(text);
    if (computed === undefined) {
      this.#fail(seq, "malformed");
    } else if (!text.startsWith(computed, text.length - HASH_PART_CHARS + 9)) {
      this.#fail(seq, "hash mismatch");
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
    if (storedHash !== undefined && storedHash !== lookup.ofHash) {
      this.#checkpointFailed(lookup.checkpointSeq, "checkpoint hash mismatch");
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
      checkpoints: {
        checked: this.#checkpointsChecked,
        bad: this.#checkpointsBad,
        keyed: this.#keySource !== undefined,
      },
    };
  }

  /** Wipes the checkpoint keys derived during the walk. */
  dispose(): void {
    for (const key of this.#keys.values()) {
      key?.fill(0);
    }
    this.#keys.clear();
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

  /**
   * SHA-256(prev bytes || canonical), canonical being the text with `,"hash":…` cut to `}`;
   * undefined when prev is not lowercase hex. The text is written once into a reused buffer after
   * 32 bytes of room, and prev's hex, now at a fixed distance from the end, is decoded into them.
   */
  #computeHash(text: string): string | undefined {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const needed = PREV_BYTES + text.length * 3;
    if (this.#scratch.length < needed) {
      this.#scratch = Buffer.alloc(needed);
    }
    const scratch = this.#scratch;
    const written = scratch.write(text, PREV_BYTES, "utf8");
    // The tail is ASCII, so it is as many bytes as characters at the end of the UTF-8.
    const end = PREV_BYTES + written - HASH_PART_CHARS;
    let hex = end - 65;
    for (let i = 0; i < PREV_BYTES; i++, hex += 2) {
      const high = HEX_VALUE[scratch[hex] ?? 0] ?? NOT_HEX;
      const low = HEX_VALUE[scratch[hex + 1] ?? 0] ?? NOT_HEX;
      if ((high | low) > 15) {
        return undefined;
      }
      scratch[i] = (high << 4) | low;
    }
    scratch[end] = CLOSE_BRACE;
    return oneShotHash("sha256", new Uint8Array(scratch.buffer, scratch.byteOffset, end + 1), "hex");
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

  #checkCheckpoint(keySeq: number, body: string): CheckpointLookup | undefined {
    this.#checkpointsChecked++;
    const checkpoint = parseCheckpointBody(body);
    if (checkpoint === undefined || checkpoint.ofSeq >= keySeq) {
      this.#checkpointFailed(keySeq, "checkpoint malformed");
      return undefined;
    }
    if (this.#keySource !== undefined) {
      const key = this.#keyFor(checkpoint.kid);
      if (key === null) {
        // Unverifiable is not verified: a rewrite could otherwise name a key id nobody holds.
        this.#checkpointFailed(keySeq, "checkpoint key unknown");
        return undefined;
      }
      if (!checkpointMacMatches(key, checkpoint)) {
        this.#checkpointFailed(keySeq, "checkpoint mac mismatch");
        return undefined;
      }
    }
    return this.#checkOfHash(keySeq, checkpoint);
  }

  #checkOfHash(keySeq: number, checkpoint: CheckpointBody): CheckpointLookup | undefined {
    const { ofSeq, ofHash } = checkpoint;
    if (this.#firstSeq === undefined || ofSeq < this.#firstSeq) {
      return undefined; // removed by retention: only the MAC can be checked
    }
    const slot = ofSeq % RECENT_HASHES;
    if (this.#recentSeq[slot] === ofSeq) {
      if (this.#recentHash[slot] !== ofHash) {
        this.#checkpointFailed(keySeq, "checkpoint hash mismatch");
      }
      return undefined;
    }
    return { checkpointSeq: keySeq, ofSeq, ofHash };
  }

  #checkpointFailed(keySeq: number, reason: ChainProblem): void {
    this.#checkpointsBad++;
    this.#fail(keySeq, reason);
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
