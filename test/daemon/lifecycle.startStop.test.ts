/**
 * The daemon's lifecycle end to end (issue #2, FAULTS 8.8) — start-up, stop and systemd notifications: the built CLI in a
 * child process, signals from the test, systemd notifications through a real unix datagram
 * socket, faults injected with `node --import` preload fixtures (the product has no test hooks).
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  childCommands,
  componentMsg,
  configText,
  daemonSandbox,
  edgewarden,
  hasMsg,
  ledgerEntries,
  OUTBOX_COMPONENTS,
  RUNNING,
  spawnDaemon,
  writeConfig,
} from "../helpers/daemon.js";
import { CLEAN_EXIT, pidInFile, useResources, WAITING_FOR_LOCK } from "../helpers/lifecycle.js";
import { isReady, isStopping, isWatchdog, NotifyListener } from "../helpers/notifyListener.js";
import { startPymodbusServer } from "../helpers/pymodbusServer.js";

const current = useResources();

describe("start-up", () => {
  it("SIGTERM while start-up waits for the instance lock aborts the start-up and exits 0 without READY", async () => {
    const { dir, config, pidFile } = await daemonSandbox(current());
    const a = spawnDaemon(current(), { config, name: "daemon A" });
    await a.waitFor(RUNNING, "daemon A to run");

    const listenerB = await NotifyListener.start(current(), join(dir, "notify-b.sock"));
    const b = spawnDaemon(current(), { config, name: "daemon B", env: { NOTIFY_SOCKET: listenerB.address } });
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
    const { dir, dataDir, config, pidFile } = await daemonSandbox(current());
    const a = spawnDaemon(current(), { config, name: "daemon A" });
    await a.waitFor(RUNNING, "daemon A to run");
    const configB = await writeConfig(join(dir, "b.yaml"), { dataDir, startTimeout: "1s" });

    const b = spawnDaemon(current(), { config: configB, name: "daemon B" });
    expect(await b.waitForExit()).toEqual({ code: 1, signal: null });
    const fatal = b.filter((line) => line.level === "fatal");
    expect(fatal.map((line) => line.msg)).toEqual([
      "start-up took longer than gateway.startTimeout (1000 ms)",
    ]);
    expect(b.indexOf(RUNNING)).toBe(-1);
    expect(pidInFile(await readFile(pidFile, "utf8"))).toBe(String(a.pid));
  });

  it("SIGTERM while the CLI is still loading its modules exits 0 and starts nothing", async () => {
    const { config, dataDir } = await daemonSandbox(current());
    const daemon = spawnDaemon(current(), { config, preload: ["sigterm-on-capture.mjs"] });
    expect(await daemon.waitForExit()).toEqual(CLEAN_EXIT);
    expect(daemon.indexOf(hasMsg("stop requested before start-up began"))).toBeGreaterThanOrEqual(0);
    expect(daemon.filter(hasMsg("started"))).toEqual([]);
    expect(existsSync(dataDir)).toBe(false);
  });

  it("a bad config exits 2 with every error on stderr as FILE:LINE:COL and starts nothing", async () => {
    const { config, dataDir } = await daemonSandbox(current());
    await writeFile(
      config,
      configText({ dataDir }).replace("  interval: 1s\n", "  interval: 1s\n  intervall: 2s\n"),
    );
    const daemon = spawnDaemon(current(), { config });
    expect(await daemon.waitForExit()).toEqual({ code: 2, signal: null });
    expect(daemon.stderr).toContain(`${config}:9:3: selfHealth.intervall: unknown key "intervall"`);
    expect(daemon.stderr).toContain(`${config}: 1 error(s); not starting`);
    expect(daemon.lines).toEqual([]);
    expect(existsSync(dataDir)).toBe(false);
  });

  it("polls the configured devices: one bus component per link, samples in the ledger, tags bad while a device is down", async () => {
    const pymodbus = current().track(
      await startPymodbusServer({ transport: "tcp", units: { 1: { holding: { 100: [4321] } } } }),
    );
    const { config, dataDir } = await daemonSandbox(current());
    const device = (name: string, port: number) =>
      `  - name: ${name}\n    protocol: modbus-tcp\n    host: 127.0.0.1\n    port: ${port}\n    timeout: 200ms\n` +
      "    pollGroups:\n      - name: fast\n        interval: 500ms\n        tags:\n" +
      "          - { name: t1, table: holding, address: 100, type: uint16 }\n";
    // Port 1 on loopback refuses connections: a device that is down must not hold up start-up.
    await writeFile(
      config,
      `${configText({ dataDir, logLevel: "debug" })}devices:\n${device("plc1", pymodbus.port)}${device("down", 1)}`,
    );
    const daemon = spawnDaemon(current(), { config });
    const running = await daemon.waitFor(RUNNING, "the daemon to run");
    expect(running.components).toEqual([
      "instance-lock",
      ...OUTBOX_COMPONENTS,
      "self-health",
      `bus tcp://127.0.0.1:${pymodbus.port}`,
      "bus tcp://127.0.0.1:1",
    ]);
    // A few poll cycles at 500 ms, then the ledger (locked while the daemon runs) is read.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    daemon.signal("SIGTERM");
    expect(await daemon.waitForExit()).toEqual(CLEAN_EXIT);
    const entries = ledgerEntries(join(dataDir, "ledger"));
    const bodyOf = (name: string) => {
      const entry = entries.find((line) => line.kind === "sample" && line.device === name);
      expect(entry, `a sample of ${name} in the ledger`).toBeDefined();
      return entry?.body as { values: Record<string, unknown> };
    };
    expect(bodyOf("plc1").values.t1).toEqual({ value: 4321, quality: "good" });
    expect(bodyOf("down").values.t1).toMatchObject({
      quality: "bad",
      reason: expect.stringMatching(/^disconnected: connect ECONNREFUSED 127\.0\.0\.1:1/),
    });
    expect(entries.some((line) => line.kind === "sample" && line.device === "gateway")).toBe(true);
    const verified = edgewarden(["ledger", "verify", "-d", join(dataDir, "ledger")]);
    expect(verified.code).toBe(0);
  });
});

describe("stop", () => {
  it.each(["SIGTERM", "SIGINT"] as const)(
    "%s while running stops the components in reverse start order, removes the pid file and exits 0",
    async (signal) => {
      const { config, pidFile } = await daemonSandbox(current());
      const daemon = spawnDaemon(current(), { config });
      const running = await daemon.waitFor(RUNNING, "the daemon to run");
      expect(running.components).toEqual(["instance-lock", ...OUTBOX_COMPONENTS, "self-health"]);
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
    const { dir, config } = await daemonSandbox(current());
    const listener = await NotifyListener.start(current(), join(dir, "notify.sock"));
    const daemon = spawnDaemon(current(), {
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
    const { dir, config } = await daemonSandbox(current());
    const listener = await NotifyListener.start(current(), join(dir, "notify.sock"));
    const daemon = spawnDaemon(current(), { config, env: { NOTIFY_SOCKET: listener.address } });
    const ready = await listener.waitFor(isReady, "READY=1");
    // The first sample is the CPU baseline; the next ones (every 1 s) add "cpu N%".
    expect(listener.datagrams[ready]).not.toContain("cpu");
    await listener.waitFor(
      (datagram) => /^STATUS=running; backlog \d+ \(uplink off\); cpu \d+% mem \d+%/.test(datagram),
      "a STATUS update with the CPU figure",
      { from: ready + 1, timeoutMs: 5_000 },
    );
    daemon.signal("SIGTERM");
    expect(await daemon.waitForExit()).toEqual(CLEAN_EXIT);
  });

  it("an abstract-namespace NOTIFY_SOCKET (@name) gets READY=1 and STOPPING=1", async () => {
    const { config } = await daemonSandbox(current());
    const name = `@edgewarden-test-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
    const listener = await NotifyListener.start(current(), name);
    const daemon = spawnDaemon(current(), { config, env: { NOTIFY_SOCKET: name } });

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
    const { config } = await daemonSandbox(current(), { logLevel: "debug" });
    // WATCHDOG_USEC alone must not make it try to notify anyone.
    const daemon = spawnDaemon(current(), { config, env: { WATCHDOG_USEC: "1000000" } });
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
