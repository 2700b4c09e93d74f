/**
 * Ledger directories for the integrity tests (issue #5 item 4), written straight into a real
 * classic-level database with makeEntry and the key layout of ledgerLayout.ts, so that verify
 * and the `ledger` commands are tested without the Ledger component; and raw access to change,
 * delete and swap stored records the way an attacker or a bad disk would.
 */
import { ClassicLevel } from "classic-level";
import { type CheckpointKeys, checkpointFields } from "../../src/ledger/checkpoint.js";
import { type EntryFields, GENESIS_PREV, type LedgerEntry, makeEntry } from "../../src/ledger/ledgerEntry.js";
import { ACKED_KEY, entryKey, SEGMENT_KEY } from "../../src/ledger/ledgerLayout.js";

export type RawLedgerDb = ClassicLevel<Uint8Array, string>;

export interface LedgerDirOptions {
  /** Entries to write (checkpoints included). */
  readonly records: number;
  /** Seq of the first entry; > 1 looks like a ledger whose front retention removed. Default 1. */
  readonly firstSeq?: number;
  /** prev of the first entry. Default GENESIS_PREV. */
  readonly prev?: string;
  /** With keys: every Nth entry is a checkpoint over the entry before it. */
  readonly checkpointEvery?: number;
  readonly keys?: CheckpointKeys;
  /** Write m:segment {startSeq: firstSeq, prev} as the corrupt-DB recovery does. */
  readonly segment?: boolean;
  readonly ackedSeq?: number;
  /** The fields of the non-checkpoint entry of `seq`. Default: a sample of press-2. */
  readonly fields?: (seq: number) => EntryFields;
}

const BASE_TS = 1_795_320_853_847;

/** A sample entry body of about 200 bytes, as sampleToJson writes one. */
export function sampleFields(seq: number): EntryFields {
  const ts = BASE_TS + seq * 100;
  const body = JSON.stringify({
    kind: "sample",
    device: "press-2",
    group: "fast",
    ts,
    clockSynced: true,
    values: {
      motor_temp: { value: 60 + (seq % 200) / 10, quality: "good", unit: "°C" },
      spindle_rpm: { value: 1_200 + (seq % 37), quality: "good", unit: "rpm" },
    },
  });
  return { ts, clockSynced: true, kind: "sample", device: "press-2", body };
}

export function openRawLedger(dir: string): RawLedgerDb {
  return new ClassicLevel<Uint8Array, string>(dir, { keyEncoding: "view", valueEncoding: "utf8" });
}

/** Runs `use` on the directory's database, opened (created if missing) and closed around it. */
export async function withRawLedger<T>(dir: string, use: (db: RawLedgerDb) => Promise<T>): Promise<T> {
  const db = openRawLedger(dir);
  await db.open();
  try {
    return await use(db);
  } finally {
    await db.close();
  }
}

/** Writes a chained ledger into `dir` (a new or existing directory) and returns its entries. */
export async function writeLedgerDir(dir: string, options: LedgerDirOptions): Promise<LedgerEntry[]> {
  const firstSeq = options.firstSeq ?? 1;
  const fields = options.fields ?? sampleFields;
  const entries: LedgerEntry[] = [];
  await withRawLedger(dir, async (db) => {
    let prev = options.prev ?? GENESIS_PREV;
    let batch = db.batch();
    for (let i = 0; i < options.records; i++) {
      const seq = firstSeq + i;
      const last = entries.at(-1);
      const every = options.checkpointEvery;
      const entry =
        every !== undefined && options.keys !== undefined && last !== undefined && (i + 1) % every === 0
          ? makeEntry(
              seq,
              checkpointFields(options.keys, last.seq, last.hash, BASE_TS + seq * 100, true),
              prev,
            )
          : makeEntry(seq, fields(seq), prev);
      entries.push(entry);
      batch.put(entryKey(seq), entry.text);
      prev = entry.hash;
      if (batch.length >= 5_000) {
        await batch.write();
        batch = db.batch();
      }
    }
    if (options.segment === true) {
      batch.put(SEGMENT_KEY, JSON.stringify({ startSeq: firstSeq, prev: options.prev ?? GENESIS_PREV }));
    }
    if (options.ackedSeq !== undefined) {
      batch.put(ACKED_KEY, String(options.ackedSeq));
    }
    await batch.write();
  });
  return entries;
}

export async function putRawEntry(dir: string, seq: number, text: string): Promise<void> {
  await withRawLedger(dir, (db) => db.put(entryKey(seq), text));
}

export async function deleteRawEntry(dir: string, seq: number): Promise<void> {
  await withRawLedger(dir, (db) => db.del(entryKey(seq)));
}

/** Stores each of two records under the other's key. */
export async function swapRawEntries(dir: string, a: number, b: number): Promise<void> {
  await withRawLedger(dir, async (db) => {
    const [textA, textB] = await db.getMany([entryKey(a), entryKey(b)]);
    if (textA === undefined || textB === undefined) {
      throw new Error(`cannot swap ${a} and ${b}: not both stored`);
    }
    await db.batch([
      { type: "put", key: entryKey(a), value: textB },
      { type: "put", key: entryKey(b), value: textA },
    ]);
  });
}

/** The text with the character at `index` replaced by another of the same kind (digit, hex, letter). */
export function flipCharacter(text: string, index: number): string {
  const old = text[index];
  if (old === undefined) {
    throw new RangeError(`index ${index} is outside the text`);
  }
  const replacement = /[0-8a-e]/.test(old)
    ? String.fromCharCode(old.charCodeAt(0) + 1)
    : old === "9"
      ? "0"
      : old === "f"
        ? "0"
        : "x";
  return `${text.slice(0, index)}${replacement}${text.slice(index + 1)}`;
}

/**
 * The same chain rewritten consistently from `fromSeq` on: `change` alters an entry's fields and
 * every hash after it is recomputed, checkpoints included (their ofHash follows the new chain;
 * their MAC cannot, without the key, so it is copied as it was). What an attacker with the disk
 * but not the key can do.
 */
export function rewriteConsistently(
  entries: readonly LedgerEntry[],
  fromSeq: number,
  change: (entry: LedgerEntry) => EntryFields,
): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  const newHashBySeq = new Map<number, string>();
  for (const entry of entries) {
    if (entry.seq < fromSeq) {
      out.push(entry);
      newHashBySeq.set(entry.seq, entry.hash);
      continue;
    }
    const prev = out.at(-1)?.hash ?? entry.prev;
    let fields: EntryFields = entry.seq === fromSeq ? change(entry) : entry;
    if (entry.kind === "checkpoint") {
      const body = JSON.parse(entry.body) as { ofSeq: string; ofHash: string; kid: string; mac: string };
      const ofHash = newHashBySeq.get(Number(body.ofSeq)) ?? body.ofHash;
      fields = {
        ...fields,
        body: `{"ofSeq":"${body.ofSeq}","ofHash":"${ofHash}","kid":"${body.kid}","mac":"${body.mac}"}`,
      };
    }
    const rewritten = makeEntry(entry.seq, fields, prev);
    out.push(rewritten);
    newHashBySeq.set(entry.seq, rewritten.hash);
  }
  return out;
}

/** Overwrites the stored texts of these entries. */
export async function putRawEntries(dir: string, entries: readonly LedgerEntry[]): Promise<void> {
  await withRawLedger(dir, async (db) => {
    await db.batch(
      entries.map((entry) => ({ type: "put" as const, key: entryKey(entry.seq), value: entry.text })),
    );
  });
}
