/**
 * Liveness for the systemd watchdog (src/daemon/liveness.ts): the ping is sent only while every
 * registered heartbeat has beaten within its max silence. Time is a fake clock moved by hand.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { LivenessMonitor } from "../../src/daemon/liveness.js";
import { FakeClock } from "../helpers/memoryLogger.js";

let clock: FakeClock;
let monitor: LivenessMonitor;

beforeEach(() => {
  clock = new FakeClock();
  monitor = new LivenessMonitor(clock);
});

describe("LivenessMonitor", () => {
  it("is ok with no heartbeats registered", () => {
    expect(monitor.check()).toEqual({ ok: true, stale: [] });
    expect(monitor.size).toBe(0);
  });

  it("a fresh heartbeat is ok up to its max silence and stale just after, with its name", () => {
    monitor.register("self-health/sampler", 7_000);
    expect(monitor.check().ok).toBe(true);
    clock.advance(7_000);
    expect(monitor.check()).toEqual({ ok: true, stale: [] });
    clock.advance(1);
    expect(monitor.check()).toEqual({
      ok: false,
      stale: [{ name: "self-health/sampler", silentMs: 7_001, maxSilenceMs: 7_000 }],
    });
  });

  it("a beat makes a stale heartbeat fresh again", () => {
    const heartbeat = monitor.register("poller/plc-1", 1_000);
    clock.advance(5_000);
    expect(monitor.check().ok).toBe(false);
    heartbeat.beat();
    expect(monitor.check().ok).toBe(true);
    clock.advance(999);
    heartbeat.beat();
    clock.advance(999);
    expect(monitor.check().ok).toBe(true);
  });

  it("reports only the stale ones among several", () => {
    const fast = monitor.register("poller/fast", 1_000);
    monitor.register("ledger/writer", 10_000);
    monitor.register("poller/slow", 2_000);
    clock.advance(1_500);
    fast.beat();
    clock.advance(1_000);
    expect(monitor.check().stale.map((entry) => entry.name)).toEqual(["poller/slow"]);
    clock.advance(8_000);
    expect(monitor.check().stale.map((entry) => entry.name)).toEqual([
      "poller/fast",
      "ledger/writer",
      "poller/slow",
    ]);
  });

  it("close() stops watching a heartbeat, and only that one even when names repeat", () => {
    const old = monitor.register("self-health/sampler", 1_000);
    const replacement = monitor.register("self-health/sampler", 1_000);
    expect(monitor.size).toBe(2);
    clock.advance(2_000);
    replacement.beat();
    expect(monitor.check().stale).toHaveLength(1);
    old.close();
    expect(monitor.size).toBe(1);
    expect(monitor.check().ok).toBe(true);
    old.close(); // idempotent
    expect(monitor.size).toBe(1);
    replacement.close();
    expect(monitor.size).toBe(0);
    clock.advance(60_000);
    expect(monitor.check().ok).toBe(true);
  });

  it("a beat after close() does not bring the heartbeat back", () => {
    const heartbeat = monitor.register("uplink/session", 1_000);
    heartbeat.close();
    heartbeat.beat();
    clock.advance(5_000);
    expect(monitor.size).toBe(0);
    expect(monitor.check().ok).toBe(true);
  });
});
