/**
 * The ledger (issue #5 items 1, 2 and the retention of 3): the append-only, hash-chained log in
 * LevelDB that is also the gateway's durable outbox. Appenders (sources, analytics, the daemon's
 * events) append; the uplink's forwarder reads from its acked cursor and moves it forward;
 * retention trims the front.
 *
 * This class wires the parts and owns the in-memory positions (first seq, acked cursor):
 *   ledgerDb.ts      open (clear LOCK errors), head and cursor recovery, range reads
 *   groupCommit.ts   the write path: bounded queue, one synced batch per interval, shed -> gap
 *   commitBatch.ts   building (seq, prev, hash) and writing one batch
 *   appendRules.ts   what an append must satisfy; the shed tally behind a gap entry
 *   retention.ts     byte budget and maximum age, gap entries for unacked loss
 *   ledgerStats.ts   figures for metrics and `ledger stats`
 *   openLedgerStorage.ts  open, or move a corrupt database aside and start a new segment
 *   degradedMode.ts  a failing disk: health, events, reopening with backoff (#5 item 3)
 */
import type { Clock } from "../clock.js";
import type { Component } from "../daemon/component.js";
import type { Logger } from "../observability/logger.js";
import type { EventSink } from "../records.js";
import { DegradedMode, type LedgerHealth } from "./degradedMode.js";
import { GroupCommit } from "./groupCommit.js";
import { type LedgerDatabase, readEntries } from "./ledgerDb.js";
import type { EntryFields, LedgerEntry } from "./ledgerEntry.js";
import { LedgerClosedError, LedgerLockedError } from "./ledgerErrors.js";
import type { LedgerAppender, LedgerReader } from "./ledgerPorts.js";
import { type LedgerStats, storedStats } from "./ledgerStats.js";
import { type OpenedLedger, openLedgerStorage, storageFailureReason } from "./openLedgerStorage.js";
import { Retention } from "./retention.js";

export type { LedgerHealth } from "./degradedMode.js";

export interface LedgerOptions {
  /** The LevelDB directory (storage.dir). */
  readonly dir: string;
  /** Group commit: a waiting record is synced within this (storage.commitInterval). */
  readonly commitIntervalMs: number;
  /** Group commit: sync at once when this many records wait (storage.commitMaxRecords). */
  readonly commitMaxRecords: number;
  /** Bound of the records waiting in memory; beyond it the oldest is shed (storage.degradedBufferRecords). */
  readonly degradedBufferRecords: number;
  readonly retention: {
    readonly maxBytes: number;
    readonly maxAgeMs: number;
    /** How often retention runs; default 60 s. */
    readonly checkIntervalMs?: number;
  };
  /**
   * How long start() keeps retrying while LevelDB's LOCK is held by an instance still stopping
   * (FAULTS 8.2 LEVEL_LOCKED), bounded by the start signal too. Default 0: fail at once.
   */
  readonly lockWaitMs?: number;
  /**
   * The degraded mode's reopen attempts (#5 item 3): backoff from firstDelayMs doubling to
   * maxDelayMs (default 1 s to 30 s), tried only while the file system has minFreeBytes free
   * (default 8 MiB: LevelDB's reopen writes its memtable, up to 4 MiB, as a table).
   */
  readonly recovery?: {
    readonly firstDelayMs?: number;
    readonly maxDelayMs?: number;
    readonly minFreeBytes?: number;
  };
  /** Read the unacked entries at start to find damaged tables (default true); see openLedgerStorage.ts. */
  readonly checkAtStart?: boolean;
}

export interface LedgerDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Where "storage.degraded" and "storage.recovered" go (the daemon's events, which land in this ledger too). */
  readonly events?: EventSink;
}

const DEFAULT_RETENTION_CHECK_MS = 60_000;
const DEFAULT_RECOVERY = { firstDelayMs: 1_000, maxDelayMs: 30_000, minFreeBytes: 8 * 1024 * 1024 };

export class Ledger implements Component, LedgerAppender, LedgerReader {
  readonly name = "ledger";
  readonly #options: LedgerOptions;
  readonly #logger: Logger;
  readonly #commit: GroupCommit;
  readonly #retention: Retention;
  readonly #degraded: DegradedMode;
  readonly #deps: LedgerDeps;
  readonly #listeners = new Set<(durableSeq: number) => void>();
  #db: LedgerDatabase | undefined;
  #firstSeq = 1;
  #ackedSeq = 0;

  constructor(options: LedgerOptions, deps: LedgerDeps) {
    this.#options = options;
    this.#deps = deps;
    this.#logger = deps.logger;
    this.#commit = new GroupCommit(
      {
        commitIntervalMs: options.commitIntervalMs,
        commitMaxRecords: options.commitMaxRecords,
        bufferRecords: options.degradedBufferRecords,
      },
      {
        clock: deps.clock,
        logger: deps.logger,
        onDurable: (seq) => this.#notifyDurable(seq),
        onWriteFailed: (error) => this.#degraded.enter(storageFailureReason(error)),
      },
    );
    this.#degraded = new DegradedMode(
      {
        dir: options.dir,
        bufferRecords: options.degradedBufferRecords,
        ...DEFAULT_RECOVERY,
        ...options.recovery,
      },
      {
        clock: deps.clock,
        logger: deps.logger,
        events: deps.events,
        figures: () => ({ buffered: this.#commit.pending(), shed: this.#commit.counters.shed }),
        reopen: (signal) => this.#reopen(signal),
      },
    );
    this.#retention = new Retention(
      {
        maxBytes: options.retention.maxBytes,
        maxAgeMs: options.retention.maxAgeMs,
        checkIntervalMs: options.retention.checkIntervalMs ?? DEFAULT_RETENTION_CHECK_MS,
      },
      {
        // Not on a handle whose write failed: retention deletes are writes too.
        db: () => (this.#commit.attached() ? this.#db : undefined),
        firstSeq: () => this.firstSeq(),
        setFirstSeq: (seq) => {
          this.#firstSeq = seq;
        },
        durableSeq: () => this.durableSeq(),
        ackedSeq: () => this.#ackedSeq,
        appendInternal: (fields) => this.#commit.appendInternal(fields),
      },
      deps,
    );
  }

  /**
   * Opens the database (moving a corrupt one aside and starting a new segment), recovers the
   * chain head and the acked cursor, starts retention. A disk that cannot be opened now (read-only,
   * full) does not fail the start: the ledger starts degraded, buffers, and keeps trying (#5 item
   * 3). A held LOCK still fails it (LedgerLockedError).
   */
  async start(signal: AbortSignal): Promise<void> {
    try {
      const opened = await openLedgerStorage(
        this.#options.dir,
        {
          lockWaitMs: this.#options.lockWaitMs ?? 0,
          signal,
          startCheck: this.#options.checkAtStart ?? true,
        },
        this.#deps,
      );
      if (signal.aborted) {
        await opened.db.close();
        signal.throwIfAborted();
      }
      this.#use(opened);
    } catch (error) {
      if (error instanceof LedgerLockedError || signal.aborted) {
        throw error;
      }
      this.#logger.error({ err: error, dir: this.#options.dir }, "ledger: storage cannot be opened at start");
      this.#degraded.enter(storageFailureReason(error));
    }
    this.#retention.start();
  }

  /** Health for the daemon's status: "degraded" while appends cannot reach the disk. */
  health(): LedgerHealth {
    return this.#degraded.health();
  }

  #use(opened: OpenedLedger): void {
    const { db, state } = opened;
    this.#db = db;
    this.#firstSeq = state.firstSeq;
    this.#ackedSeq = Math.min(Math.max(this.#ackedSeq, state.ackedSeq), state.headSeq);
    const settled = this.#commit.reattach(db, { seq: state.headSeq, hash: state.headHash }, state.ackedSeq);
    this.#logger.info(
      {
        dir: this.#options.dir,
        firstSeq: state.firstSeq,
        headSeq: state.headSeq,
        ackedSeq: state.ackedSeq,
        ...(settled === "none" ? {} : { failedBatch: settled }),
        ...(opened.recovery === undefined ? {} : { recoveredFrom: opened.recovery.movedTo }),
      },
      "ledger open",
    );
  }

  /** The degraded mode's reopen: the failed handle is closed first (LevelDB's LOCK is per process too). */
  async #reopen(signal: AbortSignal): Promise<void> {
    const old = this.#db;
    this.#db = undefined;
    if (old !== undefined && old.status === "open") {
      await old.close().catch((error: unknown) => {
        this.#logger.debug({ err: error }, "ledger: closing the failed database handle failed");
      });
    }
    const opened = await openLedgerStorage(
      this.#options.dir,
      { lockWaitMs: 0, signal, startCheck: false },
      this.#deps,
    );
    if (signal.aborted) {
      await opened.db.close();
      signal.throwIfAborted();
    }
    this.#use(opened);
  }

  /** Stops retention, writes what is pending in one last synced batch, closes the database. */
  async stop(): Promise<void> {
    await this.#degraded.stop();
    await this.#retention.stop();
    await this.#commit.close();
    const db = this.#db;
    this.#db = undefined;
    if (db !== undefined && db.status !== "closed") {
      await db.close();
    }
  }

  /**
   * Appends one record; resolves with its entry once its group commit is synced. Rejects at once
   * for fields that cannot become an entry (RangeError) and after stop() (LedgerClosedError);
   * later with LedgerShedError if the bounded queue had to shed it (a gap entry records it).
   */
  append(fields: EntryFields): Promise<LedgerEntry> {
    return this.#commit.append(fields);
  }

  durableSeq(): number {
    return this.#commit.durableSeq();
  }

  firstSeq(): number {
    return this.#firstSeq;
  }

  pendingRecords(): number {
    return this.#commit.pending();
  }

  ackedSeq(): number {
    return this.#ackedSeq;
  }

  read(fromSeq: number, maxRecords: number): Promise<LedgerEntry[]> {
    if (this.#db === undefined) {
      // Also for a moment while the degraded mode reopens the database: the forwarder retries.
      return Promise.reject(new LedgerClosedError("the ledger database is not open; read() refused"));
    }
    return readEntries(this.#db, Math.max(fromSeq, this.#firstSeq), this.durableSeq(), maxRecords);
  }

  /**
   * Moves the acked cursor forward, clamped to durableSeq(); a smaller seq is ignored. The cursor
   * is written with the next group commit or within a commit interval; the promise resolves then.
   */
  setAcked(seq: number): Promise<void> {
    const next = Math.min(Math.floor(seq), this.durableSeq());
    if (!(next > this.#ackedSeq)) {
      return Promise.resolve();
    }
    this.#ackedSeq = next;
    return this.#commit.setAcked(next);
  }

  onDurable(listener: (durableSeq: number) => void): () => void {
    // A wrapper per subscription, so the same function subscribed twice unsubscribes separately.
    const subscription = (seq: number) => listener(seq);
    this.#listeners.add(subscription);
    return () => {
      this.#listeners.delete(subscription);
    };
  }

  /** One retention pass now (after any pass still running); for the CLI and tests. */
  enforceRetention(): Promise<void> {
    return this.#retention.runNow();
  }

  async stats(): Promise<LedgerStats> {
    if (this.#db === undefined) {
      throw new LedgerClosedError("the ledger is not open; stats() refused");
    }
    const head = this.#commit.durableHead();
    const stored = await storedStats(this.#db, {
      firstSeq: this.#firstSeq,
      lastSeq: head.seq,
      headHash: head.hash,
      ackedSeq: this.#ackedSeq,
    });
    return {
      ...stored,
      ...this.#commit.counters,
      retentionDeleted: this.#retention.counters.deleted,
      retentionLostUnacked: this.#retention.counters.lostUnacked,
      pending: this.#commit.pending(),
    };
  }

  #notifyDurable(seq: number): void {
    for (const listener of this.#listeners) {
      try {
        listener(seq);
      } catch (error) {
        this.#logger.error({ err: error }, "ledger: an onDurable listener threw");
      }
    }
  }
}
