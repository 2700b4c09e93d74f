/**
 * The bus scheduler and the device poller over a simulated bus: decoding into samples, learning
 * from exception 02 and from timeouts, busy retries, a dead unit's breaker, fairness between
 * units, and a lost link. Real transports are exercised in test/sources/modbus/link/ and the
 * end-to-end suites against pymodbus.
 */
import { describe, expect, it } from "vitest";
import { harness, tcpDevice, uint16Tags, valuesOf } from "./pollFixtures.js";

const ten = [0, 1, 2, 3, 4, 6, 7, 8, 9, 10];

describe("device poller and bus scheduler", () => {
  it("coalesces a map into few reads and decodes every tag into one sample per group", async () => {
    const h = harness([
      tcpDevice("m1", 1, [
        ...uint16Tags([0, 1, 2]),
        { name: "wide", table: "holding", address: 10, type: "uint32" },
        { name: "flag", table: "coil", address: 3, type: "bool" },
      ]),
    ]);
    h.bus.units.set(1, {});
    const sent = await h.pollOnce();
    expect(sent.map((r) => [r.functionCode, r.address, r.quantity])).toEqual([
      [3, 0, 12],
      [1, 3, 1],
    ]);
    expect(h.samples).toHaveLength(1);
    expect(h.samples[0]).toMatchObject({ kind: "sample", device: "m1", group: "main", clockSynced: true });
    expect(valuesOf(h.samples, "m1")).toEqual({ r0: 0, r1: 1, r2: 2, wide: 10 * 65536 + 11, flag: true });
  });

  it("learns a hole from exception 02, keeps every other tag good, and reads fewer times once learnt", async () => {
    const h = harness([tcpDevice("m1", 1, uint16Tags(ten))]);
    h.bus.units.set(1, { holes: [5, 6] });
    const first = await h.pollOnce();
    expect(valuesOf(h.samples, "m1")).toMatchObject({
      r0: 0,
      r4: 4,
      r7: 7,
      r10: 10,
      r6: "bad: exception 02 (illegal data address)",
    });
    const second = await h.pollOnce();
    const third = await h.pollOnce();
    expect(second.length).toBeLessThan(first.length);
    expect(third).toEqual(second); // the plan is stable once learnt
    expect(second.filter((r) => r.address <= 6 && r.address + r.quantity > 6)).toEqual([
      expect.objectContaining({ address: 6, quantity: 1 }),
    ]);
    const learntLines = h.lines.filter((l) => String(l.msg).startsWith("learnt the device's read limits"));
    expect(learntLines.length).toBeGreaterThan(0);
    const afterFirst = h.lines.length;
    await h.pollOnce();
    expect(h.lines.slice(afterFirst).filter((l) => String(l.msg).startsWith("learnt"))).toEqual([]);
    // The failing tag is logged when it starts failing, with a hint, not on every poll.
    const bad = h.lines.filter((l) => l.reason === "exception 02 (illegal data address)");
    expect(bad).toHaveLength(1);
    expect(String(bad[0]?.hint)).toMatch(/check the address/);
  });

  it("retries exception 06 after busyRetryDelay without holding the bus, and gives up after busyRetries", async () => {
    const h = harness([
      tcpDevice("busy", 1, uint16Tags([0]), { busyRetries: 2, busyRetryDelay: "30ms" }),
      tcpDevice("calm", 2, uint16Tags([0])),
    ]);
    h.bus.units.set(1, { busy: 2 });
    h.bus.units.set(2, {});
    const sent = await h.pollOnce();
    expect(valuesOf(h.samples, "busy")).toEqual({ r0: 0 });
    // The calm unit was served while the busy one waited.
    expect(sent.map((r) => r.unitId)).toEqual([1, 2, 1, 1]);
    h.bus.units.set(1, { busy: 3 });
    await h.pollOnce();
    expect(valuesOf(h.samples, "busy")).toEqual({ r0: "bad: exception 06 (server busy)" });
  });

  it("serves units round robin, one read each per turn", async () => {
    const tags = uint16Tags([0, 100, 200, 300]); // four reads per unit with maxGap 16
    const h = harness([tcpDevice("a", 1, tags), tcpDevice("b", 2, tags), tcpDevice("c", 3, tags)]);
    for (const unit of [1, 2, 3]) {
      h.bus.units.set(unit, {});
    }
    const sent = await h.pollOnce();
    expect(sent.map((r) => r.unitId)).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
  });

  it("a dead unit costs one timeout per cycle, then its breaker opens; the others keep going", async () => {
    const tags = uint16Tags([0, 100, 200]);
    const h = harness([tcpDevice("dead", 1, tags), tcpDevice("alive", 2, tags)]);
    h.bus.units.set(1, { dead: true });
    h.bus.units.set(2, {});
    const first = await h.pollOnce();
    // First cycle: no history, so each read is tried (a timeout on one address is not a dead unit).
    expect(first.filter((r) => r.unitId === 1)).toHaveLength(3);
    expect(valuesOf(h.samples, "dead")).toEqual({
      r0: "bad: timeout",
      r100: "bad: timeout",
      r200: "bad: timeout",
    });
    const second = await h.pollOnce();
    expect(second.filter((r) => r.unitId === 1)).toHaveLength(1); // silent last cycle too: give up after one
    expect(second.filter((r) => r.unitId === 2)).toHaveLength(3);
    await h.pollOnce();
    const dead = h.pollers[0];
    expect(dead?.breaker.state).toBe("open");
    expect(h.lines.filter((l) => String(l.msg).includes("circuit breaker open"))).toHaveLength(1);
    // The bad reason is logged once, not per poll.
    expect(h.lines.filter((l) => l.device === "dead" && l.reason === "timeout")).toHaveLength(1);
    expect(valuesOf(h.samples, "alive")).toEqual({ r0: 0, r100: 100, r200: 200 });
  });

  it("learns a size limit from a timeout only when the unit is known to be alive", async () => {
    const tags = uint16Tags([0, 10, 20, 30, 40]); // one read of 41 registers
    const h = harness([tcpDevice("m1", 1, tags)]);
    h.bus.units.set(1, { dead: true });
    await h.pollOnce();
    await h.pollOnce();
    expect(h.learnt.learntSummary()).toEqual([]); // silence from an absent unit teaches nothing
    h.bus.units.set(1, { silentAbove: 20 });
    const sent = await h.pollOnce();
    expect(valuesOf(h.samples, "m1")).toEqual({ r0: 0, r10: 10, r20: 20, r30: 30, r40: 40 });
    // 41 registers timed out; the one-tag probe answered; then halves of at most 20.
    expect(sent[0]).toMatchObject({ address: 0, quantity: 41 });
    expect(sent[1]).toMatchObject({ address: 0, quantity: 1 });
    expect(h.learnt.learntSummary()).toEqual([
      expect.objectContaining({ unitId: 1, table: "holding", maxPerRead: 20 }),
    ]);
    const next = await h.pollOnce();
    expect(next.every((r) => r.quantity <= 20)).toBe(true);
  });

  it("marks every tag of the cycle bad with the link's reason when the link is down, without blaming the unit", async () => {
    const h = harness([tcpDevice("m1", 1, uint16Tags([0, 100, 200]))]);
    h.bus.units.set(1, {});
    h.bus.disconnected = "connect ECONNREFUSED 127.0.0.1:5020";
    for (let i = 0; i < 4; i++) {
      await h.pollOnce();
    }
    expect(valuesOf(h.samples, "m1")).toEqual({
      r0: "bad: disconnected: connect ECONNREFUSED 127.0.0.1:5020",
      r100: "bad: disconnected: connect ECONNREFUSED 127.0.0.1:5020",
      r200: "bad: disconnected: connect ECONNREFUSED 127.0.0.1:5020",
    });
    expect(h.pollers[0]?.breaker.state).toBe("closed");
    h.bus.disconnected = undefined;
    await h.pollOnce();
    expect(valuesOf(h.samples, "m1")).toEqual({ r0: 0, r100: 100, r200: 200 });
  });

  it("runs on schedule, tells the link when it is idle, and stops cleanly", async () => {
    const h = harness(
      [
        tcpDevice("m1", 1, uint16Tags([0]), {
          timeout: "20ms",
          pollGroups: [
            { name: "fast", interval: "50ms", tags: uint16Tags([0]) },
            { name: "slow", interval: "200ms", tags: uint16Tags([1]) },
          ],
        }),
      ],
      1,
    );
    h.bus.units.set(1, {});
    await h.scheduler.start(new AbortController().signal);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await h.scheduler.stop();
    const fast = h.samples.filter((s) => s.group === "fast").length;
    const slow = h.samples.filter((s) => s.group === "slow").length;
    expect(fast).toBeGreaterThanOrEqual(5);
    expect(slow).toBeGreaterThanOrEqual(2);
    expect(fast).toBeGreaterThan(slow);
    expect(h.bus.idleCalls).toBeGreaterThan(0);
    const settled = h.samples.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(h.samples.length).toBe(settled);
  });

  it.each([
    [1, "exception 01 (illegal function)", /table/],
    [3, "exception 03 (illegal data value)", /quantity/],
    [4, "exception 04 (server device failure)", undefined],
  ])("exception %i: tags bad with the code, no retry, logged once", async (code, reason, hint) => {
    const h = harness([tcpDevice("m1", 1, uint16Tags([0]), { retries: 2 })]);
    h.bus.units.set(1, { exception: code });
    const sent = await h.pollOnce();
    await h.pollOnce();
    expect(sent).toHaveLength(1);
    expect(valuesOf(h.samples, "m1")).toEqual({ r0: `bad: ${reason}` });
    const logged = h.lines.filter((l) => l.reason === reason);
    expect(logged).toHaveLength(1);
    if (hint !== undefined) {
      expect(String(logged[0]?.hint)).toMatch(hint);
    }
    expect(h.pollers[0]?.breaker.state).toBe("closed"); // an exception is an answer
  });

  it("exception 0A/0B counts as silence for that unit only: retried, then its breaker opens", async () => {
    const h = harness([
      tcpDevice("behind-gw", 1, uint16Tags([0]), { retries: 1 }),
      tcpDevice("ok", 2, uint16Tags([0])),
    ]);
    h.bus.units.set(1, { exception: 0x0b });
    h.bus.units.set(2, {});
    const sent = await h.pollOnce();
    expect(sent.filter((r) => r.unitId === 1)).toHaveLength(2); // retried like a timeout
    expect(valuesOf(h.samples, "behind-gw")).toEqual({
      r0: "bad: exception 0B (gateway target failed to respond)",
    });
    await h.pollOnce();
    await h.pollOnce();
    expect(h.pollers[0]?.breaker.state).toBe("open");
    expect(h.pollers[1]?.breaker.state).toBe("closed");
    expect(valuesOf(h.samples, "ok")).toEqual({ r0: 0 });
  });

  it("warns once when the serial line looks misconfigured, and once when it is clean again", async () => {
    const h = harness([tcpDevice("m1", 1, uint16Tags([0]))]);
    h.bus.units.set(1, {});
    await h.pollOnce();
    for (const streak of [5, 6, 7]) {
      h.bus.health = {
        crcErrorStreak: streak,
        suspectMisconfig: `${streak} reads in a row ... fail their CRC: check the parity`,
      };
      await h.pollOnce();
    }
    h.bus.health = { crcErrorStreak: 0 };
    await h.pollOnce();
    await h.pollOnce();
    expect(h.lines.filter((l) => String(l.msg).startsWith("garbled replies"))).toHaveLength(1);
    expect(h.lines.filter((l) => l.msg === "serial line replies are clean again")).toHaveLength(1);
  });
});
