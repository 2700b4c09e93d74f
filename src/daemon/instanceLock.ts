/**
 * One daemon per data directory. A pid file names the holder together with its boot id and
 * process start time, so a file left by a crash, or a pid reused after a reboot (a Pi without RTC
 * reboots often), is recognised as stale rather than waited on. When the holder is alive (an old
 * instance still stopping while systemd starts the new one, or a technician's manual `run`),
 * start-up waits for it, abortably, within gateway.startTimeout (FAULTS 8.2 LEVEL_LOCKED).
 * LevelDB's own LOCK file remains the hard guarantee for the ledger; this lock gives the clear
 * message and the wait.
 */
import { link, mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../observability/logger.js";
import { type Component, sleep } from "./component.js";

export const LOCK_FILE_NAME = "edgewarden.pid";

interface Holder {
  readonly pid: number;
  readonly bootId: string | undefined;
  readonly startTime: string | undefined;
}

export class InstanceLock implements Component {
  readonly name = "instance-lock";
  readonly #dir: string;
  readonly #path: string;
  readonly #logger: Logger;
  #held = false;

  constructor(dataDir: string, logger: Logger) {
    this.#dir = dataDir;
    this.#path = join(dataDir, LOCK_FILE_NAME);
    this.#logger = logger;
  }

  async start(signal: AbortSignal): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o750 });
    const me = await describeProcess(process.pid);
    let delay = 100;
    let announced = false;
    for (;;) {
      if (await this.#tryAcquire(me)) {
        this.#held = true;
        return;
      }
      const holder = await readHolder(this.#path);
      if (holder === undefined || !(await isAlive(holder))) {
        this.#logger.warn({ holder, path: this.#path }, "removing a stale instance lock");
        await this.#removeStale();
        continue;
      }
      if (!announced) {
        this.#logger.warn(
          { holderPid: holder.pid, path: this.#path },
          "another edgewarden holds this data directory; waiting for it to stop",
        );
        announced = true;
      }
      await sleep(delay, signal);
      delay = Math.min(delay * 2, 2000);
    }
  }

  async stop(): Promise<void> {
    if (!this.#held) {
      return;
    }
    this.#held = false;
    const holder = await readHolder(this.#path);
    if (holder?.pid === process.pid) {
      await unlink(this.#path).catch(() => undefined);
    }
  }

  /** Write a private file, then hard-link it into place: link() fails atomically if one exists. */
  async #tryAcquire(me: Holder): Promise<boolean> {
    const temp = `${this.#path}.${process.pid}.tmp`;
    await writeFile(temp, `${me.pid}\n${me.bootId ?? ""}\n${me.startTime ?? ""}\n`, { mode: 0o644 });
    try {
      await link(temp, this.#path);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") {
        return false;
      }
      throw error;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  /** Rename rather than unlink, so that two starters racing on one stale file both see it gone. */
  async #removeStale(): Promise<void> {
    await rename(this.#path, `${this.#path}.stale.${process.pid}`)
      .then(() => unlink(`${this.#path}.stale.${process.pid}`))
      .catch(() => undefined);
  }
}

async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    const [pid, bootId, startTime] = (await readFile(path, "utf8")).split("\n");
    const parsed = Number(pid);
    if (!Number.isInteger(parsed) || parsed <= 0) {
      return undefined;
    }
    return { pid: parsed, bootId: bootId || undefined, startTime: startTime || undefined };
  } catch {
    return undefined;
  }
}

async function describeProcess(pid: number): Promise<Holder> {
  return { pid, bootId: await bootId(), startTime: await processStartTime(pid) };
}

async function isAlive(holder: Holder): Promise<boolean> {
  if (holder.pid === process.pid) {
    return false; // our own leftover from an earlier run with the same pid: stale by definition
  }
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") {
      return false;
    }
  }
  const current = await describeProcess(holder.pid);
  if (holder.bootId !== undefined && current.bootId !== undefined && holder.bootId !== current.bootId) {
    return false;
  }
  if (
    holder.startTime !== undefined &&
    current.startTime !== undefined &&
    holder.startTime !== current.startTime
  ) {
    return false;
  }
  return true;
}

function bootId(): Promise<string | undefined> {
  return readFile("/proc/sys/kernel/random/boot_id", "utf8").then(
    (text) => text.trim(),
    () => undefined,
  );
}

/** Field 22 of /proc/PID/stat, after the parenthesised command name (which may hold spaces). */
async function processStartTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}
