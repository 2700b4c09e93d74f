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
 */
import type { Clock } from "../clock.js";
import type { Component } from "../daemon/component.js";
import type { Logger } from "../observability/logger.js";
import { GroupCommit } from "./groupCommit.js";
import { type LedgerDatabase, openLedgerDb, readEntries, readStoredState } from "./ledgerDb.js";
import type { EntryFields, LedgerEntry } from "./ledgerEntry.js";
import { LedgerClosedError } from "./ledgerErrors.js";
import type { LedgerAppender, LedgerReader } from "./ledgerPorts.js";
import { type LedgerStats, storedStats } from "./ledgerStats.js";
import { Retention } from "./retention.js";

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
}

export interface LedgerDeps {
  readonly clock: Clock;
  readonly logger: Logger;
}

const DEFAULT_RETENTION_CHECK_MS = 60_000;

export class Ledger implements Component, LedgerAppender, LedgerReader {
  readonly name = "ledger";
  readonly #options: LedgerOptions;
  readonly #logger: Logger;
  readonly #commit: GroupCommit;
  readonly #retention: Retention;
  readonly #listeners = new Set<(durableSeq: number) => void>();
  #db: LedgerDatabase | undefined;
  #firstSeq = 1;
  #ackedSeq = 0;

  constructor(options: LedgerOptions, deps: LedgerDeps) {
    this.#options = options;
    this.#logger = deps.logger;
    this.#commit = new GroupCommit(
      {
        commitIntervalMs: options.commitIntervalMs,
        commitMaxRecords: options.commitMaxRecords,
        bufferRecords: options.degradedBufferRecords,
      },
      { clock: deps.clock, logger: deps.logger, onDurable: (seq) => this.#notifyDurable(seq) },
    );
    this.#retention = new Retention(
      {
        maxBytes: options.retention.maxBytes,
        maxAgeMs: options.retention.maxAgeMs,
        checkIntervalMs: options.retention.checkIntervalMs ?? DEFAULT_RETENTION_CHECK_MS,
      },
      {
        db: () => this.#db,
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

  /** Opens the database, recovers the chain head and the acked cursor, starts retention. */
  async start(signal: AbortSignal): Promise<void> {
    this.#db = await openLedgerDb(this.#options.dir, {
      createIfMissing: true,
      lockWaitMs: this.#options.lockWaitMs ?? 0,
      signal,
    });
    signal.throwIfAborted();
    const state = await readStoredState(this.#db);
    signal.throwIfAborted();
    this.#firstSeq = state.firstSeq;
    this.#ackedSeq = state.ackedSeq;
    this.#commit.attach(this.#db, { seq: state.headSeq, hash: state.headHash }, state.ackedSeq);
    this.#retention.start();
    this.#logger.info(
      { dir: this.#options.dir, firstSeq: state.firstSeq, headSeq: state.headSeq, ackedSeq: state.ackedSeq },
      "ledger open",
    );
  }

  /** Stops retention, writes what is pending in one last synced batch, closes the database. */
  async stop(): Promise<void> {
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

  ackedSeq(): number {
    return this.#ackedSeq;
  }

  read(fromSeq: number, maxRecords: number): Promise<LedgerEntry[]> {
    if (this.#db === undefined) {
      return Promise.reject(new LedgerClosedError("the ledger is not open; read() refused"));
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
