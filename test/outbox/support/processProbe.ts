/**
 * What the outbox must-shows measure of the daemon from outside (issue #5): its resident set from
 * /proc/PID/status (VmRSS), its open file descriptors from /proc/PID/fd by kind, and its active
 * libuv resources as reported by the report-resources.mjs preload on SIGUSR2.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import type { LineChild } from "../../helpers/lineChild.js";
import { waitUntil } from "../../helpers/waitUntil.js";

export const RESOURCES_PRELOAD = "report-resources.mjs";

/**
 * VmRSS and its two parts in KiB (/proc/PID/status): RssAnon (the V8 heap, malloc) and RssFile
 * (mapped files: the node binary, LevelDB's tables); undefined once the process is gone.
 */
export function memoryKiB(pid: number): { rss: number; anon: number; file: number } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status)?.[1]);
  const rss = field("VmRSS");
  return Number.isFinite(rss) ? { rss, anon: field("RssAnon"), file: field("RssFile") } : undefined;
}

export interface RssSample {
  readonly atMs: number;
  readonly kib: number;
  readonly anonKib: number;
  readonly fileKib: number;
  readonly phase: string;
}

/** Samples VmRSS (and its parts) every `everyMs`, labelled with the phase the test says it is in. */
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
    const memory = memoryKiB(this.#pid);
    if (memory !== undefined) {
      this.samples.push({
        atMs: performance.now(),
        kib: memory.rss,
        anonKib: memory.anon,
        fileKib: memory.file,
        phase: this.phase,
      });
    }
  }

  /** VmRSS of the phase's samples, or one of its parts. */
  of(phase: string, part: "kib" | "anonKib" | "fileKib" = "kib"): number[] {
    return this.samples.filter((s) => s.phase === phase).map((s) => s[part]);
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
