/**
 * sd_notify without a native addon (src/daemon/systemdNotify.ts): a long-lived perl helper sends
 * hex-framed messages to NOTIFY_SOCKET. The socket here is a real unix datagram socket bound by a
 * python helper, so these tests see exactly the bytes systemd would.
 */
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createNotifier, formatNotifyMessage, type Notifier } from "../../src/daemon/systemdNotify.js";
import { childCommands } from "../helpers/daemon.js";
import type { JsonRecord } from "../helpers/lineChild.js";
import { type MemoryLogger, memoryLogger } from "../helpers/memoryLogger.js";
import { NotifyListener } from "../helpers/notifyListener.js";
import { Resources } from "../helpers/resources.js";
import { waitUntil } from "../helpers/waitUntil.js";

let resources: Resources;
let log: MemoryLogger;
let notifiers: Notifier[];

beforeEach(() => {
  resources = new Resources();
  log = memoryLogger();
  notifiers = [];
});

afterEach(async () => {
  await Promise.all(notifiers.map((notifier) => notifier.close()));
  await resources.release();
});

function track(notifier: Notifier): Notifier {
  notifiers.push(notifier);
  return notifier;
}

/** perl children of this (test worker) process: the notify helper. */
function perlHelpers(): string[] {
  return childCommands(process.pid).filter((command) => command === "perl");
}

async function listener(): Promise<NotifyListener> {
  const dir = await resources.tempDir("edgewarden-notify-");
  return NotifyListener.start(resources, join(dir, "notify.sock"));
}

describe("createNotifier without NOTIFY_SOCKET", () => {
  it("is disabled, notify is a no-op and no helper process is spawned", async () => {
    for (const env of [{}, { NOTIFY_SOCKET: "" }]) {
      const notifier = track(createNotifier(env, log.logger));
      expect(notifier.enabled).toBe(false);
      expect(() => notifier.notify({ READY: 1, STATUS: "running" })).not.toThrow();
      expect(() => notifier.notify({ WATCHDOG: 1 })).not.toThrow();
      await expect(notifier.close()).resolves.toBeUndefined();
    }
    expect(perlHelpers()).toEqual([]);
    expect(log.lines).toEqual([]);
  });
});

describe("watchdog interval", () => {
  it("is derived from WATCHDOG_USEC, for this process only", () => {
    const make = (env: Record<string, string>) => track(createNotifier(env, log.logger)).watchdogMs;
    expect(make({ WATCHDOG_USEC: "2000000" })).toBe(2000);
    expect(make({ WATCHDOG_USEC: "2000000", WATCHDOG_PID: String(process.pid) })).toBe(2000);
    expect(make({ WATCHDOG_USEC: "2000000", WATCHDOG_PID: String(process.pid + 1) })).toBeUndefined();
    expect(make({ WATCHDOG_USEC: "0" })).toBeUndefined();
    expect(make({ WATCHDOG_USEC: "soon" })).toBeUndefined();
    expect(make({})).toBeUndefined();
    expect(make({ NOTIFY_SOCKET: "/run/systemd/notify-not-used", WATCHDOG_USEC: "500000" })).toBe(500);
  });
});

describe("formatNotifyMessage", () => {
  it("joins fields as KEY=VALUE lines and flattens newlines inside values", () => {
    expect(formatNotifyMessage({ READY: 1, STATUS: "ok" })).toBe("READY=1\nSTATUS=ok");
    expect(formatNotifyMessage({ STATUS: "line one\nline two\nthree" })).toBe(
      "STATUS=line one line two three",
    );
  });
});

describe("createNotifier with a listening NOTIFY_SOCKET", () => {
  it("delivers each message as one datagram of KEY=VALUE lines", async () => {
    const socket = await listener();
    const notifier = track(createNotifier({ NOTIFY_SOCKET: socket.address }, log.logger));
    expect(notifier.enabled).toBe(true);

    notifier.notify({ READY: 1, STATUS: "running; cpu 3%", MAINPID: 4242 });
    notifier.notify({ WATCHDOG: 1 });
    await socket.waitForCount(() => true, 2, "two datagrams");
    expect(socket.datagrams).toEqual(["READY=1\nSTATUS=running; cpu 3%\nMAINPID=4242", "WATCHDOG=1"]);
  });

  it("flattens a multi-line STATUS and keeps arbitrary UTF-8 intact", async () => {
    const socket = await listener();
    const notifier = track(createNotifier({ NOTIFY_SOCKET: socket.address }, log.logger));
    const status = "Ofen 3: 850 °C – Zone β ✓ 温度 🔥 \"quoted\" 'single' \\ back\\slash % $HOME";

    notifier.notify({ STATUS: `first line\n${status}` });
    await socket.waitFor(() => true, "the STATUS datagram");
    expect(socket.datagrams).toEqual([`STATUS=first line ${status}`]);
  });

  it("works with an abstract-namespace socket (@name)", async () => {
    const address = `@edgewarden-notify-test-${process.pid}-${Date.now()}`;
    const socket = await NotifyListener.start(resources, address);
    const notifier = track(createNotifier({ NOTIFY_SOCKET: address }, log.logger));
    notifier.notify({ READY: 1 });
    await socket.waitFor(() => true, "READY=1");
    expect(socket.datagrams).toEqual(["READY=1"]);
  });

  it("uses one long-lived helper, and close() resolves once it is gone", async () => {
    const socket = await listener();
    const notifier = track(createNotifier({ NOTIFY_SOCKET: socket.address }, log.logger));
    expect(perlHelpers()).toEqual([]); // spawned lazily, on the first message

    for (let index = 0; index < 20; index++) {
      notifier.notify({ WATCHDOG: 1 });
    }
    notifier.notify({ STOPPING: 1 });
    expect(perlHelpers()).toEqual(["perl"]);
    await notifier.close();
    expect(perlHelpers()).toEqual([]);
    // close() flushed what was written before it.
    await socket.waitForCount(() => true, 21, "all 21 datagrams");
    expect(socket.datagrams.at(-1)).toBe("STOPPING=1");
    await expect(notifier.close()).resolves.toBeUndefined();
  });

  it("never throws when nobody listens on NOTIFY_SOCKET, and logs the helper's complaint", async () => {
    const dir = await resources.tempDir("edgewarden-notify-");
    const notifier = track(createNotifier({ NOTIFY_SOCKET: join(dir, "nobody.sock") }, log.logger));
    expect(() => notifier.notify({ READY: 1 })).not.toThrow();
    await notifier.close();
    const complaint = (): JsonRecord[] => log.lines.filter((line) => line.msg === "systemd notify helper");
    await waitUntil(() => complaint().length > 0, "the helper's complaint to be logged");
    const warnings = complaint();
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.helper)).toMatch(/^send: /);
  });
});
