/**
 * The valid front of a damaged ledger (issue #5 item 3): the entries that link from the front,
 * up to the first that does not (a hole, an entry that does not parse, a wrong hash or prev, or
 * a read LevelDB refuses). Then, best effort, the highest seq stored anywhere after the break,
 * so that what was lost can be named as a seq range.
 */
import type { LedgerDatabase } from "./ledgerDb.js";
import { chainHash, GENESIS_PREV, type LedgerEntry, parseEntryText, splitEntryText } from "./ledgerEntry.js";
import { ACKED_KEY, AFTER_ENTRIES_KEY, FIRST_ENTRY_KEY, SEGMENT_KEY, seqOfEntryKey } from "./ledgerLayout.js";

export interface ValidPrefix {
  /** The first and last entries of the valid front; undefined when not even the first is good. */
  readonly first: LedgerEntry | undefined;
  readonly last: LedgerEntry | undefined;
  /** Why the walk stopped before the end, if it did. */
  readonly brokenAt: { readonly seq: number | undefined; readonly reason: string } | undefined;
  /** The highest entry key seen after the break (0 if none could be read). */
  readonly highestSeenSeq: number;
  /** m:acked of the damaged ledger, if readable. */
  readonly ackedSeq: number | undefined;
}

const BATCH = 1_000;

/** A first entry is accepted as the chain's start if it is seq 1 from GENESIS, or a later start (retention, a segment). */
function startsChain(entry: LedgerEntry, segmentText: string | undefined): boolean {
  if (entry.seq === 1) {
    return entry.prev === GENESIS_PREV;
  }
  let segment: { startSeq?: unknown; prev?: unknown } | undefined;
  try {
    segment = segmentText === undefined ? undefined : (JSON.parse(segmentText) as typeof segment);
  } catch {
    segment = undefined;
  }
  // The segment's own first entry must link where the segment says; a later first entry is the
  // front left by retention, whose prev nothing stored can confirm.
  return segment?.startSeq === entry.seq ? segment.prev === entry.prev : true;
}

function entryProblem(seq: number, text: string, previous: LedgerEntry | undefined): string | LedgerEntry {
  const entry = parseEntryText(text);
  const split = splitEntryText(text);
  if (entry === undefined || split === undefined) {
    return "malformed";
  }
  if (entry.seq !== seq) {
    return "seq mismatch";
  }
  if (chainHash(entry.prev, split.canonical) !== entry.hash) {
    return "hash mismatch";
  }
  if (previous !== undefined && entry.prev !== previous.hash) {
    return "broken link";
  }
  return entry;
}

async function readMeta(db: LedgerDatabase, key: Uint8Array): Promise<string | undefined> {
  try {
    return await db.get(key);
  } catch {
    return undefined;
  }
}

export async function readValidPrefix(db: LedgerDatabase): Promise<ValidPrefix> {
  const ackedText = await readMeta(db, ACKED_KEY);
  const acked = ackedText === undefined ? Number.NaN : Number(ackedText);
  const ackedSeq = Number.isSafeInteger(acked) && acked >= 0 ? acked : undefined;
  const segmentText = await readMeta(db, SEGMENT_KEY);
  let first: LedgerEntry | undefined;
  let last: LedgerEntry | undefined;
  let brokenAt: ValidPrefix["brokenAt"];
  let highestSeenSeq = 0;
  const iterator = db.iterator({ gte: FIRST_ENTRY_KEY, lt: AFTER_ENTRIES_KEY });
  try {
    walk: for (;;) {
      const batch = await iterator.nextv(BATCH);
      if (batch.length === 0) {
        break;
      }
      for (const [key, text] of batch) {
        const seq = seqOfEntryKey(key);
        if (seq === undefined) {
          brokenAt = { seq: undefined, reason: "a key that is not an entry key" };
          break walk;
        }
        if (last !== undefined && seq !== last.seq + 1) {
          brokenAt = { seq: last.seq + 1, reason: "missing" };
          highestSeenSeq = seq;
          break walk;
        }
        const checked = entryProblem(seq, text, last);
        if (typeof checked === "string" || (last === undefined && !startsChain(checked, segmentText))) {
          brokenAt = { seq, reason: typeof checked === "string" ? checked : "does not start a chain" };
          highestSeenSeq = seq;
          break walk;
        }
        first ??= checked;
        last = checked;
      }
    }
  } catch (error) {
    brokenAt = { seq: last === undefined ? undefined : last.seq + 1, reason: readFailure(error) };
  } finally {
    await iterator.close().catch(() => {});
  }
  if (brokenAt !== undefined) {
    highestSeenSeq = Math.max(highestSeenSeq, await highestKeySeq(db));
  }
  return { first, last, brokenAt, highestSeenSeq, ackedSeq };
}

function readFailure(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return `unreadable (${typeof code === "string" ? `${code}: ` : ""}${message})`;
}

/** The last entry key LevelDB can still read in reverse order; 0 if none. */
async function highestKeySeq(db: LedgerDatabase): Promise<number> {
  try {
    const [key] = await db
      .keys({ gte: FIRST_ENTRY_KEY, lt: AFTER_ENTRIES_KEY, reverse: true, limit: 1 })
      .all();
    return key === undefined ? 0 : (seqOfEntryKey(key) ?? 0);
  } catch {
    return 0;
  }
}
