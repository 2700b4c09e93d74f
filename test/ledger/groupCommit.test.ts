/**
 * The write path when LevelDB refuses a batch (issue #5 items 1 and 3). The refusal is real: the
 * database handle is closed underneath the group commit, so its write fails with
 * LEVEL_DATABASE_NOT_OPEN. The group commit then detaches (that handle is never written again),
 * holds the failed batch aside, and settles it against the stored head of the reopened database.
 */
import { afterEach, beforeEach, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { GroupCommit } from "../../src/ledger/groupCommit.js";
import {
  type LedgerDatabase,
  openLedgerDb,
  readEntries,
  readStoredState,
} from "../../src/ledger/ledgerDb.js";
import { GENESIS_PREV, makeEntry } from "../../src/ledger/ledgerEntry.js";
import { entryKey } from "../../src/ledger/ledgerLayout.js";
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

function groupCommit(durable: number[], failures: Error[] = [], commitMaxRecords = 100) {
  const log = memoryLogger();
  const commit = new GroupCommit(
    { commitIntervalMs: 5, commitMaxRecords, bufferRecords: 1_000 },
    {
      clock: systemClock,
      logger: log.logger,
      onDurable: (seq) => durable.push(seq),
      onWriteFailed: (error) => failures.push(error),
    },
  );
  return { commit, log };
}

async function reattach(commit: GroupCommit): Promise<{ db: LedgerDatabase; settled: string }> {
  const db = await openDb();
  const state = await readStoredState(db);
  return { db, settled: commit.reattach(db, { seq: state.headSeq, hash: state.headHash }, state.ackedSeq) };
}

it("detaches on a refused batch, holds its records, and writes them with the same seqs after the reopen", async () => {
  const durable: number[] = [];
  const failures: Error[] = [];
  const { commit } = groupCommit(durable, failures);
  const first = await openDb();
  commit.attach(first, { seq: 0, hash: GENESIS_PREV }, 0);
  const one = await commit.append(sampleFields(1));
  await first.close();

  let settled = false;
  const two = commit.append(sampleFields(2)).finally(() => {
    settled = true;
  });
  await waitUntil(() => failures.length >= 1, "a refused batch");
  // Detached: the failed handle is not written again, so one failure, however long we wait.
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(failures).toHaveLength(1);
  expect(commit.attached()).toBe(false);
  expect(settled).toBe(false);
  expect(commit.pending()).toBe(1);

  const { db: second, settled: outcome } = await reattach(commit);
  expect(outcome).toBe("retried");
  const entry = await two;
  expect(entry.seq).toBe(2); // not 3 or later: the refused batches used no seq
  expect(entry.prev).toBe(one.hash);
  expect(durable).toEqual([1, 2]);
  await commit.close();
  await second.close();
  const reopened = await openDb();
  expectChained(await readEntries(reopened, 1, 10, 10));
});

it("resolves the appends of a failed batch that did land, without writing them again", async () => {
  const durable: number[] = [];
  const failures: Error[] = [];
  const { commit } = groupCommit(durable, failures);
  const first = await openDb();
  commit.attach(first, { seq: 0, hash: GENESIS_PREV }, 0);
  const one = await commit.append(sampleFields(1));
  await first.close();
  const two = commit.append(sampleFields(2));
  await waitUntil(() => failures.length >= 1, "a refused batch");
  // A sync that failed after LevelDB had logged the batch: the entry is there at reopen.
  const landed = makeEntry(2, sampleFields(2), one.hash);
  const db = await openDb();
  await db.put(entryKey(2), landed.text);
  await db.close();
  dbs.pop();

  const { db: second, settled } = await reattach(commit);
  expect(settled).toBe("landed");
  expect((await two).hash).toBe(landed.hash);
  const three = await commit.append(sampleFields(3));
  expect(three.seq).toBe(3);
  expect(three.prev).toBe(landed.hash);
  await commit.close();
  const stored = await readEntries(second, 1, 10, 10);
  expect(stored.map((entry) => entry.seq)).toEqual([1, 2, 3]);
  expectChained(stored);
  expect(durable).toEqual([1, 2, 3]);
});

it("rejects the appends held after a refused batch when stopped before a reopen", async () => {
  const failures: Error[] = [];
  const { commit } = groupCommit([], failures);
  const db = await openDb();
  commit.attach(db, { seq: 0, hash: GENESIS_PREV }, 0);
  await db.close();
  const waiting = commit.append(sampleFields(1));
  await waitUntil(() => failures.length >= 1, "a refused batch");
  const later = commit.append(sampleFields(2));
  await commit.close();
  await expect(waiting).rejects.toThrow(/may or may not be on disk/);
  await expect(later).rejects.toThrow(/stopped before this record was written/);
});

it("gives back the batch built during a failed write too, so the retried chain has no hole", async () => {
  const durable: number[] = [];
  const failures: Error[] = [];
  const { commit } = groupCommit(durable, failures, 10);
  const first = await openDb();
  commit.attach(first, { seq: 0, hash: GENESIS_PREV }, 0);
  // One tick: the 10th append starts writing batch 1, the 20th prepares batch 2 meanwhile.
  const appends = Array.from({ length: 100 }, (_, i) => commit.append(sampleFields(i)));
  // close() lets batch 1 finish; batch 2 then fails on the closing database while batch 3 is
  // already prepared on top of it.
  await first.close();
  await waitUntil(() => failures.length >= 1, "a refused batch");

  const { db: second } = await reattach(commit);
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
