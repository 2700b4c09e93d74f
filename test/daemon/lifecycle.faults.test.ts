import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { componentMsg, daemonSandbox, hasMsg, RUNNING, spawnDaemon } from "../helpers/daemon.js";
import { errMessage, failedNames, useResources, WITHHOLDING } from "../helpers/lifecycle.js";
import { isReady, isWatchdog, NotifyListener } from "../helpers/notifyListener.js";

const current = useResources();

describe("faults", () => {
  it.each([
    { fixture: "throw-on-signal.mjs", msg: "uncaught exception", message: "injected fault" },
    { fixture: "reject-on-signal.mjs", msg: "unhandled promise rejection", message: "injected rejection" },
  ])("$msg is logged as fatal, then exit 1", async ({ fixture, msg, message }) => {
    const { config } = await daemonSandbox(current());
    const daemon = spawnDaemon(current(), { config, preload: [fixture] });
    await daemon.waitFor(RUNNING, "the daemon to run");

    daemon.signal("SIGUSR2");
    expect(await daemon.waitForExit()).toEqual({ code: 1, signal: null });
    const fatal = daemon.filter((line) => line.level === "fatal");
    expect(fatal).toHaveLength(1);
    expect(fatal[0]?.msg).toBe(msg);
    expect(errMessage(fatal[0] ?? {})).toBe(message);
  });

  it("a stalled self-health sampler withholds WATCHDOG=1 while the process lives; the bounded stop exits 1 naming it", async () => {
    const { dir, config } = await daemonSandbox(current(), { stopTimeout: "2s" });
    const listener = await NotifyListener.start(current(), join(dir, "notify.sock"));
    const daemon = spawnDaemon(current(), {
      config,
      preload: ["stall-loadavg.mjs"],
      env: { NOTIFY_SOCKET: listener.address, WATCHDOG_USEC: "1000000", STALL_AFTER: "1" },
    });
    const ready = await listener.waitFor(isReady, "READY=1");
    await listener.waitForCount(isWatchdog, 2, "pings while the sampler works", { from: ready + 1 });
    await daemon.waitForStderr("hangs from now on");

    // The last beat was the start-up sample; max silence 2 * 1000 + 5000 ms, checked every 500 ms.
    const withheld = await daemon.waitFor(hasMsg(WITHHOLDING), "the watchdog to withhold the ping", {
      timeoutMs: 20_000,
    });
    expect(withheld.level).toBe("error");
    expect(JSON.stringify(withheld.stale)).toContain('"name":"self-health/sampler"');
    const pings = listener.count(isWatchdog);
    await delay(2_500); // asserting an absence needs a window
    expect(listener.count(isWatchdog)).toBe(pings);
    expect(daemon.exitResult).toBeUndefined();

    const stopAt = performance.now();
    daemon.signal("SIGTERM");
    expect(await daemon.waitForExit()).toEqual({ code: 1, signal: null });
    expect(performance.now() - stopAt).toBeLessThan(2_000 + 6_000);
    const stopFailed = daemon.filter(componentMsg("self-health", "stop failed"));
    expect(stopFailed).toHaveLength(1);
    expect(errMessage(stopFailed[0] ?? {})).toMatch(/^did not stop within \d+ ms$/);
    const summary = await daemon.waitFor(hasMsg("stopped with errors"), "the stop summary");
    expect(failedNames(summary)).toContain("self-health");
    expect(daemon.indexOf(hasMsg("stopped cleanly"))).toBe(-1);
    await listener.waitFor(
      (datagram) => datagram === "STOPPING=1\nSTATUS=stopped with errors",
      "final STOPPING=1",
    );
  }, 60_000);

  it("a component hung at stop is the only one reported; the instance lock after it still stops cleanly", async () => {
    const { config, pidFile } = await daemonSandbox(current(), { stopTimeout: "2s" });
    const daemon = spawnDaemon(current(), {
      config,
      preload: ["stall-loadavg.mjs", "slow-pid-unlink.mjs"],
      env: { STALL_AFTER: "1", SLOW_UNLINK_MS: "100" },
    });
    await daemon.waitFor(RUNNING, "the daemon to run");
    await daemon.waitForStderr("hangs from now on");

    daemon.signal("SIGTERM");
    expect(await daemon.waitForExit()).toEqual({ code: 1, signal: null });
    expect(daemon.stderr).toContain("slow-pid-unlink: removing");
    expect(existsSync(pidFile)).toBe(false);
    const summary = await daemon.waitFor(hasMsg("stopped with errors"), "the stop summary");
    expect(failedNames(summary)).toEqual(["self-health"]);
    expect(daemon.indexOf(componentMsg("instance-lock", "stopped"))).toBeGreaterThanOrEqual(0);
  });

  /** A running daemon whose self-health sampler hangs, already asked once to stop. */
  async function stoppingStalledDaemon(stopTimeout: string) {
    const { config } = await daemonSandbox(current(), { stopTimeout });
    const daemon = spawnDaemon(current(), {
      config,
      preload: ["stall-loadavg.mjs"],
      env: { STALL_AFTER: "1" },
    });
    await daemon.waitFor(RUNNING, "the daemon to run");
    await daemon.waitForStderr("hangs from now on");
    daemon.signal("SIGTERM");
    await daemon.waitFor(hasMsg("stop requested"), "the first stop request");
    return daemon;
  }

  it("a second SIGTERM during a slow stop is noted and the exit code still reflects the stop", async () => {
    const daemon = await stoppingStalledDaemon("3s");
    daemon.signal("SIGTERM");
    const second = await daemon.waitFor(
      hasMsg("stop already in progress; a third request exits at once"),
      "the second stop request",
    );
    expect(second.level).toBe("warn");
    expect(await daemon.waitForExit()).toEqual({ code: 1, signal: null });
    // The stop ran to its end (bounded by stopTimeout) rather than being cut short.
    const summary = await daemon.waitFor(hasMsg("stopped with errors"), "the stop summary");
    expect(failedNames(summary)).toContain("self-health");
  });

  it("a third stop request exits 1 at once without waiting for a hung stop", async () => {
    const daemon = await stoppingStalledDaemon("60s");
    daemon.signal("SIGINT");
    await daemon.waitFor(
      hasMsg("stop already in progress; a third request exits at once"),
      "the second request",
    );
    daemon.signal("SIGTERM");
    expect(await daemon.waitForExit(10_000)).toEqual({ code: 1, signal: null });
    expect(
      daemon.indexOf(hasMsg("third stop request: exiting without finishing the stop")),
    ).toBeGreaterThanOrEqual(0);
    expect(daemon.indexOf(hasMsg("stopped with errors"))).toBe(-1);
  });
});
