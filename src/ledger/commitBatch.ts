/**
 * One group-commit batch (issue #5 item 1): what it carries, and building it — seq, prev and
 * hash assigned, the LevelDB puts staged — before it is written. The group commit builds the
 * next batch while the previous one syncs, so hashing overlaps the disk; only the write waits.
 */
import type { Clock } from "../clock.js";
import type { ShedTally } from "./appendRules.js";
import type { LedgerDatabase } from "./ledgerDb.js";
import { type EntryFields, type LedgerEntry, makeEntry } from "./ledgerEntry.js";
import { ACKED_KEY, entryKey } from "./ledgerLayout.js";

export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** An append waiting for its batch. */
export interface Waiting {
  readonly fields: EntryFields;
  readonly resolve: (entry: LedgerEntry) => void;
  readonly reject: (error: Error) => void;
}

/** Shared by every setAcked() until the cursor is written: one promise, however many calls. */
export interface AckWaiter {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
}

export function ackWaiter(): AckWaiter {
  let resolve = () => {};
  const promise = new Promise<void>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

/** What a batch takes from the group commit; all of it goes back if the batch fails. */
export interface BatchContents {
  /** Records shed since the last batch: written as one gap entry first. */
  readonly shed: ShedTally | undefined;
  /** The ledger's own entries (retention gaps), next. */
  readonly internal: readonly EntryFields[];
  /** The callers' appends, last, oldest first. */
  readonly owners: readonly Waiting[];
  readonly ackSeq: number | undefined;
  readonly ackWaiter: AckWaiter | undefined;
}

type StagedWrites = ReturnType<LedgerDatabase["batch"]>;

export interface PreparedBatch {
  readonly contents: BatchContents;
  /** Every entry of the batch in seq order; the owners' are the last owners.length. */
  readonly entries: readonly LedgerEntry[];
  /** The chain head before and after the batch. */
  readonly before: ChainHead;
  readonly after: ChainHead;
  /** The staged LevelDB writes, or why staging failed (a closed database throws at once). */
  readonly staged: StagedWrites | Error;
}

/**
 * Builds the batch that continues the chain after `head`. A record whose entry cannot be made
 * (invalidFields mirrors canonicalEntry, so that is a bug) is rejected alone and takes no seq.
 */
export function prepareBatch(
  db: LedgerDatabase,
  head: ChainHead,
  taken: BatchContents,
  clock: Clock,
): PreparedBatch {
  const entries: LedgerEntry[] = [];
  let last: ChainHead = head;
  const add = (fields: EntryFields) => {
    const entry = makeEntry(last.seq + 1, fields, last.hash);
    last = entry;
    entries.push(entry);
  };
  if (taken.shed !== undefined) {
    add(taken.shed.gapFields(clock));
  }
  for (const fields of taken.internal) {
    add(fields);
  }
  const owners: Waiting[] = [];
  for (const waiting of taken.owners) {
    try {
      add(waiting.fields);
      owners.push(waiting);
    } catch (error) {
      waiting.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
  let staged: StagedWrites | Error;
  try {
    // A chained batch, one native put per entry: db.batch(array) clones and re-encodes every
    // operation object first, which cost more than hashing the entry (bench:ledger).
    staged = db.batch();
    for (const entry of entries) {
      staged.put(entryKey(entry.seq), entry.text);
    }
    if (taken.ackSeq !== undefined) {
      staged.put(ACKED_KEY, String(taken.ackSeq));
    }
  } catch (error) {
    staged = error instanceof Error ? error : new Error(String(error));
  }
  return {
    contents: { ...taken, owners },
    entries,
    before: head,
    after: { seq: last.seq, hash: last.hash },
    staged,
  };
}

/**
 * Writes a prepared batch: synced when it holds entries (or is the last one at stop); the acked
 * cursor alone is written without sync (losing it to a power cut only causes re-sends).
 */
export async function writeBatch(prepared: PreparedBatch, closing: boolean): Promise<void> {
  if (prepared.staged instanceof Error) {
    throw prepared.staged;
  }
  await prepared.staged.write({ sync: prepared.entries.length > 0 || closing });
}

/** Drops a prepared batch that will not be written (the one before it failed). */
export function discardBatch(prepared: PreparedBatch): void {
  if (!(prepared.staged instanceof Error)) {
    void prepared.staged.close().catch(() => {});
  }
}
