/**
 * What the outbox must-shows measure of the daemon from outside (issue #5): its resident set from
 * /proc/PID/status (VmRSS), its open file descriptors from /proc/PID/fd by kind, and its active
 * libuv resources as reported by the report-resources.mjs preload on SIGUSR2.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import type { LineChild } from "../../helpers/lineChild.js";
import { waitUntil } from "../../helpers/waitUntil.js";

export const RESOURCES_PRELOAD = "report-resources.mjs";

/** VmRSS in KiB, or undefined once the process is gone. */
export function rssKiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match?.[1] === undefined ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

export interface RssSample {
  readonly atMs: number;
  readonly kib: number;
  readonly phase: string;
}

/** Samples VmRSS every `everyMs`, labelled with the phase the test says it is in. */
export class RssSampler {
  readonly samples: RssSample[] = [];
  phase = "start";
  readonly #pid: number;
  readonly #timer: NodeJS.Timeout;

  constructor(pid: number, everyMs = 500) {
    this.#pid = pid;
    this.#timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): void {
    const kib = rssKiB(this.#pid);
    if (kib !== undefined) {
      this.samples.push({ atMs: performance.now(), kib, phase: this.phase });
    }
  }

  of(phase: string): number[] {
    return this.samples.filter((s) => s.phase === phase).map((s) => s.kib);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Resources calls this at the end of a test. */
  kill(): Promise<void> {
    this.stop();
    return Promise.resolve();
  }
}

export interface FdCounts {
  /** Regular files (LevelDB's tables and logs, the pid file, ...). */
  readonly files: number;
  /** Everything else: sockets, pipes, ttys, eventfds, epoll. */
  readonly other: number;
  readonly byKind: Readonly<Record<string, number>>;
}

export function fdCounts(pid: number): FdCounts {
  const byKind: Record<string, number> = {};
  let files = 0;
  let other = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    const kind = target.startsWith("/dev/")
      ? "dev"
      : target.startsWith("/")
        ? "file"
        : (/^([a-z_]+)[:[]/.exec(target)?.[1] ?? target);
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    if (kind === "file") {
      files++;
    } else {
      other++;
    }
  }
  return { files, other, byKind };
}

export interface ResourceReport {
  /** Active libuv resources by type (process.getActiveResourcesInfo). */
  readonly resources: Readonly<Record<string, number>>;
  /** process.memoryUsage() in bytes: rss, heapTotal, heapUsed, external, arrayBuffers. */
  readonly memory: Readonly<Record<string, number>>;
}

/** Asks the preload for the daemon's active resources and memory, and waits for its answer. */
export async function resourceReport(daemon: LineChild): Promise<ResourceReport> {
  const before = daemon.stderr.length;
  daemon.signal("SIGUSR2");
  let found: ResourceReport | undefined;
  await waitUntil(
    () => {
      const match = /report-resources: (\{.*\})\n/.exec(daemon.stderr.slice(before));
      if (match?.[1] !== undefined) {
        found = JSON.parse(match[1]) as ResourceReport;
      }
      return found !== undefined;
    },
    "the daemon's resource report",
    { timeoutMs: 5_000 },
  );
  if (found === undefined) {
    throw new Error("no resource report");
  }
  return found;
}

export function total(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}
