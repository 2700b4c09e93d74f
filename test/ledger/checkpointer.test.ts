/**
 * The Checkpointer on the real Ledger in a temp LevelDB directory (issue #5 item 4): a keyed
 * checkpoint every N records or after an interval when anything is new, never one over its own
 * checkpoint only, and a chain that verifies with the key afterwards.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { keyRingOf } from "../../src/crypto/keys/index.js";
import { parseCheckpointBody } from "../../src/ledger/checkpoint.js";
import { Checkpointer, type CheckpointerOptions } from "../../src/ledger/checkpointer.js";
import { Ledger } from "../../src/ledger/ledger.js";
import type { LedgerEntry } from "../../src/ledger/ledgerEntry.js";
import { verifyChain } from "../../src/ledger/verifyChain.js";
import { gatewayRing } from "../fixtures/protocol/envelopeFixtures.js";
import { sampleFields } from "../helpers/ledgerDir.js";
import { memoryLogger } from "../helpers/memoryLogger.js";
import { Resources } from "../helpers/resources.js";
import { waitUntil } from "../helpers/waitUntil.js";

const keys = gatewayRing();
const resources = new Resources();
let dir: string;
let running: { stop(): Promise<void> }[];

beforeEach(async () => {
  dir = await resources.tempDir("ew-checkpointer-");
  running = [];
});
afterEach(async () => {
  for (const component of running.reverse()) {
    await component.stop();
  }
  await resources.release();
});

async function start(options: CheckpointerOptions) {
  const { logger, lines } = memoryLogger();
  const ledger = new Ledger(
    {
      dir,
      commitIntervalMs: 5,
      commitMaxRecords: 1_000,
      degradedBufferRecords: 10_000,
      retention: { maxBytes: 2 ** 30, maxAgeMs: 86_400_000 },
    },
    { clock: systemClock, logger },
  );
  const signal = new AbortController().signal;
  await ledger.start(signal);
  running.push(ledger);
  const checkpointer = new Checkpointer(options, { ledger, keys, clock: systemClock, logger });
  await checkpointer.start(signal);
  running.push(checkpointer);
  return { ledger, checkpointer, lines };
}

async function checkpoints(ledger: Ledger): Promise<LedgerEntry[]> {
  return (await ledger.read(1, 100_000)).filter((entry) => entry.kind === "checkpoint");
}

describe("Checkpointer", () => {
  it("checkpoints every N records over the latest durable entry, signed with the active key id", async () => {
    const { ledger, checkpointer } = await start({ everyRecords: 10, intervalMs: 3_600_000 });
    for (let i = 0; i < 25; i++) {
      await ledger.append(sampleFields(i));
    }
    await waitUntil(() => checkpointer.counters.written >= 2, "two checkpoints");
    const written = await checkpoints(ledger);
    expect(written).toHaveLength(2);
    for (const checkpoint of written) {
      const body = parseCheckpointBody(checkpoint.body);
      expect(body).toMatchObject({ kid: "k2" });
      const [of] = await ledger.read(body?.ofSeq ?? 0, 1);
      expect(of?.hash).toBe(body?.ofHash);
      expect(of?.kind).toBe("sample");
      expect(checkpoint.seq).toBeGreaterThan(body?.ofSeq ?? Number.POSITIVE_INFINITY);
    }
    await Promise.all(
      running
        .splice(0)
        .reverse()
        .map((component) => component.stop()),
    );
    expect(await verifyChain(dir, { keys })).toMatchObject({
      ok: true,
      records: 27,
      checkpoints: { checked: 2, bad: 0, keyed: true },
    });
  });

  it("checkpoints after the interval when anything is new, and not again over its own checkpoint", async () => {
    const { ledger, checkpointer } = await start({ everyRecords: 1_000_000, intervalMs: 30 });
    await ledger.append(sampleFields(1));
    await ledger.append(sampleFields(2));
    await waitUntil(() => checkpointer.counters.written === 1, "the interval's checkpoint");
    const ticksThen = checkpointer.counters.ticks;
    await waitUntil(() => checkpointer.counters.ticks >= ticksThen + 5, "five more interval ticks");
    expect(checkpointer.counters.written).toBe(1);
    expect((await checkpoints(ledger)).map((entry) => parseCheckpointBody(entry.body)?.ofSeq)).toEqual([2]);

    await ledger.append(sampleFields(3));
    await waitUntil(() => checkpointer.counters.written === 2, "a checkpoint over the new entry");
    expect((await checkpoints(ledger)).map((entry) => parseCheckpointBody(entry.body)?.ofSeq)).toEqual([
      2, 4,
    ]);
  });

  it("writes nothing for a ledger with nothing new since start", async () => {
    const { checkpointer } = await start({ everyRecords: 1, intervalMs: 20 });
    await waitUntil(() => checkpointer.counters.ticks >= 3, "three interval ticks");
    expect(checkpointer.counters).toMatchObject({ written: 0, failed: 0 });
  });

  it("refuses to start with a key ring that cannot sign", async () => {
    const { logger } = memoryLogger();
    const deviceRing = keyRingOf(
      { kind: "device", device: "press-2", keys: [{ id: "k1", secret: new Uint8Array(16) }] },
      "press-2.key",
    );
    const ledger = new Ledger(
      {
        dir,
        commitIntervalMs: 5,
        commitMaxRecords: 1_000,
        degradedBufferRecords: 10_000,
        retention: { maxBytes: 2 ** 30, maxAgeMs: 86_400_000 },
      },
      { clock: systemClock, logger },
    );
    const checkpointer = new Checkpointer(
      { everyRecords: 10, intervalMs: 1_000 },
      { ledger, keys: deviceRing, clock: systemClock, logger },
    );
    await expect(checkpointer.start(new AbortController().signal)).rejects.toThrow(/gateway key file/);
    await checkpointer.stop();
  });

  it("counts and logs a checkpoint the ledger refuses, and retries only at the next interval", async () => {
    const { ledger, checkpointer, lines } = await start({ everyRecords: 1_000_000, intervalMs: 400 });
    await ledger.append(sampleFields(1));
    // The ledger stops under the checkpointer before its interval is due: the checkpoint fails.
    await ledger.stop();
    await waitUntil(() => checkpointer.counters.failed >= 2, "two failed attempts, one per interval");
    expect(checkpointer.counters).toMatchObject({ written: 0 });
    expect(checkpointer.counters.failed).toBeLessThanOrEqual(checkpointer.counters.ticks);
    expect(lines.some((line) => String(line.msg).includes("checkpoint could not be appended"))).toBe(true);
  });
});
