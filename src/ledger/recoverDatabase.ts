/**
 * A corrupted or unopenable ledger at start (issue #5 item 3; FAULTS 8.2 "start-up does not
 * crash-loop; DB moved aside, repair() attempted, result and loss audited; daemon keeps
 * collecting"):
 *
 *   1. the directory is moved aside to `<dir>.corrupt-<UTC timestamp>` (nothing is deleted);
 *   2. ClassicLevel.repair runs on the moved copy, which is then read for its valid chain prefix
 *      (validPrefix.ts) and its acked cursor;
 *   3. a new database is built in `<dir>.recovering` and renamed to `<dir>` when complete (a
 *      crash midway leaves the old one aside and no half-built ledger at dir): the recovered
 *      entries not yet acked, copied unchanged so the forwarder still sends them; "m:segment"
 *      {startSeq: lastGood + 1, prev: lastGood's hash, recoveredFrom, reason}, so the chain and
 *      verifyChain continue from the last good head; the acked cursor; an event entry naming what
 *      was recovered and what was lost; and a gap entry if unacked records were lost.
 *
 * If nothing can be read, the new chain starts from GENESIS_PREV, at the seq after the highest
 * one known (the acked cursor or any entry key still readable), so that seqs are not reused
 * upstream; the event says so. A directory that is not a LevelDB at all is moved aside the same
 * way, without a repair.
 */
import { rename, rm, stat } from "node:fs/promises";
import { ClassicLevel } from "classic-level";
import type { Clock } from "../clock.js";
import type { Logger } from "../observability/logger.js";
import type { LedgerDatabase } from "./ledgerDb.js";
import { type EntryFields, GENESIS_PREV, makeEntry, NO_DEVICE } from "./ledgerEntry.js";
import { ACKED_KEY, entryKey, SEGMENT_KEY } from "./ledgerLayout.js";
import { readValidPrefix, type ValidPrefix } from "./validPrefix.js";

export const CORRUPTION_EVENT = "storage.corruption-recovered";

export interface RecoveryReport {
  readonly movedTo: string;
  readonly reason: string;
  readonly repaired: boolean | "not attempted";
  /** The valid entries found, or null. */
  readonly recovered: { readonly fromSeq: number; readonly toSeq: number } | null;
  /** The unacked recovered entries copied into the new database, or null. */
  readonly copied: { readonly fromSeq: number; readonly toSeq: number } | null;
  readonly lost: { readonly fromSeq: number; readonly toSeq: number } | "unknown";
  /** Where the walk of the old ledger stopped, if before its end. */
  readonly brokenAt: ValidPrefix["brokenAt"] | null;
  readonly ackedSeq: number | null;
  readonly startSeq: number;
  readonly prev: string;
}

const COPY_BATCH = 1_000;

/** `2026-01-01T12:00:00.123Z` -> `20260101T120000Z`: sortable, and no ':' in a path. */
function utcStamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function asideName(dir: string, clock: Clock): Promise<string> {
  const base = `${dir}.corrupt-${utcStamp(clock.wallNow())}`;
  let candidate = base;
  for (let n = 2; await exists(candidate); n++) {
    candidate = `${base}-${n}`;
  }
  return candidate;
}

/** Repairs and reads the moved copy; an empty prefix if it cannot be opened even after repair. */
async function salvage(movedTo: string, repair: boolean, logger: Logger) {
  let repaired: boolean | "not attempted" = "not attempted";
  if (repair) {
    try {
      await ClassicLevel.repair(movedTo);
      repaired = true;
    } catch (error) {
      repaired = false;
      logger.warn({ err: error, dir: movedTo }, "ledger recovery: LevelDB repair failed");
    }
  }
  const nothing: ValidPrefix = {
    first: undefined,
    last: undefined,
    brokenAt: { seq: undefined, reason: "the old database cannot be opened" },
    highestSeenSeq: 0,
    ackedSeq: undefined,
  };
  if (!repair) {
    return { repaired, prefix: { ...nothing, brokenAt: undefined }, db: undefined };
  }
  const db: LedgerDatabase = new ClassicLevel<Uint8Array, string>(movedTo, {
    keyEncoding: "view",
    valueEncoding: "utf8",
    createIfMissing: false,
  });
  try {
    await db.open();
  } catch (error) {
    logger.warn({ err: error, dir: movedTo }, "ledger recovery: the moved database cannot be opened");
    return { repaired, prefix: nothing, db: undefined };
  }
  return { repaired, prefix: await readValidPrefix(db), db };
}

function describeLoss(prefix: ValidPrefix): RecoveryReport["lost"] {
  const from = (prefix.last?.seq ?? 0) + 1;
  return prefix.highestSeenSeq >= from ? { fromSeq: from, toSeq: prefix.highestSeenSeq } : "unknown";
}

function eventFields(report: RecoveryReport, clock: Clock): EntryFields {
  const recovered =
    report.recovered === null ? "nothing" : `${report.recovered.fromSeq}..${report.recovered.toSeq}`;
  const lost = report.lost === "unknown" ? "unknown" : `${report.lost.fromSeq}..${report.lost.toSeq}`;
  const body = {
    type: CORRUPTION_EVENT,
    severity: "error",
    message: `the ledger database was corrupt or unreadable (${report.reason}); moved to ${report.movedTo}; recovered seq ${recovered}, lost ${lost}${report.recovered === null ? "; a new chain starts here" : ""}`,
    details: report,
  };
  return {
    ts: clock.wallNow(),
    clockSynced: clock.wallSynced(),
    kind: "event",
    device: NO_DEVICE,
    body: JSON.stringify(body),
  };
}

/** The gap entry for unacked records lost (acked ones reached upstream); undefined if none were. */
function gapFields(report: RecoveryReport, clock: Clock): EntryFields | undefined {
  const acked = report.ackedSeq ?? 0;
  let body: string;
  if (report.lost !== "unknown") {
    const from = Math.max(report.lost.fromSeq, acked + 1);
    if (from > report.lost.toSeq) {
      return undefined;
    }
    body = `{"reason":"corrupt-database","fromSeq":"${from}","toSeq":"${report.lost.toSeq}","records":${report.lost.toSeq - from + 1}}`;
  } else if (report.brokenAt !== null) {
    // The walk broke and nothing after it could be read: records were lost, how many is unknown.
    body = `{"reason":"corrupt-database","fromSeq":"${report.startSeq}","toSeq":null,"records":null}`;
  } else {
    return undefined;
  }
  return { ts: clock.wallNow(), clockSynced: clock.wallSynced(), kind: "gap", device: NO_DEVICE, body };
}

/** Copies entries fromSeq..toSeq of `source` unchanged into `target`, in synced batches. */
async function copyEntries(source: LedgerDatabase, target: LedgerDatabase, fromSeq: number, toSeq: number) {
  const iterator = source.iterator({ gte: entryKey(fromSeq), lte: entryKey(toSeq) });
  try {
    for (
      let batch = await iterator.nextv(COPY_BATCH);
      batch.length > 0;
      batch = await iterator.nextv(COPY_BATCH)
    ) {
      const writes = target.batch();
      for (const [key, text] of batch) {
        writes.put(key, text);
      }
      await writes.write({ sync: true });
    }
  } finally {
    await iterator.close();
  }
}

/**
 * Moves `dir` aside and builds a new ledger there from what can be saved (see the header).
 * `repair`: false for a directory that is not a LevelDB at all. Throws if the directory cannot
 * be moved or the new one cannot be written (a read-only or full disk): the caller degrades.
 */
export async function recoverCorruptLedger(
  dir: string,
  reason: string,
  repair: boolean,
  deps: { readonly clock: Clock; readonly logger: Logger },
): Promise<RecoveryReport> {
  const building = `${dir}.recovering`;
  await rm(building, { recursive: true, force: true }); // a recovery a crash interrupted
  const movedTo = await asideName(dir, deps.clock);
  await rename(dir, movedTo);
  deps.logger.error(
    { dir, movedTo, reason },
    "ledger: the database is corrupt or not a ledger; moved it aside",
  );
  const { repaired, prefix, db: old } = await salvage(movedTo, repair, deps.logger);
  try {
    const { first, last } = prefix;
    const acked =
      prefix.ackedSeq === undefined ? undefined : Math.min(prefix.ackedSeq, last?.seq ?? prefix.ackedSeq);
    const startSeq =
      last !== undefined ? last.seq + 1 : Math.max(prefix.ackedSeq ?? 0, prefix.highestSeenSeq) + 1;
    const copyFrom = first === undefined ? undefined : Math.max(first.seq, (acked ?? 0) + 1);
    const report: RecoveryReport = {
      movedTo,
      reason,
      repaired,
      recovered: first === undefined || last === undefined ? null : { fromSeq: first.seq, toSeq: last.seq },
      copied:
        copyFrom === undefined || last === undefined || copyFrom > last.seq
          ? null
          : { fromSeq: copyFrom, toSeq: last.seq },
      lost: describeLoss(prefix),
      brokenAt: prefix.brokenAt ?? null,
      ackedSeq: prefix.ackedSeq ?? null,
      startSeq,
      prev: last?.hash ?? GENESIS_PREV,
    };
    const target: LedgerDatabase = new ClassicLevel<Uint8Array, string>(building, {
      keyEncoding: "view",
      valueEncoding: "utf8",
    });
    await target.open();
    try {
      if (old !== undefined && report.copied !== null) {
        await copyEntries(old, target, report.copied.fromSeq, report.copied.toSeq);
      }
      const final = target.batch();
      const segment = {
        startSeq,
        prev: report.prev,
        recoveredFrom: movedTo,
        reason,
        at: new Date(deps.clock.wallNow()).toISOString(),
      };
      final.put(SEGMENT_KEY, JSON.stringify(segment));
      // Everything before the first copied entry counts as acked: it is not in this database.
      final.put(ACKED_KEY, String(report.copied === null ? startSeq - 1 : report.copied.fromSeq - 1));
      let prev = report.prev;
      let seq = startSeq;
      for (const fields of [eventFields(report, deps.clock), gapFields(report, deps.clock)]) {
        if (fields !== undefined) {
          const entry = makeEntry(seq++, fields, prev);
          prev = entry.hash;
          final.put(entryKey(entry.seq), entry.text);
        }
      }
      await final.write({ sync: true });
    } finally {
      await target.close();
    }
    await rename(building, dir);
    deps.logger.warn(
      { dir, ...report },
      "ledger: recovered from a corrupt database; a new chain segment starts",
    );
    return report;
  } finally {
    await old?.close();
  }
}
