/**
 * Retention on real LevelDB directories (issue #5 item 3): the byte budget removes acked entries
 * first, records any unacked loss in a gap entry, never removes the head, and really shrinks
 * the database; the age limit trusts only clock-synced timestamps (FAULTS 8.5).
 */
import { randomBytes } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Ledger } from "../../src/ledger/ledger.js";
import type { EntryFields } from "../../src/ledger/ledgerEntry.js";
import { FakeClock } from "../helpers/memoryLogger.js";
import { Resources } from "../helpers/resources.js";
import { expectChained, HOUR, readAll, sampleFields, startLedger } from "./ledgerKit.js";

let resources: Resources;
let dir: string;
let open: Ledger[];

beforeEach(async () => {
  resources = new Resources();
  dir = await resources.tempDir("edgewarden-retention-");
  open = [];
});

afterEach(async () => {
  await Promise.all(open.map((ledger) => ledger.stop()));
  await resources.release();
});

const MIB = 2 ** 20;

/** ~1 KiB entries of random text, which Snappy cannot shrink: the byte figures mean something. */
function bulkyFields(i: number): EntryFields {
  return sampleFields(i, { body: `{"n":${i},"noise":"${randomBytes(400).toString("hex")}"}` });
}

/**
 * ~1 KiB x count of entries: more than LevelDB's 4 MiB write buffer, so most sit in table files
 * that approximateSize counts; the write buffer is flushed in the background, so wait for that.
 */
async function fill(ledger: Ledger, count = 12_000): Promise<void> {
  for (let i = 0; i < count; i += 1_000) {
    await Promise.all(Array.from({ length: 1_000 }, (_, j) => ledger.append(bulkyFields(i + j))));
  }
  const tableBytes = (count - 5_000) * 800;
  const deadline = performance.now() + 20_000;
  while ((await ledger.stats()).approxBytes < tableBytes) {
    if (performance.now() > deadline) {
      throw new Error(`LevelDB never reported ${tableBytes} bytes in table files`);
    }
    await delay(20);
  }
}

function gapsIn(entries: readonly { kind: string; body: string }[]): unknown[] {
  return entries.filter((entry) => entry.kind === "gap").map((entry) => JSON.parse(entry.body));
}

describe("the byte budget", () => {
  it("deletes acked entries from the front until the database fits, with no gap entry", async () => {
    const { ledger } = await startLedger(open, dir, {
      retention: { maxBytes: 4 * MIB, maxAgeMs: 3_650 * 24 * HOUR, checkIntervalMs: HOUR },
    });
    await fill(ledger);
    await ledger.setAcked(11_000);
    const before = await ledger.stats();
    expect(before.approxBytes).toBeGreaterThan(4 * MIB);

    await ledger.enforceRetention();

    const after = await ledger.stats();
    expect(after.approxBytes).toBeLessThanOrEqual(4 * MIB);
    expect(after.firstSeq).toBeGreaterThan(1);
    expect(after.firstSeq).toBeLessThanOrEqual(11_001); // only acked entries had to go
    expect(after.retentionDeleted).toBe(after.firstSeq - 1);
    expect(after.retentionLostUnacked).toBe(0);
    const stored = await readAll(ledger);
    expect(stored[0]?.seq).toBe(after.firstSeq);
    expect(stored.at(-1)?.seq).toBe(12_000);
    expect(gapsIn(stored)).toEqual([]);
    expectChained(stored);
  });

  it("when unacked entries must go, appends a gap entry naming the lost range and warns", async () => {
    const { ledger, log } = await startLedger(open, dir, {
      retention: { maxBytes: 4 * MIB, maxAgeMs: 3_650 * 24 * HOUR, checkIntervalMs: HOUR },
    });
    await fill(ledger);
    await ledger.setAcked(100);

    await ledger.enforceRetention();
    await ledger.append(sampleFields(0)); // the gap entry goes out with the next commit at the latest

    const stats = await ledger.stats();
    const lastDeleted = stats.firstSeq - 1;
    expect(lastDeleted).toBeGreaterThan(100);
    expect(stats.retentionLostUnacked).toBe(lastDeleted - 100);
    const stored = await readAll(ledger);
    expect(gapsIn(stored)).toEqual([
      { reason: "retention", fromSeq: "101", toSeq: String(lastDeleted), records: lastDeleted - 100 },
    ]);
    const gap = stored.find((entry) => entry.kind === "gap");
    expect(gap?.seq).toBe(12_001);
    expect(
      log.lines.some((line) => line.level === "warn" && String(line.msg).includes("never acknowledged")),
    ).toBe(true);
    expectChained(stored);
  });

  it("never deletes the head: the chain goes on from its hash", async () => {
    const { ledger } = await startLedger(open, dir, {
      retention: { maxBytes: 1, maxAgeMs: 3_650 * 24 * HOUR, checkIntervalMs: HOUR },
    });
    await fill(ledger, 6_000);
    await ledger.setAcked(6_000);
    await ledger.enforceRetention();

    expect(ledger.firstSeq()).toBe(6_000);
    const [head] = await ledger.read(1, 10);
    expect(head?.seq).toBe(6_000);
    const next = await ledger.append(sampleFields(1));
    expect(next.prev).toBe(head?.hash);
  });

  it("read() from a deleted seq starts at the first stored one", async () => {
    const { ledger } = await startLedger(open, dir, {
      retention: { maxBytes: 4 * MIB, maxAgeMs: 3_650 * 24 * HOUR, checkIntervalMs: HOUR },
    });
    await fill(ledger);
    await ledger.setAcked(12_000);
    await ledger.enforceRetention();
    const first = ledger.firstSeq();
    expect(first).toBeGreaterThan(1);
    const page = await ledger.read(1, 3);
    expect(page.map((entry) => entry.seq)).toEqual([first, first + 1, first + 2]);
  });
});

describe("the age limit", () => {
  const DAY = 24 * HOUR;

  function ageLedger(clock: FakeClock) {
    return startLedger(
      open,
      dir,
      { retention: { maxBytes: 2 ** 40, maxAgeMs: DAY, checkIntervalMs: HOUR } },
      clock,
    );
  }

  function at(ts: number, clockSynced: boolean): EntryFields {
    return sampleFields(0, { ts, clockSynced });
  }

  it("judges age only by clock-synced entries; an unsynced one goes only with an older synced one after it", async () => {
    const clock = new FakeClock();
    const { ledger } = await ageLedger(clock);
    const now = clock.wallNow();
    const fields = [
      at(0, false), // 1: a Pi's 1970 boot clock, looks ancient
      at(0, false), // 2
      at(now - 3 * DAY, true), // 3: old
      at(0, false), // 4: before old 5, so older than it
      at(now - 2 * DAY, true), // 5: old
      at(0, false), // 6: between old 5 and young 7: cannot tell, kept
      at(now - HOUR, true), // 7: young
      at(now - 3 * DAY, false), // 8
      at(now, true), // 9: head
    ];
    for (const entry of fields) {
      await ledger.append(entry);
    }
    await ledger.setAcked(9);
    await ledger.enforceRetention();
    expect(ledger.firstSeq()).toBe(6);
    expect((await ledger.stats()).retentionDeleted).toBe(5);

    clock.advance(DAY); // now 7 is old too; 8 (unsynced, after it) stays
    await ledger.enforceRetention();
    expect(ledger.firstSeq()).toBe(8);
  });

  it("deletes nothing by age while only unsynced entries look old", async () => {
    const clock = new FakeClock();
    const { ledger } = await ageLedger(clock);
    for (let i = 0; i < 5; i++) {
      await ledger.append(at(0, false));
    }
    await ledger.setAcked(5);
    await ledger.enforceRetention();
    expect(ledger.firstSeq()).toBe(1);
  });

  it("deletes nothing by age while the gateway's own clock is unsynced", async () => {
    const clock = new FakeClock();
    clock.wallSynced = () => false;
    const { ledger } = await ageLedger(clock);
    for (let i = 0; i < 5; i++) {
      await ledger.append(at(clock.wallNow() - 10 * DAY, true));
    }
    await ledger.setAcked(5);
    await ledger.enforceRetention();
    expect(ledger.firstSeq()).toBe(1);
  });
});
