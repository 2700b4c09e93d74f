/** Shared by the ledger suites: a Ledger on a real LevelDB temp dir, entry fields, chain checks. */
import { expect } from "vitest";
import type { Clock } from "../../src/clock.js";
import { systemClock } from "../../src/clock.js";
import { Ledger, type LedgerOptions } from "../../src/ledger/ledger.js";
import {
  chainHash,
  type EntryFields,
  type LedgerEntry,
  splitEntryText,
} from "../../src/ledger/ledgerEntry.js";
import { type MemoryLogger, memoryLogger } from "../helpers/memoryLogger.js";

export const HOUR = 3_600_000;

export interface LedgerUnderTest {
  readonly ledger: Ledger;
  readonly log: MemoryLogger;
}

/** Options for a test ledger: a long commit interval unless a test wants the timer. */
export function ledgerOptions(dir: string, overrides: Partial<LedgerOptions> = {}): LedgerOptions {
  return {
    dir,
    commitIntervalMs: 20,
    commitMaxRecords: 1_000,
    degradedBufferRecords: 10_000,
    retention: { maxBytes: 2 ** 40, maxAgeMs: 3_650 * 24 * HOUR, checkIntervalMs: HOUR },
    ...overrides,
  };
}

/** A started Ledger; the caller stops it (tracked in `open` so afterEach can stop what a test left). */
export async function startLedger(
  open: Ledger[],
  dir: string,
  overrides: Partial<LedgerOptions> = {},
  clock: Clock = systemClock,
): Promise<LedgerUnderTest> {
  const log = memoryLogger({ clock });
  const ledger = new Ledger(ledgerOptions(dir, overrides), { clock, logger: log.logger });
  open.push(ledger);
  await ledger.start(new AbortController().signal);
  return { ledger, log };
}

export function sampleFields(i: number, extra: Partial<EntryFields> = {}): EntryFields {
  return {
    ts: 1_767_225_600_000 + i,
    clockSynced: true,
    kind: "sample",
    device: "press-2",
    body: `{"device":"press-2","values":{"n":{"value":${i},"quality":"good"}}}`,
    ...extra,
  };
}

/** Every entry links to the one before (prev == previous hash) and its hash is right. */
export function expectChained(entries: readonly LedgerEntry[], before?: LedgerEntry): void {
  let previous = before;
  for (const entry of entries) {
    const split = splitEntryText(entry.text);
    expect(split, `entry ${entry.seq} splits`).toBeDefined();
    expect(split?.hash).toBe(entry.hash);
    expect(entry.hash, `hash of ${entry.seq}`).toBe(chainHash(entry.prev, split?.canonical ?? ""));
    if (previous !== undefined) {
      expect(entry.seq, "seqs are gapless").toBe(previous.seq + 1);
      expect(entry.prev, `prev of ${entry.seq}`).toBe(previous.hash);
    }
    previous = entry;
  }
}

/** All stored entries from `from` on, read in windows as the forwarder does. */
export async function readAll(ledger: Ledger, from = 1, window = 500): Promise<LedgerEntry[]> {
  const all: LedgerEntry[] = [];
  for (let next = from; ; ) {
    const page = await ledger.read(next, window);
    if (page.length === 0) {
      return all;
    }
    all.push(...page);
    next = (page.at(-1)?.seq ?? next) + 1;
  }
}
