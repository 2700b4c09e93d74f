/**
 * Events reach the journal at once and the ledger while one is attached (issue #5): those emitted
 * before the ledger runs wait in a bounded queue, and overflow is said in the next recorded event.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LedgerEventSink, UNATTACHED_EVENT_LIMIT } from "../../src/daemon/ledgerEventSink.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import { isRecord } from "../helpers/lineChild.js";
import { FakeClock, memoryLogger } from "../helpers/memoryLogger.js";
import { waitUntil } from "../helpers/waitUntil.js";
import { readAll, startLedger } from "../ledger/ledgerKit.js";

const open: Ledger[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((ledger) => ledger.stop()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function ledgerDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ew-events-"));
  dirs.push(dir);
  return dir;
}

describe("LedgerEventSink", () => {
  it("logs every event and appends it to the attached ledger as an event entry of no device", async () => {
    const clock = new FakeClock();
    const { logger, lines } = memoryLogger({ clock });
    const sink = new LedgerEventSink(logger, clock);
    sink.emit({ type: "config.reloaded", severity: "info", message: "before the ledger" });
    const { ledger } = await startLedger(open, await ledgerDir());
    sink.attach(ledger);
    sink.emit({ type: "storage.degraded", severity: "warning", message: "after", details: { free: 0 } });
    await waitUntil(() => ledger.durableSeq() === 2, "both events durable");
    const entries = await readAll(ledger);
    expect(entries.map((entry) => [entry.kind, entry.device])).toEqual([
      ["event", "_gateway"],
      ["event", "_gateway"],
    ]);
    expect(entries.map((entry) => JSON.parse(entry.body))).toEqual([
      { type: "config.reloaded", severity: "info", message: "before the ledger" },
      { type: "storage.degraded", severity: "warning", message: "after", details: { free: 0 } },
    ]);
    expect(lines.filter((line) => isRecord(line.event))).toHaveLength(2);
  });

  it("holds at most UNATTACHED_EVENT_LIMIT events while detached and reports the overflow", async () => {
    const clock = new FakeClock();
    const sink = new LedgerEventSink(memoryLogger({ clock }).logger, clock);
    const over = 5;
    for (let index = 0; index < UNATTACHED_EVENT_LIMIT + over; index++) {
      sink.emit({ type: "test.burst", severity: "info", message: `event ${index}` });
    }
    const { ledger } = await startLedger(open, await ledgerDir());
    sink.attach(ledger);
    await waitUntil(() => ledger.durableSeq() === UNATTACHED_EVENT_LIMIT, "the held events durable");
    const bodies = (await readAll(ledger)).map((entry) => JSON.parse(entry.body));
    expect(bodies[0]).toMatchObject({ message: `event ${over}`, details: { eventsShedBeforeThis: over } });
    expect(bodies.at(-1)).toMatchObject({ message: `event ${UNATTACHED_EVENT_LIMIT + over - 1}` });
    sink.detach(ledger);
    sink.emit({ type: "test.after", severity: "info", message: "waits for the next ledger" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ledger.durableSeq()).toBe(UNATTACHED_EVENT_LIMIT);
  });
});
