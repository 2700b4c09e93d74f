/**
 * A process crash loses nothing that was acknowledged (issue #5 item 1, FAULTS 8.8 SIGKILL): a
 * child appends without pause and reports each append that resolved; it is SIGKILLed mid-stream,
 * and every reported entry is found, unchanged, by the next open, whose chain continues unbroken.
 */
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import type { Ledger } from "../../src/ledger/ledger.js";
import { assertBuilt } from "../helpers/daemon.js";
import { isRecord, LineChild } from "../helpers/lineChild.js";
import { repoRoot } from "../helpers/paths.js";
import { Resources } from "../helpers/resources.js";
import { expectChained, readAll, startLedger } from "./ledgerKit.js";

const CHILD = join(repoRoot, "test", "ledger", "fixtures", "appendUntilKilled.mjs");
const ROUNDS = 4;

let resources: Resources;
let dir: string;
let open: Ledger[];

beforeAll(() => {
  assertBuilt();
});

beforeEach(async () => {
  resources = new Resources();
  dir = await resources.tempDir("edgewarden-ledger-crash-");
  open = [];
});

afterEach(async () => {
  await Promise.all(open.map((ledger) => ledger.stop()));
  await resources.release();
});

it("keeps every entry whose append resolved when the process is SIGKILLed", async () => {
  const reported = new Map<number, string>();
  for (let round = 0; round < ROUNDS; round++) {
    const child = resources.track(
      new LineChild(`appender-${round}`, process.execPath, [CHILD, dir], { env: { PATH: process.env.PATH } }),
    );
    await child.waitFor((line) => line.ready === true, "the appender to open the ledger");
    // A different point of the stream each round: after 500, 1,500, 2,500 ... resolved appends.
    await child.waitForCount((line) => typeof line.durable === "number", 500 + round * 1_000, "appends");
    child.signal("SIGKILL");
    const exit = await child.waitForExit();
    expect(exit.signal).toBe("SIGKILL");
    expect(child.lines.some((line) => "failed" in line)).toBe(false);
    for (const line of child.lines) {
      if (isRecord(line) && typeof line.durable === "number" && typeof line.hash === "string") {
        reported.set(line.durable, line.hash);
      }
    }
  }

  const { ledger } = await startLedger(open, dir);
  const stored = await readAll(ledger);
  const hashes = new Map(stored.map((entry) => [entry.seq, entry.hash]));
  const missing = [...reported].filter(([seq, hash]) => hashes.get(seq) !== hash).map(([seq]) => seq);
  expect(missing, "entries reported durable but not found as reported").toEqual([]);
  expect(stored[0]?.seq).toBe(1);
  expectChained(stored);
});
