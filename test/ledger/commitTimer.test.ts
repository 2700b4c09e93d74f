/**
 * Group-commit pacing (issue #5 item 1; storage.commitInterval: "synced at most this often"):
 * synced batches start at most once per interval, counted from the last synced batch, so a
 * record after a quiet interval is synced at once while a steady stream is still batched.
 * The timer's rules are checked on fake timers; the GroupCommit on a real LevelDB directory.
 */
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { type Clock, systemClock } from "../../src/clock.js";
import { CommitTimer } from "../../src/ledger/commitTimer.js";
import { GroupCommit } from "../../src/ledger/groupCommit.js";
import { openLedgerDb } from "../../src/ledger/ledgerDb.js";
import { GENESIS_PREV } from "../../src/ledger/ledgerEntry.js";
import { memoryLogger } from "../helpers/memoryLogger.js";
import { Resources } from "../helpers/resources.js";
import { sampleFields } from "./ledgerKit.js";

const fakeClock: Clock = {
  wallNow: () => Date.now(),
  monotonicNow: () => Date.now(),
  wallSynced: () => true,
};

function timer(intervalMs: number) {
  const fired: number[] = [];
  const commitTimer = new CommitTimer(intervalMs, fakeClock, () => {
    fired.push(Date.now());
    commitTimer.due = false; // the group commit takes the due flag when it commits
  });
  return { commitTimer, fired };
}

it("fires at once for entries after a quiet interval, and not before an interval after the last sync", () => {
  vi.useFakeTimers({ now: 1_000_000 });
  try {
    const { commitTimer, fired } = timer(50);
    commitTimer.arm(true);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([1_000_000]); // nothing synced for a while: no wait

    commitTimer.syncStarted(); // at 1_000_001
    vi.advanceTimersByTime(10);
    commitTimer.arm(true);
    vi.advanceTimersByTime(38);
    expect(fired).toHaveLength(1);
    vi.advanceTimersByTime(2);
    expect(fired).toEqual([1_000_000, 1_000_051]); // one interval after the sync started

    vi.advanceTimersByTime(500);
    commitTimer.syncStarted();
    commitTimer.arm(true);
    commitTimer.arm(true); // arming twice does not add a timer
    vi.advanceTimersByTime(200);
    expect(fired).toHaveLength(3);
  } finally {
    vi.useRealTimers();
  }
});

it("lets a cursor alone wait a whole interval, and pulls the timer in when entries follow", () => {
  vi.useFakeTimers({ now: 2_000_000 });
  try {
    const { commitTimer, fired } = timer(50);
    commitTimer.arm(false);
    vi.advanceTimersByTime(49);
    expect(fired).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([2_000_050]);

    commitTimer.arm(false);
    vi.advanceTimersByTime(5);
    commitTimer.arm(true); // no sync for long: entries go now, not at the cursor's time
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([2_000_050, 2_000_055]);
    vi.advanceTimersByTime(100);
    expect(fired).toHaveLength(2); // the cursor's timer was replaced, not kept as well
  } finally {
    vi.useRealTimers();
  }
});

let resources: Resources;

beforeEach(() => {
  resources = new Resources();
});

afterEach(async () => {
  await resources.release();
});

it("syncs a lone append at once, batches what follows within the interval, and syncs at most once per interval", async () => {
  const dir = await resources.tempDir("edgewarden-commit-timer-");
  const db = await openLedgerDb(dir, { createIfMissing: true });
  const intervalMs = 1_500;
  const commit = new GroupCommit(
    { commitIntervalMs: intervalMs, commitMaxRecords: 1_000, bufferRecords: 1_000 },
    { clock: systemClock, logger: memoryLogger().logger, onDurable: () => {}, onWriteFailed: () => {} },
  );
  commit.attach(db, { seq: 0, hash: GENESIS_PREV }, 0);
  try {
    const started = performance.now();
    const first = await commit.append(sampleFields(1));
    const firstDurable = performance.now();
    // A fixed wait would hold it a whole interval; it went out with the first tick.
    expect(firstDurable - started).toBeLessThan(intervalMs);
    expect(commit.counters.commits).toBe(1);

    const rest = [2, 3, 4].map((i) => commit.append(sampleFields(i)));
    const entries = await Promise.all(rest);
    const restDurable = performance.now();
    // One batch for the three, and not before an interval after the first sync began (a timer
    // may fire a millisecond early against performance.now()).
    expect(commit.counters.commits).toBe(2);
    expect(restDurable - started).toBeGreaterThanOrEqual(intervalMs - 2);
    expect(entries.map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(entries[0]?.prev).toBe(first.hash);
  } finally {
    await commit.close();
    await db.close();
  }
});
