import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
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
import { CLEAN_EXIT, pidInFile, useResources, WAITING_FOR_LOCK } from "../helpers/lifecycle.js";
import { isRecord } from "../helpers/lineChild.js";
import { isReady, isReloading, isWatchdog, NotifyListener } from "../helpers/notifyListener.js";

const current = useResources();

describe("SIGHUP reload", () => {
  const badSelfHealth = (text: string): string =>
    text.replace("  interval: 1s\n", "  interval: 0s\n  intervall: 2s\n");

  it("a bad config is rejected with every error as FILE:LINE:COL, audited, and the running config keeps working", async () => {
    const { dir, dataDir, config } = await daemonSandbox(current(), { logLevel: "debug" });
    const listener = await NotifyListener.start(current(), join(dir, "notify.sock"));
    const daemon = spawnDaemon(current(), {
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
    const { dataDir, config, pidFile } = await daemonSandbox(current());
    const daemon = spawnDaemon(current(), { config });
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
    const { dir, dataDir, config } = await daemonSandbox(current());
    const listener = await NotifyListener.start(current(), join(dir, "notify.sock"));
    const daemon = spawnDaemon(current(), { config, env: { NOTIFY_SOCKET: listener.address } });
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
    const a = await daemonSandbox(current());
    const daemonA = spawnDaemon(current(), { config: a.config, name: "daemon A" });
    await daemonA.waitFor(RUNNING, "daemon A to run");
    const b = await daemonSandbox(current(), { startTimeout: "2s" });
    const daemonB = spawnDaemon(current(), { config: b.config, name: "daemon B" });
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
