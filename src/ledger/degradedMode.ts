/**
 * The ledger's degraded mode (issue #5 item 3; FAULTS 8.2 disk full, read-only remount): when
 * LevelDB fails a write, or the database cannot be opened at start, new records wait in the
 * group commit's bounded queue (storage.degradedBufferRecords; the oldest are shed and counted
 * and a gap entry says so once storage is back), health is raised, one warning is logged and one
 * "storage.degraded" event emitted per episode (not per record), and the database is reopened
 * with backoff — 1 s doubling to 30 s — once the file system has room again (statfs). After the
 * reopen, "storage.recovered" carries the counts.
 */
import { statfs } from "node:fs/promises";
import { dirname } from "node:path";
import type { Clock } from "../clock.js";
import { sleep } from "../daemon/component.js";
import type { Logger } from "../observability/logger.js";
import type { EventSink } from "../records.js";

/** What the daemon shows (status, metrics): whether appends are reaching the disk. */
export interface LedgerHealth {
  readonly state: "ok" | "degraded";
  /** Wall-clock ms when the current degraded episode began; null when ok. */
  readonly since: number | null;
  /** LevelDB's or the file system's error; null when ok. */
  readonly reason: string | null;
  /** Records waiting in memory for the disk. */
  readonly buffered: number;
  /** Records shed from the full buffer in the current (or, when ok, the last) episode. */
  readonly shed: number;
}

export interface DegradedModeOptions {
  readonly dir: string;
  readonly bufferRecords: number;
  /** Backoff of the reopen attempts: first delay, doubled after each failure up to maxDelayMs. */
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
  /** No reopen is tried while the file system has less free space than this (LevelDB's reopen writes a table). */
  readonly minFreeBytes: number;
}

export interface DegradedModeDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly events: EventSink | undefined;
  /** Records waiting and records shed so far (the group commit's figures). */
  readonly figures: () => { readonly buffered: number; readonly shed: number };
  /** Closes whatever handle is left and opens the database again; throws if it cannot yet. */
  readonly reopen: (signal: AbortSignal) => Promise<void>;
}

interface Episode {
  readonly since: number;
  readonly sinceMonotonic: number;
  readonly reason: string;
  readonly shedBefore: number;
  attempts: number;
}

export class DegradedMode {
  readonly #options: DegradedModeOptions;
  readonly #deps: DegradedModeDeps;
  #episode: Episode | undefined;
  #lastShed = 0;
  #abort = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(options: DegradedModeOptions, deps: DegradedModeDeps) {
    this.#options = options;
    this.#deps = deps;
  }

  get degraded(): boolean {
    return this.#episode !== undefined;
  }

  health(): LedgerHealth {
    const episode = this.#episode;
    const figures = this.#deps.figures();
    return {
      state: episode === undefined ? "ok" : "degraded",
      since: episode?.since ?? null,
      reason: episode?.reason ?? null,
      buffered: figures.buffered,
      shed: episode === undefined ? this.#lastShed : figures.shed - episode.shedBefore,
    };
  }

  /** Storage failed: raise health, warn once, and start reopening in the background. */
  enter(reason: string): void {
    if (this.#episode !== undefined || this.#abort.signal.aborted) {
      return;
    }
    const { clock, logger, events } = this.#deps;
    this.#episode = {
      since: clock.wallNow(),
      sinceMonotonic: clock.monotonicNow(),
      reason,
      shedBefore: this.#deps.figures().shed,
      attempts: 0,
    };
    const details = { dir: this.#options.dir, reason, bufferRecords: this.#options.bufferRecords };
    logger.warn(
      details,
      "ledger storage failed: degraded, holding new records in memory until the database reopens",
    );
    events?.emit({
      type: "storage.degraded",
      severity: "error",
      message: `ledger storage failed (${reason}); up to ${this.#options.bufferRecords} records are held in memory until it recovers`,
      details,
    });
    this.#loop = this.#reopenLoop(this.#abort.signal).catch((error: unknown) => {
      if (!this.#abort.signal.aborted) {
        logger.error({ err: error }, "ledger: the storage recovery loop ended unexpectedly");
      }
    });
  }

  /** Stops reopening (at stop()); a reopen in progress finishes first. */
  async stop(): Promise<void> {
    this.#abort.abort(new Error("ledger stopping"));
    await this.#loop;
  }

  async #reopenLoop(signal: AbortSignal): Promise<void> {
    let delay = this.#options.firstDelayMs;
    for (;;) {
      await sleep(delay, signal);
      delay = Math.min(delay * 2, this.#options.maxDelayMs);
      const free = await freeBytes(this.#options.dir);
      if (free !== undefined && free < this.#options.minFreeBytes) {
        this.#deps.logger.debug(
          { free, needed: this.#options.minFreeBytes },
          "ledger: still too little disk space to reopen",
        );
        continue;
      }
      const episode = this.#episode;
      if (episode === undefined) {
        return;
      }
      episode.attempts++;
      try {
        await this.#deps.reopen(signal);
      } catch (error) {
        if (signal.aborted) {
          return;
        }
        this.#deps.logger.debug(
          { err: error, attempt: episode.attempts, retryInMs: delay },
          "ledger: reopening failed",
        );
        continue;
      }
      this.#leave(episode);
      return;
    }
  }

  #leave(episode: Episode): void {
    const figures = this.#deps.figures();
    const shed = figures.shed - episode.shedBefore;
    this.#lastShed = shed;
    this.#episode = undefined;
    const details = {
      dir: this.#options.dir,
      reason: episode.reason,
      since: new Date(episode.since).toISOString(),
      degradedMs: Math.round(this.#deps.clock.monotonicNow() - episode.sinceMonotonic),
      attempts: episode.attempts,
      buffered: figures.buffered,
      shed,
    };
    this.#deps.logger.warn(details, "ledger storage recovered: the records held in memory are being written");
    this.#deps.events?.emit({
      type: "storage.recovered",
      severity: shed > 0 ? "warning" : "info",
      message: `ledger storage recovered after ${details.degradedMs} ms: ${figures.buffered} records held in memory are written${shed > 0 ? `, ${shed} were shed (a gap entry records them)` : ""}`,
      details,
    });
  }
}

/** Free bytes for an unprivileged writer on the ledger's file system, or undefined if unknown. */
async function freeBytes(dir: string): Promise<number | undefined> {
  for (const path of [dir, dirname(dir)]) {
    try {
      const stats = await statfs(path);
      return stats.bavail * stats.bsize;
    } catch {
      // The directory may be gone (moved aside) or not yet created: try its parent.
    }
  }
  return undefined;
}
