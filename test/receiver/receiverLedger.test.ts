/**
 * The receiver against a real gateway Ledger on LevelDB (issue #7 item 2): what the ledger's own
 * retention writes when it deletes records that never reached upstream must reach the receiver
 * as a lost gap, and every link around it must still verify.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Ledger } from "../../src/ledger/ledger.js";
import type { ReceiverOutcome } from "../../src/receiver/index.js";
import { FakeClock } from "../helpers/memoryLogger.js";
import { Resources } from "../helpers/resources.js";
import { waitUntil } from "../helpers/waitUntil.js";
import { HOUR, readAll, sampleFields, startLedger } from "../ledger/ledgerKit.js";
import { FakeGateway, GATEWAY, receiverFor } from "./gatewayFixture.js";

const DAY = 24 * HOUR;
let resources: Resources;
let open: Ledger[];

beforeEach(() => {
  resources = new Resources();
  open = [];
});

afterEach(async () => {
  await Promise.all(open.map((ledger) => ledger.stop()));
  await resources.release();
});

describe("receiver and a real ledger", () => {
  it("stores a gap from the ledger's retention as lost, not as tampering, and accepts what follows", async () => {
    const clock = new FakeClock();
    const dir = await resources.tempDir("edgewarden-receiver-");
    const { ledger } = await startLedger(
      open,
      dir,
      { retention: { maxBytes: 2 ** 40, maxAgeMs: DAY, checkIntervalMs: HOUR } },
      clock,
    );
    const now = clock.wallNow();
    for (let i = 1; i <= 8; i++) {
      await ledger.append(sampleFields(i, { ts: now - 3 * DAY + i }));
    }
    for (let i = 9; i <= 10; i++) {
      await ledger.append(sampleFields(i, { ts: now }));
    }
    const gateway = new FakeGateway();
    const receiver = receiverFor(gateway);
    const outcomes: ReceiverOutcome[] = [];
    // 1..3 reach upstream and are acknowledged; 4..8 are still unsent when retention runs.
    for (const entry of (await readAll(ledger)).slice(0, 3)) {
      outcomes.push(...receiver.receive(gateway.message([entry])));
    }
    await ledger.setAcked(3);
    await ledger.enforceRetention();
    // The gap entry is appended like any record and becomes readable once committed.
    await waitUntil(() => ledger.durableSeq() >= 11, "the gap entry to be durable");
    const rest = await readAll(ledger, 4);
    for (const entry of rest) {
      outcomes.push(...receiver.receive(gateway.message([entry])));
    }

    expect(rest.map((e) => [e.seq, e.kind])).toEqual([
      [9, "sample"],
      [10, "sample"],
      [11, "gap"],
    ]);
    expect(outcomes.flatMap((o) => (o.type === "accepted" ? [o.seq] : []))).toEqual([1, 2, 3, 9, 10, 11]);
    expect(
      outcomes.flatMap((o) => (o.type === "gap" ? [[o.state, o.fromSeq, o.toSeq, o.reason]] : [])),
    ).toEqual([
      ["open", 4, 8, undefined],
      ["lost", 4, 8, "retention"],
    ]);
    expect(receiver.counters).toMatchObject({ tamper: 0, gapLost: 1, accepted: 6 });
    expect(receiver.openGaps(GATEWAY)).toEqual([]);
  });
});
