/**
 * The Ledger on real LevelDB directories (issue #5 items 1-2): appends become a gapless hash
 * chain that survives restarts, the acked cursor persists and only moves forward, the store is
 * read back in windows, and the LevelDB lock and stored corruption give clear errors.
 */
import { existsSync } from "node:fs";
import { ClassicLevel } from "classic-level";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { Ledger } from "../../src/ledger/ledger.js";
import { GENESIS_PREV, type LedgerEntry, NO_DEVICE } from "../../src/ledger/ledgerEntry.js";
import {
  LedgerClosedError,
  LedgerCorruptError,
  LedgerLockedError,
  LedgerMissingError,
} from "../../src/ledger/ledgerErrors.js";
import { entryKey, SEGMENT_KEY } from "../../src/ledger/ledgerLayout.js";
import { readLedgerStats } from "../../src/ledger/ledgerStats.js";
import { memoryLogger } from "../helpers/memoryLogger.js";
import { Resources } from "../helpers/resources.js";
import { expectChained, ledgerOptions, readAll, sampleFields, startLedger } from "./ledgerKit.js";

let resources: Resources;
let dir: string;
let open: Ledger[];

beforeEach(async () => {
  resources = new Resources();
  dir = await resources.tempDir("edgewarden-ledger-");
  open = [];
});

afterEach(async () => {
  await Promise.all(open.map((ledger) => ledger.stop()));
  await resources.release();
});

function appendMany(ledger: Ledger, count: number, offset = 0): Promise<LedgerEntry[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => ledger.append(sampleFields(offset + i))));
}

describe("appending and reading", () => {
  it("reads back what was appended, byte for byte, as a chain from the genesis prev", async () => {
    const { ledger } = await startLedger(open, dir);
    const appended = await appendMany(ledger, 25);
    expect(appended.map((entry) => entry.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(appended[0]?.prev).toBe(GENESIS_PREV);
    const read = await ledger.read(1, 100);
    expect(read).toEqual(appended);
    expect(read[3]?.body).toBe(sampleFields(3).body);
    expectChained(read);
    expect(ledger.durableSeq()).toBe(25);
    expect(ledger.firstSeq()).toBe(1);
  });

  it("reads windows: from a seq, at most maxRecords, nothing past the durable head", async () => {
    const { ledger } = await startLedger(open, dir);
    await appendMany(ledger, 30);
    expect((await ledger.read(11, 5)).map((entry) => entry.seq)).toEqual([11, 12, 13, 14, 15]);
    expect((await ledger.read(28, 10)).map((entry) => entry.seq)).toEqual([28, 29, 30]);
    expect(await ledger.read(31, 10)).toEqual([]);
    expect(await ledger.read(0, 2)).toHaveLength(2);
  });

  it("continues the chain across restarts: gapless seqs, the first new prev is the old head hash", async () => {
    const first = await startLedger(open, dir);
    const before = await appendMany(first.ledger, 10);
    await first.ledger.stop();
    const second = await startLedger(open, dir);
    expect(second.ledger.durableSeq()).toBe(10);
    const after = await appendMany(second.ledger, 10, 10);
    expect(after[0]?.seq).toBe(11);
    expect(after[0]?.prev).toBe(before.at(-1)?.hash);
    expectChained(await readAll(second.ledger));
  });

  it("refuses bad fields at once without using a seq", async () => {
    const { ledger } = await startLedger(open, dir);
    await expect(ledger.append(sampleFields(0, { body: "not json" }))).rejects.toThrow(RangeError);
    await expect(ledger.append(sampleFields(0, { kind: "bogus" as "sample" }))).rejects.toThrow(/kind/);
    await expect(ledger.append(sampleFields(0, { ts: Number.NaN }))).rejects.toThrow(/ts/);
    const entry = await ledger.append(sampleFields(1));
    expect(entry.seq).toBe(1);
  });

  it("calls onDurable listeners with the durable seq after each commit, until unsubscribed", async () => {
    const { ledger } = await startLedger(open, dir);
    const seen: number[] = [];
    const unsubscribe = ledger.onDurable((seq) => seen.push(seq));
    await appendMany(ledger, 3);
    expect(seen.at(-1)).toBe(3);
    unsubscribe();
    await appendMany(ledger, 2, 3);
    expect(seen.at(-1)).toBe(3);
  });

  it("holds appends made before start() and commits them once open", async () => {
    const { ledger: first } = await startLedger(open, dir);
    await appendMany(first, 2);
    await first.stop();
    const early = new Ledger(ledgerOptions(dir), { clock: systemClock, logger: memoryLogger().logger });
    open.push(early);
    const pending = early.append(sampleFields(2));
    await early.start(new AbortController().signal);
    const entry = await pending;
    expect(entry.seq).toBe(3);
    expectChained(await readAll(early));
  });

  it("refuses appends after stop() with a clear error", async () => {
    const { ledger } = await startLedger(open, dir);
    await ledger.stop();
    await expect(ledger.append(sampleFields(1))).rejects.toThrow(LedgerClosedError);
    await expect(ledger.append(sampleFields(1))).rejects.toThrow(/stopped/);
  });
});

describe("group commit", () => {
  it("writes many appends made in one tick in few synced batches", async () => {
    const { ledger } = await startLedger(open, dir, { commitMaxRecords: 500 });
    await appendMany(ledger, 2_000);
    const stats = await ledger.stats();
    expect(stats.appended).toBe(2_000);
    // 2,000 records at 500 per batch: 4 batches, perhaps one more if the timer split one.
    expect(stats.commits).toBeGreaterThanOrEqual(4);
    expect(stats.commits).toBeLessThanOrEqual(6);
    expectChained(await readAll(ledger));
  });

  it("commits as soon as commitMaxRecords wait, without waiting for the interval", async () => {
    // The interval is an hour: the appends can only resolve through the early commit.
    const { ledger } = await startLedger(open, dir, { commitIntervalMs: 3_600_000, commitMaxRecords: 10 });
    const entries = await appendMany(ledger, 10);
    expect(entries.at(-1)?.seq).toBe(10);
    expect((await ledger.stats()).commits).toBe(1);
  });

  it("stop() writes what is still waiting in one last synced batch", async () => {
    const { ledger } = await startLedger(open, dir, { commitIntervalMs: 3_600_000 });
    const pending = Promise.all([ledger.append(sampleFields(1)), ledger.append(sampleFields(2))]);
    await ledger.stop();
    expect((await pending).map((entry) => entry.seq)).toEqual([1, 2]);
    const reopened = await startLedger(open, dir);
    expect((await reopened.ledger.read(1, 10)).map((entry) => entry.seq)).toEqual([1, 2]);
  });

  it("sheds the oldest waiting records when the queue is full and records them in a gap entry", async () => {
    const { ledger } = await startLedger(open, dir, {
      commitIntervalMs: 3_600_000,
      commitMaxRecords: 1_000,
      degradedBufferRecords: 100,
    });
    const outcomes = Array.from({ length: 150 }, (_, i) =>
      ledger.append(sampleFields(i)).then(
        (entry) => ({ ok: true as const, entry }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
    );
    await ledger.stop();
    const results = await Promise.all(outcomes);
    const shed = results.slice(0, 50);
    for (const result of shed) {
      expect(result.ok).toBe(false);
      expect(result.ok ? undefined : (result.error as Error).name).toBe("LedgerShedError");
    }
    expect(results.slice(50).every((result) => result.ok)).toBe(true);

    const reopened = await startLedger(open, dir);
    const stored = await readAll(reopened.ledger);
    expect(stored).toHaveLength(101);
    const [gap, ...kept] = stored;
    expect(gap?.kind).toBe("gap");
    expect(gap?.device).toBe(NO_DEVICE);
    expect(JSON.parse(gap?.body ?? "{}")).toEqual({
      reason: "buffer-full",
      records: 50,
      firstTs: sampleFields(0).ts,
      lastTs: sampleFields(49).ts,
    });
    expect(kept.map((entry) => entry.body)).toEqual(
      Array.from({ length: 100 }, (_, i) => sampleFields(50 + i).body),
    );
    expectChained(stored);
  });
});

describe("the acked cursor", () => {
  it("persists across restarts, only moves forward and never passes the durable head", async () => {
    const first = await startLedger(open, dir);
    await appendMany(first.ledger, 20);
    await first.ledger.setAcked(12);
    await first.ledger.setAcked(5);
    expect(first.ledger.ackedSeq()).toBe(12);
    await first.ledger.setAcked(99);
    expect(first.ledger.ackedSeq()).toBe(20);
    await first.ledger.stop();

    const second = await startLedger(open, dir);
    expect(second.ledger.ackedSeq()).toBe(20);
    await second.ledger.setAcked(3);
    expect(second.ledger.ackedSeq()).toBe(20);
    const stats = await second.ledger.stats();
    expect(stats.backlogRecords).toBe(0);
    expect(stats.oldestUnackedTs).toBeNull();
  });

  it("is written on its own, without waiting for an append, within the commit interval", async () => {
    const { ledger } = await startLedger(open, dir);
    await appendMany(ledger, 5);
    const commits = (await ledger.stats()).commits;
    await ledger.setAcked(4); // resolves once written
    expect((await ledger.stats()).commits).toBe(commits); // no synced batch was needed for it
    const stats = await readLedgerStatsAfterStop(ledger);
    expect(stats.ackedSeq).toBe(4);
    expect(stats.backlogRecords).toBe(1);
    expect(stats.oldestUnackedTs).toBe(sampleFields(4).ts);
  });
});

async function readLedgerStatsAfterStop(ledger: Ledger) {
  await ledger.stop();
  return readLedgerStats(dir);
}

describe("opening", () => {
  it("refuses a second open of the same directory with an error naming it", async () => {
    await startLedger(open, dir);
    const second = startLedger(open, dir);
    await expect(second).rejects.toThrow(LedgerLockedError);
    await expect(second).rejects.toThrow(dir);
  });

  it("waits up to lockWaitMs for the holder to close", async () => {
    const first = await startLedger(open, dir);
    const second = startLedger(open, dir, { lockWaitMs: 20_000 });
    setTimeout(() => void first.ledger.stop(), 200);
    await expect(second).resolves.toBeDefined();
  });

  it("continues from the chain segment marker of a recovered database", async () => {
    const db = new ClassicLevel<Uint8Array, string>(dir, { keyEncoding: "view", valueEncoding: "utf8" });
    const prev = "ab".repeat(32);
    await db.put(SEGMENT_KEY, JSON.stringify({ startSeq: 501, prev }));
    await db.close();
    const { ledger } = await startLedger(open, dir);
    expect(ledger.durableSeq()).toBe(500);
    expect(ledger.firstSeq()).toBe(501);
    const entry = await ledger.append(sampleFields(1));
    expect(entry.seq).toBe(501);
    expect(entry.prev).toBe(prev);
    expect((await ledger.read(1, 10)).map((e) => e.seq)).toEqual([501]);
  });

  it("names the seq of a stored entry that is not an entry", async () => {
    const first = await startLedger(open, dir);
    await appendMany(first.ledger, 3);
    await first.ledger.stop();
    const db = new ClassicLevel<Uint8Array, string>(dir, { keyEncoding: "view", valueEncoding: "utf8" });
    await db.put(entryKey(2), "garbage");
    await db.close();
    const { ledger } = await startLedger(open, dir);
    const read = ledger.read(1, 10);
    await expect(read).rejects.toThrow(LedgerCorruptError);
    await expect(read).rejects.toThrow(/seq 2/);
  });

  it("reads the stats of a stopped ledger, and never creates one where there is none", async () => {
    const { ledger } = await startLedger(open, dir);
    const entries = await appendMany(ledger, 7);
    await ledger.setAcked(2);
    await ledger.stop();
    const stats = await readLedgerStats(dir);
    expect(stats).toMatchObject({
      records: 7,
      firstSeq: 1,
      lastSeq: 7,
      headHash: entries.at(-1)?.hash,
      ackedSeq: 2,
      backlogRecords: 5,
      oldestUnackedTs: sampleFields(2).ts,
    });
    await expect(readLedgerStats(`${dir}/nothing-here`)).rejects.toThrow(LedgerMissingError);
    expect(existsSync(`${dir}/nothing-here`)).toBe(false);
  });
});
