/**
 * The write path when LevelDB refuses a batch (issue #5 item 1; the reopen itself belongs to the
 * degraded mode of item 3). The refusal is real: the database handle is closed underneath the
 * group commit, so every write fails with LEVEL_DATABASE_NOT_OPEN until it is attached again.
 */
import { afterEach, beforeEach, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { GroupCommit } from "../../src/ledger/groupCommit.js";
import { type LedgerDatabase, openLedgerDb, readEntries } from "../../src/ledger/ledgerDb.js";
import { GENESIS_PREV } from "../../src/ledger/ledgerEntry.js";
import { memoryLogger } from "../helpers/memoryLogger.js";
import { Resources } from "../helpers/resources.js";
import { waitUntil } from "../helpers/waitUntil.js";
import { expectChained, sampleFields } from "./ledgerKit.js";

let resources: Resources;
let dir: string;
let dbs: LedgerDatabase[];

beforeEach(async () => {
  resources = new Resources();
  dir = await resources.tempDir("edgewarden-group-commit-");
  dbs = [];
});

afterEach(async () => {
  await Promise.all(dbs.map((db) => (db.status === "open" ? db.close() : undefined)));
  await resources.release();
});

async function openDb(): Promise<LedgerDatabase> {
  const db = await openLedgerDb(dir, { createIfMissing: true });
  dbs.push(db);
  return db;
}

function groupCommit(durable: number[]) {
  const log = memoryLogger();
  const commit = new GroupCommit(
    { commitIntervalMs: 5, commitMaxRecords: 100, bufferRecords: 1_000 },
    { clock: systemClock, logger: log.logger, onDurable: (seq) => durable.push(seq) },
  );
  return { commit, log };
}

it("keeps the records of a refused batch waiting, gives their seqs back, and writes them once attached again", async () => {
  const durable: number[] = [];
  const { commit, log } = groupCommit(durable);
  const first = await openDb();
  commit.attach(first, { seq: 0, hash: GENESIS_PREV }, 0);
  const one = await commit.append(sampleFields(1));
  await first.close();

  let settled = false;
  const two = commit.append(sampleFields(2)).finally(() => {
    settled = true;
  });
  await waitUntil(() => commit.counters.commitFailures >= 2, "two refused batches");
  expect(settled).toBe(false);
  expect(commit.pending()).toBe(1);
  expect(log.lines.some((line) => line.level === "error" && String(line.msg).includes("retried"))).toBe(true);

  const second = await openDb();
  commit.attach(second, commit.durableHead(), 0);
  const entry = await two;
  expect(entry.seq).toBe(2); // not 3 or later: the refused batches used no seq
  expect(entry.prev).toBe(one.hash);
  expect(durable).toEqual([1, 2]);
  await commit.close();
  await second.close();
  const reopened = await openDb();
  expectChained(await readEntries(reopened, 1, 10, 10));
});

it("rejects what waits with the disk's error when the last batch at stop is refused too", async () => {
  const { commit } = groupCommit([]);
  const db = await openDb();
  commit.attach(db, { seq: 0, hash: GENESIS_PREV }, 0);
  await db.close();
  const waiting = commit.append(sampleFields(1));
  await waitUntil(() => commit.counters.commitFailures >= 1, "a refused batch");
  await commit.close();
  await expect(waiting).rejects.toThrow(/not open/i);
});

it("gives back the batch built during a failed write too, so the retried chain has no hole", async () => {
  const durable: number[] = [];
  const log = memoryLogger();
  const commit = new GroupCommit(
    { commitIntervalMs: 5, commitMaxRecords: 10, bufferRecords: 1_000 },
    { clock: systemClock, logger: log.logger, onDurable: (seq) => durable.push(seq) },
  );
  const first = await openDb();
  commit.attach(first, { seq: 0, hash: GENESIS_PREV }, 0);
  // One tick: the 10th append starts writing batch 1, the 20th prepares batch 2 meanwhile.
  const appends = Array.from({ length: 100 }, (_, i) => commit.append(sampleFields(i)));
  // close() lets batch 1 finish; batch 2 then fails on the closing database while batch 3 is
  // already prepared on top of it.
  await first.close();
  await waitUntil(() => commit.counters.commitFailures >= 1, "a refused batch");

  const second = await openDb();
  commit.attach(second, commit.durableHead(), 0);
  const entries = await Promise.all(appends);
  expect(entries.map((entry) => entry.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  expect(entries.map((entry) => entry.body)).toEqual(
    Array.from({ length: 100 }, (_, i) => sampleFields(i).body),
  );
  await commit.close();
  await second.close();
  const reopened = await openDb();
  const stored = await readEntries(reopened, 1, 1_000, 1_000);
  expect(stored).toHaveLength(100);
  expectChained(stored);
  expect(durable.at(-1)).toBe(100);
});
