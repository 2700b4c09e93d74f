/**
 * Tamper detection (issue #5 "Must show": one changed byte in any record, one deleted record,
 * two swapped records -> the first bad seq is named; a whole chain rewritten consistently is
 * caught by the checkpoint HMAC). Every character position of a record is tried against the
 * chain walker; a sample of positions, deletion, swapping and the rewrite go through real
 * LevelDB directories and verifyChain.
 */
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChainWalker } from "../../src/ledger/chainWalker.js";
import { HASH_MISMATCH, HashWorker } from "../../src/ledger/hashWorker.js";
import type { LedgerEntry } from "../../src/ledger/ledgerEntry.js";
import { verifyChain } from "../../src/ledger/verifyChain.js";
import { gatewayRing } from "../fixtures/protocol/envelopeFixtures.js";
import {
  deleteRawEntry,
  flipCharacter,
  putRawEntries,
  putRawEntry,
  rewriteConsistently,
  swapRawEntries,
  writeLedgerDir,
} from "../helpers/ledgerDir.js";
import { Resources } from "../helpers/resources.js";

const keys = gatewayRing();
const RECORDS = 300;
const TARGET = 137;

const resources = new Resources();
let dir: string;
let entries: LedgerEntry[];
beforeEach(async () => {
  dir = join(await resources.tempDir("ew-tamper-"), "ledger");
  entries = await writeLedgerDir(dir, { records: RECORDS, checkpointEvery: 50, keys });
});
afterEach(() => resources.release());

function target(): LedgerEntry {
  const entry = entries[TARGET - 1];
  if (entry?.seq !== TARGET) {
    throw new Error("the chain does not hold the target seq");
  }
  return entry;
}

/** The walker's verdict on the chain with the target record's text replaced. */
function walkWith(text: string) {
  const walker = new ChainWalker({ keys });
  for (const entry of entries) {
    walker.visit(entry.seq, entry.seq === TARGET ? text : entry.text);
  }
  return walker.summary();
}

describe("one changed character", () => {
  it("at every position of a record, names that record's seq", () => {
    const text = target().text;
    const verdicts = new Map<string, number>();
    for (let index = 0; index < text.length; index++) {
      const summary = walkWith(flipCharacter(text, index));
      expect(summary.ok, `position ${index}`).toBe(false);
      expect(summary.firstBad?.seq, `position ${index}`).toBe(TARGET);
      const reason = summary.firstBad?.reason ?? "none";
      verdicts.set(reason, (verdicts.get(reason) ?? 0) + 1);
    }
    expect([...verdicts.keys()].sort()).toEqual(["hash mismatch", "malformed", "seq mismatch"]);
  });

  it("at every position, checked on the hash worker, gives the same verdict as on the main thread", async () => {
    const text = target().text;
    const hashes = new HashWorker((seq, result) =>
      deferred.hashFailed(seq, result === HASH_MISMATCH ? "hash mismatch" : "malformed"),
    );
    let deferred = new ChainWalker({ keys, hashCheck: "deferred" });
    try {
      for (let index = 0; index < text.length; index++) {
        const changed = flipCharacter(text, index);
        deferred = new ChainWalker({ keys, hashCheck: "deferred" });
        for (const entry of entries) {
          const stored = entry.seq === TARGET ? changed : entry.text;
          deferred.visit(entry.seq, stored);
          await hashes.add(entry.seq, stored);
        }
        await hashes.flush();
        expect(deferred.summary().firstBad, `position ${index}`).toEqual(walkWith(changed).firstBad);
      }
    } finally {
      await hashes.close();
    }
  });

  it.each([
    ["body", (text: string) => text.indexOf('"value":') + 9, "hash mismatch"],
    ["ts", (text: string) => text.indexOf('"ts":') + 8, "hash mismatch"],
    ["prev", (text: string) => text.indexOf('"prev":"') + 20, "hash mismatch"],
    ["hash", (text: string) => text.indexOf('"hash":"') + 30, "hash mismatch"],
    ["seq", (text: string) => text.indexOf('"seq":"') + 9, "seq mismatch"],
  ])(
    "in the %s, stored on disk: verify names the seq (hashes on the main thread and on the worker)",
    async (_field, position, reason) => {
      const text = target().text;
      await putRawEntry(dir, TARGET, flipCharacter(text, position(text)));
      for (const hashWorker of [false, true]) {
        expect(await verifyChain(dir, { hashWorker })).toMatchObject({
          ok: false,
          records: RECORDS,
          firstBad: { seq: TARGET, reason },
        });
      }
    },
  );
});

describe.each([
  ["on the main thread", false],
  ["on the hash worker", true],
])("records deleted, swapped or rewritten, hashes checked %s", (_where, hashWorker) => {
  const verify = (options: { keys?: typeof keys } = {}) => verifyChain(dir, { ...options, hashWorker });

  it("leaves an untouched chain intact, with and without the key", async () => {
    expect(await verify()).toMatchObject({ ok: true, records: RECORDS, firstBad: null });
    expect(await verify({ keys })).toMatchObject({ ok: true, checkpoints: { checked: 6, bad: 0 } });
  });

  it("names a deleted record as missing", async () => {
    await deleteRawEntry(dir, TARGET);
    expect(await verify()).toMatchObject({
      ok: false,
      records: RECORDS - 1,
      firstBad: { seq: TARGET, reason: "missing" },
    });
  });

  it("names the first of two swapped records", async () => {
    await swapRawEntries(dir, TARGET, TARGET + 1);
    expect(await verify()).toMatchObject({
      ok: false,
      records: RECORDS,
      firstBad: { seq: TARGET, reason: "seq mismatch" },
    });
  });

  it("names the first of two records swapped far apart", async () => {
    await swapRawEntries(dir, TARGET, RECORDS - 3);
    expect(await verify()).toMatchObject({
      ok: false,
      firstBad: { seq: TARGET, reason: "seq mismatch" },
    });
  });

  it("catches a whole chain rewritten consistently only with the key: checkpoint mac mismatch", async () => {
    // From the first record on, every hash and every checkpoint's ofHash recomputed: only the
    // MACs, which need the key, are left as they were.
    const rewritten = rewriteConsistently(entries, 1, (entry) => ({ ...entry, ts: entry.ts - 3_600_000 }));
    await putRawEntries(dir, rewritten);
    expect(await verify()).toMatchObject({ ok: true, records: RECORDS });
    expect(await verify({ keys })).toMatchObject({
      ok: false,
      firstBad: { seq: 50, reason: "checkpoint mac mismatch" },
      checkpoints: { checked: 6, bad: 6, keyed: true },
    });
  });
});

describe("a ledger larger than the hash worker's slots", () => {
  it("names the lowest bad seq whichever thread finds it first", async () => {
    const big = join(await resources.tempDir("ew-tamper-big-"), "ledger");
    const chain = await writeLedgerDir(big, { records: 12_000 });
    const late = chain[11_000] as LedgerEntry;
    const early = chain[7_000] as LedgerEntry;
    // A broken link at 11_001 (seen on the main thread) and an altered body at 7_001 (seen by the
    // worker, later): the summary names 7_001.
    await putRawEntry(big, late.seq, late.text.replace(late.prev, "0".repeat(64)));
    await putRawEntry(big, early.seq, flipCharacter(early.text, early.text.indexOf('"value":') + 9));
    for (const hashWorker of [undefined, true, false]) {
      expect(await verifyChain(big, hashWorker === undefined ? {} : { hashWorker })).toMatchObject({
        ok: false,
        records: 12_000,
        firstBad: { seq: early.seq, reason: "hash mismatch" },
      });
    }
  });
});
