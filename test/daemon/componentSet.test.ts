/**
 * The running components (src/daemon/componentSet.ts): ordered, abortable start with rollback,
 * bounded reverse-order stop, and the reload diff. Fake components record their calls.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { Component, ComponentContext, ComponentSpec } from "../../src/daemon/component.js";
import { ComponentSet, StartAbortedError } from "../../src/daemon/componentSet.js";
import { FakeClock, type MemoryLogger, memoryLogger } from "../helpers/memoryLogger.js";
import { waitUntil } from "../helpers/waitUntil.js";

interface Behaviour {
  /** start() rejects with this. */
  readonly startError?: Error;
  /** start() never resolves; it rejects with the signal's reason once the signal aborts. */
  readonly startUntilAborted?: boolean;
  readonly stopError?: Error;
  /** stop() never settles. */
  readonly stopHangs?: boolean;
  /** stop() takes this long (a real, asynchronous release). */
  readonly stopDelayMs?: number;
}

let calls: string[];
let log: MemoryLogger;
let set: ComponentSet;

function makeContext(memory: MemoryLogger): (spec: ComponentSpec) => ComponentContext {
  const clock = new FakeClock();
  return (spec) => ({
    logger: memory.logger.child({ component: spec.id }),
    clock,
    events: { emit: () => {} },
    heartbeat: () => ({ beat: () => {}, close: () => {} }),
    setStatus: () => {},
    dependency: (id) => {
      throw new Error(`no dependency ${id} in these tests`);
    },
  });
}

function fake(
  id: string,
  behaviour: Behaviour = {},
  { configKey = "k1", dependsOn = [] }: { configKey?: string; dependsOn?: readonly string[] } = {},
): ComponentSpec {
  return {
    id,
    configKey,
    dependsOn,
    create: (): Component => ({
      name: id,
      start: (signal) => {
        calls.push(`start:${id}`);
        if (behaviour.startError !== undefined) {
          return Promise.reject(behaviour.startError);
        }
        if (behaviour.startUntilAborted === true) {
          return new Promise<void>((_resolve, reject) => {
            signal.addEventListener("abort", () => reject(signal.reason), { once: true });
          });
        }
        return Promise.resolve();
      },
      stop: () => {
        calls.push(`stop:${id}`);
        if (behaviour.stopError !== undefined) {
          return Promise.reject(behaviour.stopError);
        }
        if (behaviour.stopHangs === true) {
          return new Promise<void>(() => {});
        }
        if (behaviour.stopDelayMs !== undefined) {
          const ms = behaviour.stopDelayMs;
          return new Promise<void>((resolve) => setTimeout(resolve, ms));
        }
        return Promise.resolve();
      },
    }),
  };
}

const never = () => new AbortController().signal;

beforeEach(() => {
  calls = [];
  log = memoryLogger();
  set = new ComponentSet(makeContext(log), log.logger);
});

describe("start and stop", () => {
  it("starts in order and stops in reverse order", async () => {
    await set.start([fake("a"), fake("b"), fake("c")], never(), 1_000);
    expect(set.names).toEqual(["a", "b", "c"]);
    const report = await set.stopAll(1_000);
    expect(report.failed).toEqual([]);
    expect(calls).toEqual(["start:a", "start:b", "start:c", "stop:c", "stop:b", "stop:a"]);
    expect(set.names).toEqual([]);
    const logged = log.lines.map((line) => `${String(line.msg)}:${String(line.component)}`);
    expect(logged.filter((entry) => entry.startsWith("stopped:"))).toEqual([
      "stopped:c",
      "stopped:b",
      "stopped:a",
    ]);
  });

  it("a start appended later runs after what is already running", async () => {
    await set.start([fake("a")], never(), 1_000);
    await set.start([fake("b")], never(), 1_000);
    expect(set.names).toEqual(["a", "b"]);
  });

  it("a failing start gets stop(), the ones started before it are stopped in reverse, and the error propagates", async () => {
    const boom = new Error("port busy");
    const attempt = set.start(
      [fake("a"), fake("b"), fake("c", { startError: boom }), fake("d")],
      never(),
      1_000,
    );
    await expect(attempt).rejects.toBe(boom);
    expect(calls).toEqual(["start:a", "start:b", "start:c", "stop:c", "stop:b", "stop:a"]);
  });

  it("after a failed start nothing is left registered as running", async () => {
    const attempt = set.start(
      [fake("a"), fake("b"), fake("c", { startError: new Error("x") })],
      never(),
      1_000,
    );
    await expect(attempt).rejects.toThrow("x");
    expect(set.names).toEqual([]);
    calls = [];
    await set.stopAll(1_000);
    expect(calls).toEqual([]);
  });

  it("aborting during a slow start rejects with StartAbortedError and stops the half-started one and those before it", async () => {
    const controller = new AbortController();
    const attempt = set.start(
      [fake("a"), fake("b"), fake("c", { startUntilAborted: true }), fake("d")],
      controller.signal,
      1_000,
    );
    await waitUntil(() => calls.includes("start:c"), "c to begin starting");
    const reason = new Error("stop requested (SIGTERM)");
    controller.abort(reason);

    const error: unknown = await attempt.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StartAbortedError);
    expect((error as StartAbortedError).reason).toBe(reason);
    expect((error as StartAbortedError).message).toBe("start-up aborted: stop requested (SIGTERM)");
    expect(calls).toEqual(["start:a", "start:b", "start:c", "stop:c", "stop:b", "stop:a"]);
  });

  it("an already aborted signal starts nothing", async () => {
    const controller = new AbortController();
    controller.abort(new Error("too late"));
    await expect(set.start([fake("a"), fake("b")], controller.signal, 1_000)).rejects.toBeInstanceOf(
      StartAbortedError,
    );
    expect(calls).toEqual([]);
    expect(set.names).toEqual([]);
  });

  it("a stop that throws is reported and logged while the others still stop", async () => {
    await set.start(
      [fake("a"), fake("b", { stopError: new Error("flush failed") }), fake("c")],
      never(),
      1_000,
    );
    const report = await set.stopAll(1_000);
    expect(report.failed).toEqual([{ name: "b", reason: "flush failed" }]);
    expect(calls.slice(3)).toEqual(["stop:c", "stop:b", "stop:a"]);
    const stopFailed = log.lines.filter((line) => line.msg === "stop failed");
    expect(stopFailed.map((line) => line.component)).toEqual(["b"]);
    expect(stopFailed[0]?.level).toBe("error");
  });

  it("a stop that hangs past the budget is reported and the others still stop, within the budget", async () => {
    await set.start([fake("a"), fake("b", { stopHangs: true }), fake("c")], never(), 1_000);
    const began = performance.now();
    const report = await set.stopAll(300);
    const took = performance.now() - began;
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0]?.name).toBe("b");
    expect(report.failed[0]?.reason).toMatch(/^did not stop within \d+ ms$/);
    expect(calls.slice(3)).toEqual(["stop:c", "stop:b", "stop:a"]);
    // The hung step gets at least half the budget; the rest is kept for the steps after it.
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(300 + 700);
  });

  it("a component stopped after a hung one still gets time to stop and is not reported failed", async () => {
    await set.start([fake("a", { stopDelayMs: 20 }), fake("b", { stopHangs: true })], never(), 1_000);
    const report = await set.stopAll(300);
    expect(report.failed.map((failure) => failure.name)).toEqual(["b"]);
  });
});

describe("reload: diff, stopOnly, reorder", () => {
  const base = () => [
    fake("lock", {}, { configKey: "dir=/data" }),
    fake("health", {}, { configKey: "30s", dependsOn: ["lock"] }),
    fake("poller", {}, { configKey: "plc-1", dependsOn: ["lock"] }),
    fake("old", {}, { configKey: "x" }),
  ];

  beforeEach(async () => {
    await set.start(base(), never(), 1_000);
    calls = [];
  });

  const ids = (specs: readonly ComponentSpec[]) => specs.map((spec) => spec.id);

  it("keeps every unchanged spec", () => {
    const { keep, replace, remove } = set.diff(base());
    expect([...keep]).toEqual(["lock", "health", "poller", "old"]);
    expect(replace).toEqual([]);
    expect(remove).toEqual([]);
  });

  it("replaces a spec whose configKey changed, and stops ids the new plan drops", () => {
    const next = [
      fake("lock", {}, { configKey: "dir=/data" }),
      fake("health", {}, { configKey: "10s", dependsOn: ["lock"] }),
      fake("poller", {}, { configKey: "plc-1", dependsOn: ["lock"] }),
      fake("new", {}, { configKey: "y" }),
    ];
    const { keep, replace, remove } = set.diff(next);
    expect([...keep]).toEqual(["lock", "poller"]);
    expect(ids(replace)).toEqual(["health", "new"]);
    expect(ids(remove)).toEqual(["health", "old"]);
  });

  it("replaces the dependents of a replaced spec, transitively", () => {
    const next = [
      fake("lock", {}, { configKey: "dir=/elsewhere" }),
      fake("health", {}, { configKey: "30s", dependsOn: ["lock"] }),
      fake("poller", {}, { configKey: "plc-1", dependsOn: ["lock"] }),
      fake("analytics", {}, { configKey: "z", dependsOn: ["poller"] }),
      fake("old", {}, { configKey: "x" }),
    ];
    const { keep, replace, remove } = set.diff(next);
    expect([...keep]).toEqual(["old"]);
    expect(ids(replace)).toEqual(["lock", "health", "poller", "analytics"]);
    expect(ids(remove)).toEqual(["lock", "health", "poller"]);
  });

  it("replaces a spec whose dependencies changed", () => {
    const next = [...base()];
    next[2] = fake("poller", {}, { configKey: "plc-1", dependsOn: ["lock", "health"] });
    const { replace } = set.diff(next);
    expect(ids(replace)).toEqual(["poller"]);
  });

  it("applying a diff stops only what goes, in reverse, and keeps plan order", async () => {
    const next = [
      fake("lock", {}, { configKey: "dir=/data" }),
      fake("health", {}, { configKey: "10s", dependsOn: ["lock"] }),
      fake("poller", {}, { configKey: "plc-1", dependsOn: ["lock"] }),
    ];
    const { replace, remove } = set.diff(next);
    const report = await set.stopOnly(new Set(ids(remove)), 1_000);
    expect(report.failed).toEqual([]);
    await set.start(replace, never(), 1_000);
    set.reorder(next);
    expect(calls).toEqual(["stop:old", "stop:health", "start:health"]);
    expect(set.names).toEqual(["lock", "health", "poller"]);
    calls = [];
    await set.stopAll(1_000);
    expect(calls).toEqual(["stop:poller", "stop:health", "stop:lock"]);
  });
});
