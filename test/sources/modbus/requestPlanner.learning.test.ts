/**
 * Learning from the device (issue #4, FAULTS 8.3): bisect on exception 02 down to the refused
 * tag, halve the read size on timeouts, keep what was learnt per (unit, table) for later plans.
 */
import { describe, expect, it } from "vitest";
import type { ModbusTable } from "../../../src/config/schema/tags.js";
import { LearntLimits, type ReadFailure } from "../../../src/sources/modbus/learntLimits.js";
import type { PlannableTag, PlannedRead, ReadPlan } from "../../../src/sources/modbus/requestPlanner.js";

const device = { unitId: 1, maxGap: 16, maxRegistersPerRead: 125, maxBitsPerRead: 2000 };

function registers(addresses: readonly number[], table: ModbusTable = "holding"): PlannableTag[] {
  return addresses.map((address) => ({ name: `t${address}`, table, address, type: "uint16" }));
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** A device refusing reads that cover an illegal address (libmodbus pattern) or exceed a size. */
function simulatedDevice(illegal: ReadonlySet<number>, timesOutAbove = Number.POSITIVE_INFINITY) {
  return (read: PlannedRead): ReadFailure | undefined => {
    if (read.count > timesOutAbove) {
      return { kind: "timeout" };
    }
    for (let address = read.start; address < read.start + read.count; address++) {
      if (illegal.has(address)) {
        return { kind: "exception", code: 0x02 };
      }
    }
    return undefined;
  };
}

/** One poll cycle as the poller will run it: execute, and follow the planner on failures. */
function pollOnce(
  learnt: LearntLimits,
  tags: readonly PlannableTag[],
  respond: (read: PlannedRead) => ReadFailure | undefined,
  limits = device,
) {
  const plan = learnt.plan(tags, limits);
  const queue: PlannedRead[] = [...plan];
  const good: string[] = [];
  const bad = new Map<string, string>();
  let failures = 0;
  let learnings = 0;
  for (let read = queue.shift(); read !== undefined; read = queue.shift()) {
    const failure = respond(read);
    if (failure === undefined) {
      good.push(...read.tags.map((tag) => tag.name));
      continue;
    }
    failures++;
    const next = learnt.onReadFailed(read, failure);
    learnings += next.learnt ? 1 : 0;
    if (next.action === "replan") {
      queue.unshift(...next.reads);
    } else if (next.action === "fail-tags") {
      for (const name of next.tags) {
        bad.set(name, next.reason);
      }
    } else {
      throw new Error(`unexpected ${next.reason}`);
    }
  }
  return { plan, good: good.sort(), bad, failures, learnings };
}

const spans = (plan: ReadPlan) => plan.map((read) => [read.start, read.count]);

describe("learning from exception 02", () => {
  it("bisects to the refused tag in O(log n) failed reads, then plans around it for good", () => {
    const tags = registers(range(0, 64));
    const learnt = new LearntLimits();
    const respond = simulatedDevice(new Set([37]));

    const first = pollOnce(learnt, tags, respond);
    expect(first.bad).toEqual(new Map([["t37", "exception 02 (illegal data address)"]]));
    expect(first.good).toEqual(
      tags
        .map((tag) => tag.name)
        .filter((name) => name !== "t37")
        .sort(),
    );
    expect(first.failures).toBeLessThanOrEqual(Math.ceil(Math.log2(64)) + 1);
    expect(first.learnings).toBe(first.failures);

    const second = pollOnce(learnt, tags, respond);
    expect(spans(second.plan)).toEqual([
      [0, 37],
      [37, 1],
      [38, 26],
    ]);
    expect(second.failures).toBe(1); // the refused tag alone, so its error is reported against it
    expect(second.learnings).toBe(0);
    expect(second.bad.get("t37")).toBe("exception 02 (illegal data address)");
    expect(spans(pollOnce(learnt, tags, respond).plan)).toEqual(spans(second.plan));
    expect(learnt.learntSummary()).toEqual([
      { unitId: 1, table: "holding", holes: [{ start: 37, end: 38 }], cuts: [] },
    ]);
  });

  it("learns a cut for an illegal address between tags and keeps every tag good", () => {
    const tags = registers([...range(0, 10), ...range(20, 30)]);
    const learnt = new LearntLimits();
    const respond = simulatedDevice(new Set([15]));
    const first = pollOnce(learnt, tags, respond);
    expect(first.failures).toBe(1);
    expect(first.bad.size).toBe(0);
    expect(first.good).toHaveLength(20);
    const second = pollOnce(learnt, tags, respond);
    expect(spans(second.plan)).toEqual([
      [0, 10],
      [20, 10],
    ]);
    expect(second.failures).toBe(0);
  });

  it("marks two bools of one refused register bad together without looping", () => {
    const bits: PlannableTag[] = [
      { name: "a", table: "holding", address: 4, type: "bool" },
      { name: "b", table: "holding", address: 4, type: "bool" },
    ];
    const learnt = new LearntLimits();
    const first = pollOnce(learnt, bits, simulatedDevice(new Set([4])));
    expect([...first.bad.keys()]).toEqual(["a", "b"]);
    expect(first.failures).toBe(1);
  });
});

describe("learning from timeouts", () => {
  it("halves the read size until the device answers, and keeps it", () => {
    const tags = registers(range(0, 100));
    const learnt = new LearntLimits();
    const respond = simulatedDevice(new Set(), 20);
    const first = pollOnce(learnt, tags, respond);
    expect(first.good).toHaveLength(100);
    expect(first.bad.size).toBe(0);
    expect(learnt.learntSummary()).toEqual([
      { unitId: 1, table: "holding", maxPerRead: 12, holes: [], cuts: [] },
    ]);
    const second = pollOnce(learnt, tags, respond);
    expect(second.failures).toBe(0);
    expect(Math.max(...second.plan.map((read) => read.count))).toBe(12);
  });

  it("leaves a single-tag timeout to the poller", () => {
    const learnt = new LearntLimits();
    const [read] = learnt.plan(registers([5]), device);
    expect(read && learnt.onReadFailed(read, { kind: "timeout" })).toEqual({
      action: "caller-policy",
      reason: "timeout",
      learnt: false,
    });
  });
});

describe("exceptions that are not planning problems", () => {
  it("fails the tags on 01/03/04 and leaves 06/0A/0B to the poller's retries", () => {
    const learnt = new LearntLimits();
    const [read] = learnt.plan(registers([1, 2, 3]), device);
    if (read === undefined) {
      throw new Error("no read");
    }
    const failWith = (code: number) => learnt.onReadFailed(read, { kind: "exception", code });
    expect(failWith(0x01)).toEqual({
      action: "fail-tags",
      tags: ["t1", "t2", "t3"],
      reason: "exception 01 (illegal function)",
      learnt: false,
    });
    expect(failWith(0x03)).toMatchObject({
      action: "fail-tags",
      reason: "exception 03 (illegal data value)",
    });
    expect(failWith(0x04)).toMatchObject({
      action: "fail-tags",
      reason: "exception 04 (server device failure)",
    });
    expect(failWith(0x06)).toMatchObject({ action: "caller-policy", reason: "exception 06 (server busy)" });
    expect(failWith(0x0a)).toMatchObject({ action: "caller-policy" });
    expect(failWith(0x0b)).toMatchObject({ action: "caller-policy" });
    expect(learnt.learntSummary()).toEqual([]);
  });
});

describe("learnt state", () => {
  it("persists across plans and is independent between unit ids and tables", () => {
    const learnt = new LearntLimits();
    const respond = simulatedDevice(new Set([3]));
    pollOnce(learnt, registers(range(0, 8)), respond);
    expect(learnt.learntFor(1, "holding").holes).toEqual([{ start: 3, end: 4 }]);

    const otherTable = learnt.plan(registers(range(0, 8), "input"), device);
    const otherUnit = learnt.plan(registers(range(0, 8)), { ...device, unitId: 2 });
    expect(spans(otherTable)).toEqual([[0, 8]]);
    expect(spans(otherUnit)).toEqual([[0, 8]]);
    expect(spans(learnt.plan(registers(range(0, 8)), device))).toEqual([
      [0, 3],
      [3, 1],
      [4, 4],
    ]);
  });
});
