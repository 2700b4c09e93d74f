/**
 * The forwarder's read-ahead (issue #5): consecutive entries from the next seq, a range removed by
 * retention reported once, a hole cutting a read, and reads bounded in entries and in bytes (the
 * Outage must-show's "RSS within 20% of its pre-outage value throughout" during a drain).
 */
import { describe, expect, it } from "vitest";
import { GENESIS_PREV, type LedgerEntry, makeEntry } from "../../src/ledger/ledgerEntry.js";
import { MAX_READ_AHEAD, READ_AHEAD_BYTES, ReadAhead } from "../../src/uplink/readAhead.js";

function entries(firstSeq: number, count: number, bodyBytes = 10): LedgerEntry[] {
  return Array.from({ length: count }, (_, i) =>
    makeEntry(
      firstSeq + i,
      {
        ts: 1000 + i,
        clockSynced: true,
        kind: "sample",
        device: "d1",
        body: `{"v":"${"x".repeat(bodyBytes)}"}`,
      },
      GENESIS_PREV,
    ),
  );
}

describe("ReadAhead", () => {
  it("hands out consecutive entries and lets the read go once they are all taken", () => {
    const ahead = new ReadAhead(1);
    expect(ahead.exhausted).toBe(true);
    expect(ahead.fill(entries(1, 3))).toBeUndefined();
    expect(ahead.entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    ahead.consume(2);
    expect(ahead.index).toBe(2);
    expect(ahead.nextSeq).toBe(3);
    ahead.consume(1);
    expect(ahead.exhausted).toBe(true);
    expect(ahead.entries).toEqual([]);
    expect(ahead.nextSeq).toBe(4);
  });

  it("reports the range retention removed before a read, and cuts a read at a hole", () => {
    const ahead = new ReadAhead(5);
    const read = [...entries(8, 2), ...entries(12, 1)];
    expect(ahead.fill(read)).toEqual({ fromSeq: 5, toSeq: 7 });
    expect(ahead.entries.map((e) => e.seq)).toEqual([8, 9]);
  });

  it("asks for a window of entries, at most MAX_READ_AHEAD, and at least one", () => {
    const ahead = new ReadAhead(1);
    expect(ahead.readSize(64)).toBe(64);
    expect(ahead.readSize(64 * 1000)).toBe(MAX_READ_AHEAD);
    expect(ahead.readSize(0)).toBe(1);
  });

  it("bounds a read in bytes at the size of the last read's entries", () => {
    const ahead = new ReadAhead(1);
    const large = entries(1, 4, 60_000);
    ahead.fill(large);
    const length = large.reduce((sum, e) => sum + e.text.length, 0) / large.length;
    expect(ahead.readSize(64 * 50)).toBe(Math.floor(READ_AHEAD_BYTES / length));
    expect(ahead.readSize(64 * 50) * length).toBeLessThanOrEqual(READ_AHEAD_BYTES);
    ahead.consume(4);
    // Small entries again: the bound follows the newest read.
    ahead.fill(entries(5, 64));
    expect(ahead.readSize(64)).toBe(64);
  });
});
