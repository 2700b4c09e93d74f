/**
 * verifyChain on real LevelDB directories (issue #5 item 4): the summary of a sound chain, the
 * first-entry rules (genesis, front removed by retention, a new segment after a recovery), keys
 * whose bytes are not valid UTF-8 (the walk reads keys as text for speed), keyed checkpoints,
 * and directories it cannot open — without creating one.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { keyRingOf } from "../../src/crypto/keys/index.js";
import { checkpointFields } from "../../src/ledger/checkpoint.js";
import { GENESIS_PREV, type LedgerEntry, makeEntry } from "../../src/ledger/ledgerEntry.js";
import { LedgerUnopenableError } from "../../src/ledger/ledgerInspection.js";
import { SEGMENT_KEY } from "../../src/ledger/ledgerLayout.js";
import { verifyChain } from "../../src/ledger/verifyChain.js";
import { gatewayRing, MASTER_K1 } from "../fixtures/protocol/envelopeFixtures.js";
import {
  openRawLedger,
  putRawEntries,
  putRawEntry,
  rewriteConsistently,
  sampleFields,
  swapRawEntries,
  withRawLedger,
  writeLedgerDir,
} from "../helpers/ledgerDir.js";
import { Resources } from "../helpers/resources.js";

const resources = new Resources();
let dir: string;
beforeEach(async () => {
  dir = join(await resources.tempDir("ew-verify-"), "ledger");
});
afterEach(() => resources.release());

const SOME_PREV = "ab".repeat(32);

describe("verifyChain on a sound ledger", () => {
  it("summarises a chain from genesis: records, seqs, head, no problem", async () => {
    const entries = await writeLedgerDir(dir, { records: 500 });
    expect(await verifyChain(dir)).toEqual({
      records: 500,
      firstSeq: 1,
      lastSeq: 500,
      head: entries.at(-1)?.hash,
      ok: true,
      firstBad: null,
      checkpoints: { checked: 0, bad: 0, keyed: false },
    });
  });

  it("accepts a ledger whose front retention removed (first seq > 1, any prev)", async () => {
    await writeLedgerDir(dir, { records: 50, firstSeq: 1_000, prev: SOME_PREV });
    expect(await verifyChain(dir)).toMatchObject({ ok: true, records: 50, firstSeq: 1_000, lastSeq: 1_049 });
  });

  it("refuses seq 1 that does not start from the genesis prev, unless m:segment says a segment starts there", async () => {
    await writeLedgerDir(dir, { records: 5, prev: SOME_PREV });
    expect(await verifyChain(dir)).toMatchObject({ ok: false, firstBad: { seq: 1, reason: "broken link" } });

    await writeLedgerDir(dir, { records: 5, prev: SOME_PREV, segment: true });
    expect(await verifyChain(dir)).toMatchObject({ ok: true, records: 5 });
  });

  it("accepts the link m:segment names inside the stored range, and only that one", async () => {
    await writeLedgerDir(dir, { records: 10 });
    // A segment restarted at 11 from the last good head of an older copy, not from entry 10.
    const restarted = [makeEntry(11, sampleFields(11), SOME_PREV)];
    restarted.push(makeEntry(12, sampleFields(12), restarted[0]?.hash ?? ""));
    await putRawEntries(dir, restarted);
    expect(await verifyChain(dir)).toMatchObject({ ok: false, firstBad: { seq: 11, reason: "broken link" } });
    await withRawLedger(dir, (db) => db.put(SEGMENT_KEY, JSON.stringify({ startSeq: 11, prev: SOME_PREV })));
    expect(await verifyChain(dir)).toMatchObject({ ok: true, records: 12, head: restarted[1]?.hash });
  });

  it("reports an empty ledger as sound with no seqs", async () => {
    await withRawLedger(dir, async () => {});
    expect(await verifyChain(dir)).toEqual({
      records: 0,
      firstSeq: null,
      lastSeq: null,
      head: null,
      ok: true,
      firstBad: null,
      checkpoints: { checked: 0, bad: 0, keyed: false },
    });
  });

  it.each([
    ["bytes 0x80-0xff in the last key byte", 200, 400],
    ["valid two-byte UTF-8 sequences in the key (0xc2 0x80 = 49792)", 49_700, 300],
    ["the 2^32 boundary", 2 ** 32 - 150, 300],
  ])("reads keys holding %s exactly, and still names a swap there", async (_what, firstSeq, records) => {
    await writeLedgerDir(dir, { records, firstSeq, prev: SOME_PREV });
    expect(await verifyChain(dir)).toMatchObject({
      ok: true,
      records,
      firstSeq,
      lastSeq: firstSeq + records - 1,
    });
    const swapped = firstSeq + 100;
    await swapRawEntries(dir, swapped, swapped + 1);
    expect(await verifyChain(dir)).toMatchObject({
      ok: false,
      records,
      firstBad: { seq: swapped, reason: "seq mismatch" },
    });
  });
});

describe("verifyChain on a damaged ledger", () => {
  it("reports text that is not an entry as malformed, and goes on counting", async () => {
    await writeLedgerDir(dir, { records: 20 });
    await putRawEntry(dir, 7, "not a ledger entry");
    expect(await verifyChain(dir)).toMatchObject({
      ok: false,
      records: 20,
      lastSeq: 20,
      firstBad: { seq: 7, reason: "malformed" },
    });
  });

  it("reports uppercase hex in prev as malformed (the format is lowercase)", async () => {
    const [first] = await writeLedgerDir(dir, { records: 3, firstSeq: 10, prev: SOME_PREV });
    await putRawEntry(dir, 10, (first?.text ?? "").replace(SOME_PREV, SOME_PREV.toUpperCase()));
    expect(await verifyChain(dir)).toMatchObject({ ok: false, firstBad: { seq: 10, reason: "malformed" } });
  });

  it("reports a damaged table file at the first seq it could not read, with LevelDB's reason", async () => {
    await writeLedgerDir(dir, { records: 3_000 });
    await withRawLedger(dir, (db) => db.compactRange(Uint8Array.of(0), Uint8Array.of(0xff)));
    const tables = (await readdir(dir)).filter((name) => name.endsWith(".ldb"));
    const table = join(dir, tables[0] ?? "no table file");
    const bytes = await readFile(table);
    for (let i = 0; i < 64; i++) {
      bytes[Math.floor(bytes.length / 3) + i] = (bytes[Math.floor(bytes.length / 3) + i] ?? 0) ^ 0xff;
    }
    await writeFile(table, bytes);
    const summary = await verifyChain(dir);
    // LevelDB skips a block it cannot read and reports the corruption when the walk goes on or
    // ends: the first bad seq is where records stop coming, with LevelDB's reason attached.
    expect(summary).toMatchObject({ ok: false, firstBad: { detail: /Corruption/ } });
    expect(["missing", "unreadable"]).toContain(summary.firstBad?.reason);
    expect(summary.firstBad?.seq).toBeGreaterThan(1);
    expect(summary.firstBad?.seq).toBeLessThan(3_000);
  });

  it("reports a key in the entry range that is not 'e' + u64be(seq)", async () => {
    await writeLedgerDir(dir, { records: 10 });
    await withRawLedger(dir, (db) => db.put(Uint8Array.of(0x65, 0, 0, 0, 0, 0, 0, 0, 5, 0), "stray"));
    expect(await verifyChain(dir)).toMatchObject({
      ok: false,
      records: 11,
      firstBad: { seq: 6, reason: "malformed" },
    });
  });
});

describe("verifyChain with keyed checkpoints", () => {
  const keys = gatewayRing();

  it("checks every checkpoint's MAC and ofHash with the gateway key ring", async () => {
    await writeLedgerDir(dir, { records: 400, checkpointEvery: 50, keys });
    expect(await verifyChain(dir, { keys })).toMatchObject({
      ok: true,
      records: 400,
      checkpoints: { checked: 8, bad: 0, keyed: true },
    });
    expect(await verifyChain(dir)).toMatchObject({
      ok: true,
      checkpoints: { checked: 8, bad: 0, keyed: false },
    });
  });

  it("catches a consistent rewrite by the MAC only, at the first checkpoint after the change", async () => {
    const entries = await writeLedgerDir(dir, { records: 400, checkpointEvery: 50, keys });
    const rewritten = rewriteConsistently(entries, 120, (entry) => ({
      ...entry,
      body: entry.body.replace('"quality":"good"', '"quality":"bad"'),
    }));
    await putRawEntries(dir, rewritten);
    expect(await verifyChain(dir)).toMatchObject({ ok: true, records: 400 });
    expect(await verifyChain(dir, { keys })).toMatchObject({
      ok: false,
      firstBad: { seq: 150, reason: "checkpoint mac mismatch" },
      checkpoints: { checked: 8, bad: 6, keyed: true },
    });
  });

  it("catches a rewrite that left a checkpoint's ofHash stale, even without the key", async () => {
    const entries = await writeLedgerDir(dir, { records: 100, checkpointEvery: 50, keys });
    // Rewrites the chain from 40 on, then puts back the checkpoint at 50 as it was (its ofHash the
    // old hash of 49), re-hashed so that it links: only its ofHash gives the rewrite away.
    const rewritten = rewriteConsistently(entries, 40, (entry) => ({ ...entry, ts: entry.ts + 1 })).map(
      (entry) =>
        entry.kind === "checkpoint"
          ? makeEntry(entry.seq, { ...entry, body: entries[entry.seq - 1]?.body ?? "" }, entry.prev)
          : entry,
    );
    await putRawEntries(dir, rewritten);
    expect(await verifyChain(dir)).toMatchObject({
      ok: false,
      firstBad: { seq: 50, reason: "checkpoint hash mismatch" },
    });
  });

  it("treats a checkpoint under a key id the ring lacks as unverified, not as sound", async () => {
    const k3 = keyRingOf(
      {
        kind: "gateway",
        active: "k3",
        keys: [{ id: "k3", created: "2026-01-01T00:00:00.000Z", secret: MASTER_K1.slice() }],
      },
      "k3 ring",
    );
    await writeLedgerDir(dir, { records: 60, checkpointEvery: 50, keys: k3 });
    expect(await verifyChain(dir, { keys })).toMatchObject({
      ok: false,
      firstBad: { seq: 50, reason: "checkpoint key unknown" },
    });
  });

  it("looks up the hash of a checkpointed entry beyond the recent window, and skips one retention removed", async () => {
    const entries: LedgerEntry[] = [];
    let prev = GENESIS_PREV;
    for (let seq = 1; seq <= 5_000; seq++) {
      const entry = makeEntry(seq, sampleFields(seq), prev);
      entries.push(entry);
      prev = entry.hash;
    }
    const far = entries[9] as LedgerEntry;
    entries.push(makeEntry(5_001, checkpointFields(keys, far.seq, far.hash, 1, true), prev));
    await putRawEntries(dir, entries);
    expect(await verifyChain(dir, { keys })).toMatchObject({ ok: true, checkpoints: { checked: 1, bad: 0 } });

    const wrong = makeEntry(5_001, checkpointFields(keys, far.seq, prev, 1, true), prev);
    await putRawEntries(dir, [wrong]);
    expect(await verifyChain(dir, { keys })).toMatchObject({
      ok: false,
      firstBad: { seq: 5_001, reason: "checkpoint hash mismatch" },
    });
    await putRawEntries(dir, [entries[5_000] as LedgerEntry]);
    await withRawLedger(dir, (db) => db.clear({ lte: new Uint8Array([0x65, 0, 0, 0, 0, 0, 0, 0, 20]) }));
    expect(await verifyChain(dir, { keys })).toMatchObject({
      ok: true,
      firstSeq: 21,
      checkpoints: { checked: 1 },
    });
  });
});

describe("verifyChain on a directory it cannot use", () => {
  it("refuses a directory that does not exist, and does not create it", async () => {
    await expect(verifyChain(dir)).rejects.toThrow(new LedgerUnopenableError(`ledger ${dir} does not exist`));
    expect(existsSync(dir)).toBe(false);
  });

  it("says so when the daemon holds the LevelDB lock", async () => {
    await writeLedgerDir(dir, { records: 3 });
    const held = openRawLedger(dir);
    await held.open();
    try {
      await expect(verifyChain(dir)).rejects.toThrow(
        `ledger ${dir} is in use by a running daemon (LevelDB lock); stop it or copy the directory`,
      );
    } finally {
      await held.close();
    }
  });
});
