/**
 * The daemon's lifecycle end to end (issue #2, FAULTS 8.8): the built CLI in a child process,
 * signals from the test, systemd notifications through a real unix datagram socket, and faults
 * injected with `node --import` preload fixtures (the product has no test hooks).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  assertBuilt,
  childCommands,
  componentMsg,
  configText,
  daemonSandbox,
  eventOf,
  hasEvent,
  hasMsg,
  RUNNING,
  spawnDaemon,
  writeConfig,
} from "../helpers/daemon.js";
import { isRecord, type JsonRecord } from "../helpers/lineChild.js";
import { isReady, isReloading, isStopping, isWatchdog, NotifyListener } from "../helpers/notifyListener.js";
import { cliPath } from "../helpers/paths.js";
import { Resources } from "../helpers/resources.js";

const CLEAN_EXIT = { code: 0, signal: null };
const WAITING_FOR_LOCK = "another edgewarden holds this data directory; waiting for it to stop";
const WITHHOLDING = "watchdog: a component shows no progress; withholding the ping";

let resources: Resources;

beforeAll(() => {
  assertBuilt();
});

beforeEach(() => {
  resources = new Resources();
});

afterEach(async () => {
  await resources.release();
});

function pidInFile(text: string): string | undefined {
  return text.split("\n")[0];
}

function failedNames(line: JsonRecord): string[] {
  const failed = line.failed;
  if (!Array.isArray(failed)) {
    throw new Error(`no failed list in ${JSON.stringify(line)}`);
  }
  return failed.map((entry: unknown) => (isRecord(entry) ? String(entry.name) : String(entry)));
}

function errMessage(line: JsonRecord): string | undefined {
  return isRecord(line.err) && typeof line.err.message === "string" ? line.err.message : undefined;
}

describe("start-up", () => {
  it("SIGTERM while start-up waits for the instance lock aborts the start-up and exits 0 without READY", async () => {
    const { dir, config, pidFile } = await daemonSandbox(resources);
    const a = spawnDaemon(resources, { config, name: "daemon A" });
    await a.waitFor(RUNNING, "daemon A to run");

    const listenerB = await NotifyListener.start(resources, join(dir, "notify-b.sock"));
    const b = spawnDaemon(resources, { config, name: "daemon B", env: { NOTIFY_SOCKET: listenerB.address } });
    const waiting = await b.waitFor(
      componentMsg("instance-lock", WAITING_FOR_LOCK),
      "daemon B to wait for the lock",
    );
    expect(waiting.holderPid).toBe(a.pid);

    b.signal("SIGTERM");
    expect(await b.waitForExit()).toEqual(CLEAN_EXIT);
    expect(
      b.indexOf(hasMsg("start-up aborted by a stop request; everything started so far was stopped")),
    ).toBeGreaterThanOrEqual(0);
    expect(b.indexOf(RUNNING)).toBe(-1);
    const stopping = await listenerB.waitFor(isStopping, "STOPPING=1 from daemon B");
    expect(listenerB.datagrams[stopping]).toBe("STOPPING=1\nSTATUS=stopped");
    expect(listenerB.datagrams.filter(isReady)).toEqual([]);
    // B left A's lock alone.
    expect(pidInFile(await readFile(pidFile, "utf8"))).toBe(String(a.pid));

    a.signal("SIGTERM");
    expect(await a.waitForExit()).toEqual(CLEAN_EXIT);
    expect(existsSync(pidFile)).toBe(false);
  });

  it("start-up that outlasts gateway.startTimeout exits 1 and says why", async () => {
    const { dir, dataDir, config, pidFile } = await daemonSandbox(resources);
    const a = spawnDaemon(resources, { config, name: "daemon A" });
    await a.waitFor(RUNNING, "daemon A to run");
    const configB = await writeConfig(join(dir, "b.yaml"), { dataDir, startTimeout: "1s" });

    const b = spawnDaemon(resources, { config: configB, name: "daemon B" });
    expect(await b.waitForExit()).toEqual({ code: 1, signal: null });
    const fatal = b.filter((line) => line.level === "fatal");
    expect(fatal.map((line) => line.msg)).toEqual([
      "start-up took longer than gateway.startTimeout (1000 ms)",
    ]);
    expect(b.indexOf(RUNNING)).toBe(-1);
    expect(pidInFile(await readFile(pidFile, "utf8"))).toBe(String(a.pid));
  });

  it("SIGTERM while the CLI is still loading its modules exits 0 and starts nothing", async () => {
    const { config, dataDir } = await daemonSandbox(resources);
    const daemon = spawnDaemon(resources, { config, preload: ["sigterm-on-capture.mjs"] });
    expect(await daemon.waitForExit()).toEqual(CLEAN_EXIT);
    expect(daemon.indexOf(hasMsg("stop requested before start-up began"))).toBeGreaterThanOrEqual(0);
    expect(daemon.filter(hasMsg("started"))).toEqual([]);
    expect(existsSync(dataDir)).toBe(false);
  });

  it("a bad config exits 2 with every error on stderr as FILE:LINE:COL and starts nothing", async () => {
    const { config, dataDir } = await daemonSandbox(resources);
    await writeFile(
      config,
      configText({ dataDir }).replace("  interval: 1s\n", "  interval: 1s\n  intervall: 2s\n"),
    );
    const daemon = spawnDaemon(resources, { config });
    expect(await daemon.waitForExit()).toEqual({ code: 2, signal: null });
    expect(daemon.stderr).toContain(`${config}:9:3: selfHealth.intervall: unknown key "intervall"`);
    expect(daemon.stderr).toContain(`${config}: 1 error(s); not starting`);
    expect(daemon.lines).toEqual([]);
    expect(existsSync(dataDir)).toBe(false);
  });

  it("a devices section passes check but run refuses it with exit 2: not supported yet", async () => {
    const { config, dataDir } = await daemonSandbox(resources);
    await writeFile(
      config,
      `${configText({ dataDir })}devices:\n  - name: plc1\n    protocol: modbus-tcp\n    host: 127.0.0.1\n` +
        "    pollGroups:\n      - name: fast\n        interval: 1s\n        tags:\n" +
        "          - { name: t1, table: holding, address: 100, type: uint16 }\n",
    );
    const check = spawnSync(process.execPath, [cliPath, "check", "-c", config], {
      encoding: "utf8",
      timeout: 30_000,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    expect(check.status).toBe(0);

    const daemon = spawnDaemon(resources, { config });
    expect(await daemon.waitForExit()).toEqual({ code: 2, signal: null });
    expect(daemon.stderr).toContain(`${config}:12:1: devices: not supported yet`);
    expect(daemon.lines).toEqual([]);
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe("stop", () => {
  it.each(["SIGTERM", "SIGINT"] as const)(
    "%s while running stops the components in reverse start order, removes the pid file and exits 0",
    async (signal) => {
      const { config, pidFile } = await daemonSandbox(resources);
      const daemon = spawnDaemon(resources, { config });
      const running = await daemon.waitFor(RUNNING, "the daemon to run");
      expect(running.components).toEqual(["instance-lock", "self-health"]);
      expect(daemon.indexOf(componentMsg("instance-lock", "started"))).toBeLessThan(
        daemon.indexOf(componentMsg("self-health", "started")),
      );
      expect(pidInFile(await readFile(pidFile, "utf8"))).toBe(String(daemon.pid));

      daemon.signal(signal);
      expect(await daemon.waitForExit()).toEqual(CLEAN_EXIT);
      const requested = daemon.filter(hasMsg("stop requested"));
      expect(requested.map((line) => line.reason)).toEqual([signal]);
      const selfHealthStopped = daemon.indexOf(componentMsg("self-health", "stopped"));
      const lockStopped = daemon.indexOf(componentMsg("instance-lock", "stopped"));
      expect(selfHealthStopped).toBeGreaterThanOrEqual(0);
      expect(selfHealthStopped).toBeLessThan(lockStopped);
      expect(daemon.indexOf(hasMsg("stopped cleanly"))).toBeGreaterThan(lockStopped);
      expect(daemon.filter((line) => line.level === "error" || line.level === "fatal")).toEqual([]);
      expect(existsSync(pidFile)).toBe(false);
    },
  );
});

describe("systemd notifications", () => {
  it("READY=1 with STATUS, liveness-gated WATCHDOG=1 pings and STOPPING=1 reach NOTIFY_SOCKET in order", async () => {
    const { dir, config } = await daemonSandbox(resources);
    const listener = await NotifyListener.start(resources, join(dir, "notify.sock"));
    const daemon = spawnDaemon(resources, {
      config,
      env: { NOTIFY_SOCKET: listener.address, WATCHDOG_USEC: "1000000" },
    });

    const ready = await listener.waitFor(isReady, "READY=1");
    expect(listener.datagrams[ready]).toMatch(/^READY=1\nSTATUS=running(; .*)?$/);
    expect(childCommands(daemon.pid)).toContain("perl");
    // Pings every WATCHDOG_USEC / 2 = 500 ms.
    await listener.waitForCount(isWatchdog, 3, "WATCHDOG=1 pings after READY", { from: ready + 1 });

    daemon.signal("SIGTERM");
    expect(await daemon.waitForExit()).toEqual(CLEAN_EXIT);
    const last = await listener.waitFor(
      (datagram) => datagram === "STOPPING=1\nSTATUS=stopped",
      "the final STOPPING=1",
    );
    const firstStopping = listener.indexOf(isStopping);
    // The stop asks systemd for stopTimeout (5 s) + 5 s.
    expect(listener.datagrams[firstStopping]).toBe(
      "STOPPING=1\nSTATUS=stopping\nEXTEND_TIMEOUT_USEC=10000000",
    );
    expect(ready).toBeLessThan(firstStopping);
    expect(firstStopping).toBeLessThan(last);
    expect(listener.count(isReady)).toBe(1);
    // The watchdog timer is cleared before the final STOPPING=1.
    expect(listener.count(isWatchdog, last)).toBe(0);
  });

  it("STATUS= follows the self-health summary while running", async () => {
    const { dir, config } = await daemonSandbox(resources);
    const listener = await NotifyListener.start(resources, join(dir, "notify.sock"));
    const daemon = spawnDaemon(resources, { config, env: { NOTIFY_SOCKET: listener.address } });
    const ready = await listener.waitFor(isReady, "READY=1");
    // The first sample is the CPU baseline; the next ones (every 1 s) add "cpu N%".
    expect(listener.datagrams[ready]).not.toContain("cpu");
    await listener.waitFor(
      (datagram) => /^STATUS=running; cpu \d+% mem \d+%/.test(datagram),
      "a STATUS update with the CPU figure",
      { from: ready + 1, timeoutMs: 5_000 },
    );
    daemon.signal("SIGTERM");
    expect(await daemon.waitForExit()).toEqual(CLEAN_EXIT);
  });

  it("an abstract-namespace NOTIFY_SOCKET (@name) gets READY=1 and STOPPING=1", async () => {
    const { config } = await daemonSandbox(resources);
    const name = `@edgewarden-test-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
    const listener = await NotifyListener.start(resources, name);
    const daemon = spawnDaemon(resources, { config, env: { NOTIFY_SOCKET: name } });

    const ready = await listener.waitFor(isReady, "READY=1 on the abstract socket");
    daemon.signal("SIGTERM");
    expect(await daemon.waitForExit()).toEqual(CLEAN_EXIT);
    const stopped = await listener.waitFor(
      (datagram) => datagram === "STOPPING=1\nSTATUS=stopped",
      "STOPPING=1",
    );
    expect(ready).toBeLessThan(stopped);
  });

  it("without NOTIFY_SOCKET the daemon runs and stops normally and spawns no notify helper", async () => {
    const { config } = await daemonSandbox(resources, { logLevel: "debug" });
    // WATCHDOG_USEC alone must not make it try to notify anyone.
    const daemon = spawnDaemon(resources, { config, env: { WATCHDOG_USEC: "1000000" } });
    await daemon.waitFor(RUNNING, "the daemon to run");
    // Two samples after start-up: a second has passed, so the watchdog timer ticked twice.
    await daemon.waitForCount(componentMsg("self-health", "self-health"), 3, "three self-health samples");
    expect(childCommands(daemon.pid)).toEqual([]);

    daemon.signal("SIGTERM");
    expect(await daemon.waitForExit()).toEqual(CLEAN_EXIT);
    expect(daemon.indexOf(hasMsg("stopped cleanly"))).toBeGreaterThanOrEqual(0);
    expect(daemon.filter((line) => line.level === "warn" || line.level === "error")).toEqual([]);
  });
});

describe("SIGHUP reload", () => {
  const badSelfHealth = (text: string): string =>
    text.replace("  interval: 1s\n", "  interval: 0s\n  intervall: 2s\n");

  it("a bad config is rejected with every error as FILE:LINE:COL, audited, and the running config keeps working", async () => {
    const { dir, dataDir, config } = await daemonSandbox(resources, { logLevel: "debug" });
    const listener = await NotifyListener.start(resources, join(dir, "notify.sock"));
    const daemon = spawnDaemon(resources, {
      config,
      env: { NOTIFY_SOCKET: listener.address, WATCHDOG_USEC: "1000000" },
    });
    const running = await daemon.waitFor(RUNNING, "the daemon to run");
    await listener.waitFor(isReady, "READY=1");

    await writeFile(config, badSelfHealth(configText({ dataDir, logLevel: "debug" })));
    const from = daemon.lines.length;
    const datagramsFrom = listener.datagrams.length;
    daemon.signal("SIGHUP");
    const rejectedAt = await daemon.waitForIndex(hasEvent("config.reload_rejected"), "the rejection event", {
      from,
    });

    const errors = daemon
      .filter((line) => line.level === "error" && typeof line.configError === "string", from)
      .map((line) => String(line.configError));
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain(`${config}:8:13: selfHealth.interval: `);
    expect(errors[1]).toContain(`${config}:9:3: selfHealth.intervall: unknown key "intervall"`);
    const rejected = daemon.lines[rejectedAt];
    expect(rejected?.level).toBe("warn");
    const event = eventOf(rejected ?? {});
    expect(event).toMatchObject({
      kind: "event",
      type: "config.reload_rejected",
      severity: "warning",
      details: { errors, runningSha256: running.configSha256 },
    });

    // systemd hears RELOADING=1, then READY=1 again.
    const reloading = await listener.waitFor(isReloading, "RELOADING=1", { from: datagramsFrom });
    expect(listener.datagrams[reloading]).toMatch(
      /^RELOADING=1\nMONOTONIC_USEC=\d+\nSTATUS=reloading configuration$/,
    );
    const readyAgain = await listener.waitFor(isReady, "READY=1 after the reload", { from: reloading + 1 });
    // Still running on the old config: the sampler samples and the watchdog still pings.
    await daemon.waitFor(
      componentMsg("self-health", "self-health"),
      "a self-health sample after the rejection",
      {
        from: rejectedAt + 1,
      },
    );
    await listener.waitForCount(isWatchdog, 2, "WATCHDOG=1 after the rejection", { from: readyAgain + 1 });
    expect(daemon.filter(hasMsg("stopped"), from)).toEqual([]);
    expect(daemon.exitResult).toBeUndefined();

    daemon.signal("SIGTERM");
    expect(await daemon.waitForExit()).toEqual(CLEAN_EXIT);
  });

  it("a changed config restarts only what changed; an unchanged one restarts nothing; both are audited", async () => {
    const { dataDir, config, pidFile } = await daemonSandbox(resources);
    const daemon = spawnDaemon(resources, { config });
    const running = await daemon.waitFor(RUNNING, "the daemon to run");

    await writeConfig(config, { dataDir, interval: "2s" });
    const from = daemon.lines.length;
    daemon.signal("SIGHUP");
    const changed = eventOf(await daemon.waitFor(hasEvent("config.reloaded"), "the reload event", { from }));
    expect(changed).toMatchObject({
      type: "config.reloaded",
      severity: "info",
      message: "configuration reloaded; restarted self-health",
      details: { restarted: ["self-health"], previousSha256: running.configSha256 },
    });
    const details = isRecord(changed.details) ? changed.details : {};
    expect(details.sha256).not.toBe(running.configSha256);
    const stopped = daemon.indexOf(componentMsg("self-health", "stopped"), from);
    const started = daemon.indexOf(componentMsg("self-health", "started"), from);
    expect(stopped).toBeGreaterThanOrEqual(0);
    expect(stopped).toBeLessThan(started);
    expect(daemon.indexOf(componentMsg("instance-lock", "stopped"), from)).toBe(-1);
    expect(pidInFile(await readFile(pidFile, "utf8"))).toBe(String(daemon.pid));

    const from2 = daemon.lines.length;
    daemon.signal("SIGHUP");
    const unchanged = eventOf(
      await daemon.waitFor(hasEvent("config.reloaded"), "the second reload event", { from: from2 }),
    );
    expect(unchanged).toMatchObject({
      message: "configuration reloaded; nothing changed",
      details: { restarted: [], previousSha256: details.sha256, sha256: details.sha256 },
    });
    expect(daemon.filter((line) => line.msg === "stopped" || line.msg === "started", from2)).toEqual([]);

    daemon.signal("SIGTERM");
    expect(await daemon.waitForExit()).toEqual(CLEAN_EXIT);
  });

  it("every rejected reload is audited, also the same bad config twice in a row", async () => {
    const { dir, dataDir, config } = await daemonSandbox(resources);
    const listener = await NotifyListener.start(resources, join(dir, "notify.sock"));
    const daemon = spawnDaemon(resources, { config, env: { NOTIFY_SOCKET: listener.address } });
    await daemon.waitFor(RUNNING, "the daemon to run");
    await writeFile(config, badSelfHealth(configText({ dataDir })));

    for (let attempt = 1; attempt <= 2; attempt++) {
      const reloadingFrom = listener.datagrams.length;
      daemon.signal("SIGHUP");
      const reloading = await listener.waitFor(isReloading, `RELOADING=1 #${attempt}`, {
        from: reloadingFrom,
      });
      // READY=1 after RELOADING=1 means this reload is over.
      await listener.waitFor(isReady, `READY=1 after reload #${attempt}`, { from: reloading + 1 });
    }
    daemon.signal("SIGTERM");
    expect(await daemon.waitForExit()).toEqual(CLEAN_EXIT);

    expect(daemon.filter(hasEvent("config.reload_rejected"))).toHaveLength(2);
  });

  it("a reload whose new data directory stays locked gives up within gateway.startTimeout and restores the running config", async () => {
    const a = await daemonSandbox(resources);
    const daemonA = spawnDaemon(resources, { config: a.config, name: "daemon A" });
    await daemonA.waitFor(RUNNING, "daemon A to run");
    const b = await daemonSandbox(resources, { startTimeout: "2s" });
    const daemonB = spawnDaemon(resources, { config: b.config, name: "daemon B" });
    await daemonB.waitFor(RUNNING, "daemon B to run");

    await writeConfig(b.config, { dataDir: a.dataDir, startTimeout: "2s" });
    const from = daemonB.lines.length;
    daemonB.signal("SIGHUP");
    const waiting = await daemonB.waitForIndex(
      componentMsg("instance-lock", WAITING_FOR_LOCK),
      "B to wait for A's lock",
      { from },
    );
    const outcome = await daemonB.waitFor(
      (line) => hasEvent("config.reload_failed")(line) || hasEvent("config.reload_rejected")(line),
      "the reload to give up (startTimeout 2 s)",
      { from, timeoutMs: 10_000 },
    );
    expect(outcome.level).toBe("error");
    // The old components were put back: B's lock and sampler run again on its own data directory.
    expect(daemonB.indexOf(componentMsg("instance-lock", "started"), waiting)).toBeGreaterThan(waiting);
    await daemonB.waitFor(componentMsg("self-health", "started"), "B's self-health to run again", {
      from: waiting,
    });
    expect(pidInFile(await readFile(b.pidFile, "utf8"))).toBe(String(daemonB.pid));
    expect(pidInFile(await readFile(a.pidFile, "utf8"))).toBe(String(daemonA.pid));

    daemonB.signal("SIGTERM");
    expect(await daemonB.waitForExit()).toEqual(CLEAN_EXIT);
  });
});

describe("faults", () => {
  it.each([
    { fixture: "throw-on-signal.mjs", msg: "uncaught exception", message: "injected fault" },
    { fixture: "reject-on-signal.mjs", msg: "unhandled promise rejection", message: "injected rejection" },
  ])("$msg is logged as fatal, then exit 1", async ({ fixture, msg, message }) => {
    const { config } = await daemonSandbox(resources);
    const daemon = spawnDaemon(resources, { config, preload: [fixture] });
    await daemon.waitFor(RUNNING, "the daemon to run");

    daemon.signal("SIGUSR2");
    expect(await daemon.waitForExit()).toEqual({ code: 1, signal: null });
    const fatal = daemon.filter((line) => line.level === "fatal");
    expect(fatal).toHaveLength(1);
    expect(fatal[0]?.msg).toBe(msg);
    expect(errMessage(fatal[0] ?? {})).toBe(message);
  });

  it("a stalled self-health sampler withholds WATCHDOG=1 while the process lives; the bounded stop exits 1 naming it", async () => {
    const { dir, config } = await daemonSandbox(resources, { stopTimeout: "2s" });
    const listener = await NotifyListener.start(resources, join(dir, "notify.sock"));
    const daemon = spawnDaemon(resources, {
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
    const { config, pidFile } = await daemonSandbox(resources, { stopTimeout: "2s" });
    const daemon = spawnDaemon(resources, {
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

  it("a second SIGTERM during a slow stop is noted and the exit code still reflects the stop", async () => {
    const { config } = await daemonSandbox(resources, { stopTimeout: "3s" });
    const daemon = spawnDaemon(resources, {
      config,
      preload: ["stall-loadavg.mjs"],
      env: { STALL_AFTER: "1" },
    });
    await daemon.waitFor(RUNNING, "the daemon to run");
    await daemon.waitForStderr("hangs from now on");

    daemon.signal("SIGTERM");
    await daemon.waitFor(hasMsg("stop requested"), "the first stop request");
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
    const { config } = await daemonSandbox(resources, { stopTimeout: "60s" });
    const daemon = spawnDaemon(resources, {
      config,
      preload: ["stall-loadavg.mjs"],
      env: { STALL_AFTER: "1" },
    });
    await daemon.waitFor(RUNNING, "the daemon to run");
    await daemon.waitForStderr("hangs from now on");

    daemon.signal("SIGTERM");
    await daemon.waitFor(hasMsg("stop requested"), "the first stop request");
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
