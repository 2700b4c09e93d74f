/**
 * One daemon per data directory (src/daemon/instanceLock.ts): the pid file names its holder by
 * pid, boot id and process start time, so leftovers and reused pids are stale and a live holder
 * is waited for, abortably.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InstanceLock, LOCK_FILE_NAME } from "../../src/daemon/instanceLock.js";
import { type MemoryLogger, memoryLogger } from "../helpers/memoryLogger.js";
import { Resources } from "../helpers/resources.js";
import { waitUntil } from "../helpers/waitUntil.js";

const WAITING = "another edgewarden holds this data directory; waiting for it to stop";
const STALE = "removing a stale instance lock";

let resources: Resources;
let log: MemoryLogger;
let dataDir: string;
let pidFile: string;
let locks: InstanceLock[];
let sleepers: ChildProcess[];

beforeEach(async () => {
  resources = new Resources();
  log = memoryLogger();
  dataDir = join(await resources.tempDir("edgewarden-lock-"), "data");
  pidFile = join(dataDir, LOCK_FILE_NAME);
  locks = [];
  sleepers = [];
});

afterEach(async () => {
  await Promise.all(locks.map((lock) => lock.stop()));
  await Promise.all(
    sleepers.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) {
            resolve();
            return;
          }
          child.once("exit", () => resolve());
          child.kill("SIGKILL");
        }),
    ),
  );
  await resources.release();
});

function newLock(): InstanceLock {
  const lock = new InstanceLock(dataDir, log.logger);
  locks.push(lock);
  return lock;
}

/** A live process that is not us: `sleep 30`, killed in afterEach. */
async function liveProcess(): Promise<{ readonly child: ChildProcess; readonly pid: number }> {
  const child = spawn("sleep", ["30"], { stdio: "ignore" });
  sleepers.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
  const { pid } = child;
  if (pid === undefined) {
    throw new Error("sleep has no pid");
  }
  return { child, pid };
}

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const { pid } = child;
  if (pid === undefined) {
    throw new Error("no pid");
  }
  return pid;
}

async function bootId(): Promise<string> {
  return (await readFile("/proc/sys/kernel/random/boot_id", "utf8")).trim();
}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot). */
async function startTime(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const value = fields[22 - 3];
  if (value === undefined) {
    throw new Error(`cannot parse /proc/${pid}/stat`);
  }
  return value;
}

async function writePidFile(content: string): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  await writeFile(pidFile, content);
}

async function holderPid(): Promise<string | undefined> {
  return (await readFile(pidFile, "utf8")).split("\n")[0];
}

const messages = (msg: string) => log.lines.filter((line) => line.msg === msg);

describe("InstanceLock", () => {
  it("acquires by writing our pid, boot id and start time, and removes the file on stop", async () => {
    const lock = newLock();
    await lock.start(new AbortController().signal);
    expect(await readFile(pidFile, "utf8")).toBe(
      `${process.pid}\n${await bootId()}\n${await startTime(process.pid)}\n`,
    );
    expect(log.lines.filter((line) => line.level === "warn")).toEqual([]);

    await lock.stop();
    expect(existsSync(pidFile)).toBe(false);
    // No temporary files left behind.
    expect(await readdir(dataDir)).toEqual([]);
  });

  it("takes over the stale pid file of a dead process, with a warning", async () => {
    const dead = await deadPid();
    await writePidFile(`${dead}\n${await bootId()}\n12345\n`);
    await newLock().start(new AbortController().signal);
    expect(await holderPid()).toBe(String(process.pid));
    const warnings = messages(STALE);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: "warn", holder: { pid: dead } });
  });

  it("waits while a live holder has it, and an abort rejects promptly leaving the holder's file alone", async () => {
    const holder = await liveProcess();
    const content = `${holder.pid}\n${await bootId()}\n${await startTime(holder.pid)}\n`;
    await writePidFile(content);
    const controller = new AbortController();
    let settled = false;
    const starting = newLock().start(controller.signal);
    starting.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );

    await waitUntil(() => messages(WAITING).length > 0, "the waiting warning");
    expect(messages(WAITING)[0]).toMatchObject({ level: "warn", holderPid: holder.pid, path: pidFile });
    expect(settled).toBe(false);

    const reason = new Error("stop requested (SIGTERM)");
    const abortedAt = performance.now();
    controller.abort(reason);
    await expect(starting).rejects.toBe(reason);
    expect(performance.now() - abortedAt).toBeLessThan(500);
    expect(await readFile(pidFile, "utf8")).toBe(content);
    expect(messages(STALE)).toEqual([]);
    expect(messages(WAITING)).toHaveLength(1); // announced once, not per retry
  });

  it("acquires once the live holder exits and its pid file is left behind", async () => {
    const holder = await liveProcess();
    await writePidFile(`${holder.pid}\n${await bootId()}\n${await startTime(holder.pid)}\n`);
    const starting = newLock().start(new AbortController().signal);
    await waitUntil(() => messages(WAITING).length > 0, "the waiting warning");

    holder.child.kill("SIGKILL");
    await starting; // backoff is at most 2 s
    expect(await holderPid()).toBe(String(process.pid));
  });

  it("treats a live pid with a different start time (a reused pid) as stale", async () => {
    const other = await liveProcess();
    await writePidFile(`${other.pid}\n${await bootId()}\n1\n`);
    await newLock().start(AbortSignal.timeout(5_000));
    expect(await holderPid()).toBe(String(process.pid));
    expect(messages(STALE)).toHaveLength(1);
    expect(messages(WAITING)).toEqual([]);
  });

  it("treats a pid file from another boot as stale even if its pid and start time match a live process", async () => {
    const other = await liveProcess();
    await writePidFile(`${other.pid}\n00000000-0000-4000-8000-000000000000\n${await startTime(other.pid)}\n`);
    await newLock().start(AbortSignal.timeout(5_000));
    expect(await holderPid()).toBe(String(process.pid));
    expect(messages(STALE)).toHaveLength(1);
  });

  it.each([
    ["garbage", "this is not a pid file\n"],
    ["an empty file", ""],
    ["a negative pid", "-5\n"],
  ])("treats %s as stale", async (_name, content) => {
    await writePidFile(content);
    await newLock().start(AbortSignal.timeout(5_000));
    expect(await holderPid()).toBe(String(process.pid));
    expect(messages(STALE)).toHaveLength(1);
  });

  it("stop() without a start, or after an aborted start, leaves another holder's file alone", async () => {
    const holder = await liveProcess();
    const content = `${holder.pid}\n${await bootId()}\n${await startTime(holder.pid)}\n`;
    await writePidFile(content);
    const lock = newLock();
    await lock.stop();
    const controller = new AbortController();
    const starting = lock.start(controller.signal);
    await waitUntil(() => messages(WAITING).length > 0, "the waiting warning");
    controller.abort(new Error("abort"));
    await expect(starting).rejects.toThrow("abort");
    await lock.stop();
    expect(await readFile(pidFile, "utf8")).toBe(content);
  });
});
