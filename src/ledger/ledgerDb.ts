/**
 * The ledger's LevelDB (classic-level 3) beneath the Ledger component (issue #5): opening with a
 * clear error for a held LOCK, recovering the chain head and cursors at start, range reads and
 * sizes. Keys and values follow ledgerLayout.ts; nothing here keeps state between calls.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import { sleep } from "../daemon/component.js";
import { GENESIS_PREV, type LedgerEntry, parseEntryText } from "./ledgerEntry.js";
import { LedgerCorruptError, LedgerLockedError, LedgerMissingError } from "./ledgerErrors.js";
import {
  ACKED_KEY,
  AFTER_ENTRIES_KEY,
  entryKey,
  FIRST_ENTRY_KEY,
  SEGMENT_KEY,
  seqOfEntryKey,
} from "./ledgerLayout.js";

/** Keys are bytes (entryKey), values UTF-8 text (entries and decimal or JSON metadata). */
export type LedgerDatabase = ClassicLevel<Uint8Array, string>;

export interface OpenLedgerOptions {
  /** false for readers of a stopped daemon's directory: a typo must not create an empty ledger. */
  readonly createIfMissing: boolean;
  /**
   * How long to keep retrying while another instance holds the LOCK (FAULTS 8.2 LEVEL_LOCKED: an
   * old instance may still be stopping). 0: fail at once.
   */
  readonly lockWaitMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Bounds on LevelDB's memory-mapped tables (issue #5, Outage: "RSS within 20% of its pre-outage
 * value"). classic-level's LevelDB reads each table through mmap (up to 1000 tables on 64-bit;
 * none on 32-bit), and every page a read touches stays in the process's RSS (RssFile) until the
 * table leaves LevelDB's table cache. With the defaults (a cache of 990 tables) the forwarder
 * draining a backlog left every table it read mapped: RSS grew with the backlog
 * (scripts/bench/drainRss.ts, 500k records: RssFile +46 MiB, peak RSS 300 MiB). The smallest
 * table cache LevelDB allows (74 open files, 64 of them tables) bounds that to 64 tables.
 * While only entries are written (an outage: no cursor writes), our sequential keys never
 * overlap, compaction just moves tables down, and a table is one memtable flush, about one
 * group-commit batch (~400 KiB with 1 MiB memtables). With appends and cursor writes during a
 * drain, the cursor's key makes flushes overlap, so compaction rewrites them into tables of
 * maxFileSize, which LevelDB 1.20 clips to at least 1 MiB (SanitizeOptions): at most ~70 MiB
 * mapped while a backlog drains. Measured in test/outbox/outage.test.ts (1.3M-record backlog):
 * RssFile 46 -> 86 MiB, RssAnon flat. On 32-bit builds (armv7) LevelDB maps nothing and reads
 * through its 8 MiB block cache instead.
 */
const MAX_OPEN_FILES = 74;
const WRITE_BUFFER_BYTES = 1024 * 1024;
/** The least LevelDB 1.20 accepts (it clips smaller values up to it). */
const MAX_FILE_BYTES = 1024 * 1024;

const LOCK_RETRY_FIRST_MS = 50;
const LOCK_RETRY_MAX_MS = 1_000;

function errorCode(error: unknown): string | undefined {
  if (error instanceof Error && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return undefined;
}

/** classic-level wraps the LevelDB status in LEVEL_DATABASE_NOT_OPEN; the reason is the cause. */
function isLocked(error: unknown): boolean {
  return (
    errorCode(error) === "LEVEL_LOCKED" ||
    (error instanceof Error && errorCode(error.cause) === "LEVEL_LOCKED")
  );
}

async function openOnce(dir: string, createIfMissing: boolean): Promise<LedgerDatabase> {
  // LevelDB creates the directory, LOCK and LOG before it finds CURRENT missing: check first,
  // so that a mistyped directory is not left behind as an empty "ledger".
  if (!createIfMissing && !existsSync(join(dir, "CURRENT"))) {
    throw new LedgerMissingError(dir);
  }
  const db = new ClassicLevel<Uint8Array, string>(dir, {
    keyEncoding: "view",
    valueEncoding: "utf8",
    createIfMissing,
    maxOpenFiles: MAX_OPEN_FILES,
    writeBufferSize: WRITE_BUFFER_BYTES,
    maxFileSize: MAX_FILE_BYTES,
  });
  try {
    await db.open();
    return db;
  } catch (error) {
    if (isLocked(error)) {
      throw new LedgerLockedError(dir, { cause: error });
    }
    const why = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new Error(`cannot open ledger ${dir}: ${why}`, { cause: error });
  }
}

/** Opens the database, waiting with backoff up to lockWaitMs while its LOCK is held elsewhere. */
export async function openLedgerDb(dir: string, options: OpenLedgerOptions): Promise<LedgerDatabase> {
  const signal = options.signal ?? new AbortController().signal;
  const deadline = performance.now() + (options.lockWaitMs ?? 0);
  let delay = LOCK_RETRY_FIRST_MS;
  for (;;) {
    signal.throwIfAborted();
    try {
      return await openOnce(dir, options.createIfMissing);
    } catch (error) {
      const left = deadline - performance.now();
      if (!(error instanceof LedgerLockedError) || left <= 0) {
        throw error;
      }
      await sleep(Math.min(delay, left), signal);
      delay = Math.min(delay * 2, LOCK_RETRY_MAX_MS);
    }
  }
}

/** Where the chain stands, as found on disk. */
export interface StoredState {
  /** The last stored seq; the next entry gets headSeq + 1. 0 for an empty, new ledger. */
  readonly headSeq: number;
  /** The hash the next entry's prev must be. */
  readonly headHash: string;
  /** The first stored seq; headSeq + 1 when no entry is stored. */
  readonly firstSeq: number;
  /** The persisted acked cursor, clamped to headSeq. */
  readonly ackedSeq: number;
}

/**
 * "m:segment", written by the corrupt-DB recovery when it starts a new chain segment: the next
 * entry is startSeq and links to prev, the last good head of the old chain (issue #5 item 3).
 */
interface Segment {
  readonly startSeq: number;
  readonly prev: string;
}

function parseSegment(text: string, dir: string): Segment {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new LedgerCorruptError(undefined, "m:segment is not JSON", dir);
  }
  if (typeof value === "object" && value !== null && "startSeq" in value && "prev" in value) {
    const { startSeq, prev } = value;
    if (
      typeof startSeq === "number" &&
      Number.isSafeInteger(startSeq) &&
      startSeq >= 1 &&
      typeof prev === "string" &&
      /^[0-9a-f]{64}$/.test(prev)
    ) {
      return { startSeq, prev };
    }
  }
  throw new LedgerCorruptError(undefined, `m:segment ${text} lacks a valid startSeq and prev`, dir);
}

/** The first (or, reverse, the last) stored entry, parsed; undefined when there is none. */
async function edgeEntry(db: LedgerDatabase, reverse: boolean): Promise<LedgerEntry | undefined> {
  const found = await db.iterator({ gte: FIRST_ENTRY_KEY, lt: AFTER_ENTRIES_KEY, reverse, limit: 1 }).all();
  const [key, text] = found[0] ?? [];
  if (key === undefined || text === undefined) {
    return undefined;
  }
  return checkedEntry(key, text, db.location);
}

function checkedEntry(key: Uint8Array, text: string, dir: string): LedgerEntry {
  const seq = seqOfEntryKey(key);
  if (seq === undefined) {
    throw new LedgerCorruptError(undefined, "an entry key is not 'e' + u64be(seq)", dir);
  }
  const entry = parseEntryText(text);
  if (entry === undefined) {
    throw new LedgerCorruptError(seq, "the stored text is not a ledger entry", dir);
  }
  if (entry.seq !== seq) {
    throw new LedgerCorruptError(seq, `the entry stored under it says seq ${entry.seq}`, dir);
  }
  return entry;
}

/** Reads the head, the first seq, the segment marker and the acked cursor (at start, and for stats). */
export async function readStoredState(db: LedgerDatabase): Promise<StoredState> {
  const dir = db.location;
  const [last, first, segmentText, ackedText] = await Promise.all([
    edgeEntry(db, true),
    edgeEntry(db, false),
    db.get(SEGMENT_KEY),
    db.get(ACKED_KEY),
  ]);
  let headSeq = last?.seq ?? 0;
  let headHash = last?.hash ?? GENESIS_PREV;
  if (segmentText !== undefined) {
    const segment = parseSegment(segmentText, dir);
    // The recovery starts a new segment in a fresh database: until its first entry is written,
    // the segment marker is the only record of where the chain continues.
    if (segment.startSeq > headSeq) {
      headSeq = segment.startSeq - 1;
      headHash = segment.prev;
    }
  }
  const acked = ackedText === undefined ? 0 : Number(ackedText);
  if (ackedText !== undefined && (!Number.isSafeInteger(acked) || acked < 0 || ackedText !== String(acked))) {
    throw new LedgerCorruptError(undefined, `m:acked is ${JSON.stringify(ackedText)}, not a seq`, dir);
  }
  const firstSeq = first !== undefined && first.seq <= headSeq ? first.seq : headSeq + 1;
  return { headSeq, headHash, firstSeq, ackedSeq: Math.min(acked, headSeq) };
}

/**
 * Stored entries with fromSeq <= seq <= toSeq, at most `limit`, in seq order: one iterator over
 * the key range (the forwarder reads windows of 64-1000 at 20k records/s). Each is parsed and its
 * key checked against its seq; one that is not what we wrote throws LedgerCorruptError naming it.
 */
export async function readEntries(
  db: LedgerDatabase,
  fromSeq: number,
  toSeq: number,
  limit: number,
): Promise<LedgerEntry[]> {
  if (fromSeq > toSeq || limit <= 0) {
    return [];
  }
  const count = Math.min(limit, toSeq - fromSeq + 1);
  const found = await db
    .iterator({
      gte: entryKey(fromSeq),
      lte: entryKey(toSeq),
      limit: count,
      // Room for the whole window in one native call for entries up to ~1 KiB.
      highWaterMarkBytes: Math.min(count * 1_024, 16 * 1_024 * 1_024),
    })
    .all();
  const entries = new Array<LedgerEntry>(found.length);
  for (let i = 0; i < found.length; i++) {
    const [key, text] = found[i] as [Uint8Array, string];
    entries[i] = checkedEntry(key, text, db.location);
  }
  return entries;
}

/** File-system bytes LevelDB reports for the entry range (the memtable's recent writes excluded). */
export function approximateEntryBytes(db: LedgerDatabase): Promise<number> {
  return db.approximateSize(FIRST_ENTRY_KEY, AFTER_ENTRIES_KEY);
}
