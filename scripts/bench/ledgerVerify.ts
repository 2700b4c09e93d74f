/**
 * Verify benchmark (issue #5 item 4: `ledger verify` >= 300,000 records/s on this 2-core machine):
 * writes a chain of RECORDS entries (a 200-byte sample body each, as the append benchmark uses,
 * and a keyed checkpoint every 10,000) into a LevelDB directory, then times verifyChain over it,
 * without and with the key ring. Each figure is the best of ROUNDS runs (this VM's speed swings
 * by 2x over seconds); all runs are printed, with records per CPU-second, and beside them the bare
 * LevelDB walk ("iterate only") as the floor verify cannot go below. Called by
 * scripts/bench/ledger.ts, or alone:
 *
 *   npx tsc -p tsconfig.scripts.json && node dist-scripts/scripts/bench/ledgerVerify.js
 */
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ClassicLevel } from "classic-level";
import { keyRingOf } from "../../src/crypto/keys/index.js";
import { checkpointFields } from "../../src/ledger/checkpoint.js";
import { type EntryFields, GENESIS_PREV, makeEntry } from "../../src/ledger/ledgerEntry.js";
import { entryKey } from "../../src/ledger/ledgerLayout.js";
import { verifyChain } from "../../src/ledger/verifyChain.js";

const RECORDS = 500_000;
const CHECKPOINT_EVERY = 10_000;
const ROUNDS = 3;
const BODY_BYTES = 200;
const TARGET_PER_S = 300_000;

function body(seq: number): string {
  const head = `{"kind":"sample","device":"press-2","ts":${1_795_320_853_847 + seq},"clockSynced":true,"values":{"pressure":{"value":${182 + (seq % 100) / 4},"quality":"good","unit":"bar"},"note":"`;
  return `${head}${"x".repeat(Math.max(0, BODY_BYTES - head.length - 3))}"}}`;
}

async function writeChain(dir: string, keys: ReturnType<typeof keyRingOf>): Promise<number> {
  const db = new ClassicLevel<Uint8Array, string>(dir, { keyEncoding: "view", valueEncoding: "utf8" });
  await db.open();
  let prev = GENESIS_PREV;
  let lastSeq = 0;
  let bytes = 0;
  let batch = db.batch();
  for (let seq = 1; seq <= RECORDS; seq++) {
    const ts = 1_795_320_853_847 + seq;
    const fields: EntryFields =
      seq % CHECKPOINT_EVERY === 0
        ? checkpointFields(keys, lastSeq, prev, ts, true)
        : { ts, clockSynced: true, kind: "sample", device: "press-2", body: body(seq) };
    const entry = makeEntry(seq, fields, prev);
    batch.put(entryKey(seq), entry.text);
    bytes += entry.text.length;
    prev = entry.hash;
    lastSeq = seq;
    if (batch.length >= 10_000) {
      await batch.write();
      batch = db.batch();
    }
  }
  await batch.write();
  await db.close();
  return Math.round(bytes / RECORDS);
}

interface Run {
  readonly what: string;
  readonly recordsPerS: number;
  /** Records per second of CPU time of the whole process (main thread and LevelDB's threads). */
  readonly recordsPerCpuS: number;
  readonly seconds: number;
}

async function timed(what: string, run: () => Promise<void>): Promise<Run> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await run();
  const seconds = (performance.now() - start) / 1_000;
  const used = process.cpuUsage(cpu);
  return {
    what,
    recordsPerS: Math.round(RECORDS / seconds),
    recordsPerCpuS: Math.round(RECORDS / ((used.user + used.system) / 1e6)),
    seconds: Math.round(seconds * 100) / 100,
  };
}

/** The floor under verify: the same LevelDB walk with the same encodings and no checks. */
async function iterateOnly(dir: string): Promise<void> {
  const db = new ClassicLevel<Uint8Array, string>(dir, { keyEncoding: "view", valueEncoding: "utf8" });
  await db.open();
  const iterator = db.iterator<string, string>({
    gte: "e",
    lt: "f",
    keyEncoding: "utf8",
    valueEncoding: "utf8",
    highWaterMarkBytes: 1024 * 1024,
  });
  let seen = 0;
  let pending = iterator.nextv(1_000);
  for (let batch = await pending; batch.length > 0; batch = await pending) {
    pending = iterator.nextv(1_000);
    seen += batch.length;
  }
  await iterator.close();
  await db.close();
  if (seen !== RECORDS) {
    throw new Error(`iterated ${seen} records, wrote ${RECORDS}`);
  }
}

/** Times verifyChain over a fresh chain of RECORDS entries; JSON-ready figures. */
export async function benchVerify() {
  const dir = await mkdtemp(join(tmpdir(), "edgewarden-bench-verify-"));
  const master = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
  const keys = keyRingOf(
    {
      kind: "gateway",
      active: "k1",
      keys: [{ id: "k1", created: "2026-01-01T00:00:00.000Z", secret: master }],
    },
    "bench key ring",
  );
  try {
    const entryBytes = await writeChain(dir, keys);
    const runs: Run[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      runs.push(await timed("iterate only", () => iterateOnly(dir)));
      for (const keyed of [false, true]) {
        runs.push(
          await timed(keyed ? "verify, keyed" : "verify", async () => {
            const summary = await verifyChain(dir, keyed ? { keys } : {});
            if (summary.records !== RECORDS || !summary.ok) {
              throw new Error(`verify saw ${summary.records} records (ok: ${summary.ok}), wrote ${RECORDS}`);
            }
          }),
        );
      }
    }
    const best = (what: string) => Math.max(...runs.filter((r) => r.what === what).map((r) => r.recordsPerS));
    return {
      records: RECORDS,
      entryBytes,
      checkpointEvery: CHECKPOINT_EVERY,
      // This VM is shared: the load says how much of its two cores the runs had.
      loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
      target: { recordsPerS: TARGET_PER_S },
      bestRecordsPerS: {
        verify: best("verify"),
        verifyKeyed: best("verify, keyed"),
        iterateOnly: best("iterate only"),
      },
      runs,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.stdout.write(
    `${JSON.stringify({ bench: "ledger verify", verify: await benchVerify() }, null, 2)}\n`,
  );
}
