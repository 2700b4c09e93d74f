/**
 * The ledger as training history (issue #6 item 5: "from the ledger's stored samples of the
 * device (last N days)"). Finds the first entry at or after `fromTs` by bisecting on seq (entry
 * times follow seq except across a clock step, when the bisection lands near the step, which is
 * close enough for a training window), then reads forward in batches of READ_BATCH, keeping the
 * device's samples. Each batch is one LevelDB iterator call and an await, so polling goes on.
 */
import { setImmediate } from "node:timers/promises";
import type { HistorySource } from "../analytics/training/historySource.js";
import type { LedgerEntry } from "../ledger/ledgerEntry.js";
import type { Sample } from "../records.js";
import { sampleFromJson } from "../sources/sampleJson.js";

export interface EntryReader {
  /** Entries with seq in [fromSeq, toSeq], at most `limit`, in seq order. */
  read(fromSeq: number, toSeq: number, limit: number): Promise<LedgerEntry[]>;
  /** The first and last stored seq (first > last when empty). */
  bounds(): { first: number; last: number } | Promise<{ first: number; last: number }>;
}

/**
 * Entries per read. Each batch's parsing runs without a break, so it bounds how long a retrain's
 * history reading holds the event loop: 1,000 entries held it 30-100 ms on a 2-core EPYC (bench
 * retrain), several poll cycles on a Pi; 200 keep it to a few ms here.
 */
const READ_BATCH = 200;

export interface LedgerHistoryStats {
  /** Sample bodies that could not be parsed (skipped; the chain check is `ledger verify`'s job). */
  unreadable: number;
}

export function ledgerHistory(
  reader: EntryReader,
  stats: LedgerHistoryStats = { unreadable: 0 },
): HistorySource {
  return {
    async *samples(
      devices: string | ReadonlySet<string>,
      fromTs: number,
      signal?: AbortSignal,
    ): AsyncIterable<Sample> {
      const wanted = typeof devices === "string" ? new Set([devices]) : devices;
      const { first, last } = await reader.bounds();
      let seq = await firstSeqAtOrAfter(reader, first, last, fromTs);
      while (seq <= last) {
        signal?.throwIfAborted();
        const batch = await reader.read(seq, last, READ_BATCH);
        if (batch.length === 0) {
          return;
        }
        for (const entry of batch) {
          if (entry.kind !== "sample" || !wanted.has(entry.device) || entry.ts < fromTs) {
            continue;
          }
          let sample: Sample;
          try {
            sample = sampleFromJson(entry.body);
          } catch {
            stats.unreadable++;
            continue;
          }
          yield sample;
        }
        seq = (batch.at(-1)?.seq ?? last) + 1;
        // Let the poll loops run between batches: the read resolving is not always a macrotask.
        await setImmediate();
      }
    },
  };
}

async function firstSeqAtOrAfter(
  reader: EntryReader,
  first: number,
  last: number,
  ts: number,
): Promise<number> {
  let low = first;
  let high = last + 1;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    const [entry] = await reader.read(mid, last, 1);
    if (entry === undefined) {
      high = mid;
    } else if (entry.ts < ts) {
      low = entry.seq + 1;
    } else {
      high = mid;
    }
  }
  return low;
}
