/**
 * The ledger's write path (issue #5 item 1): appends wait in a bounded queue and are written by
 * one synced LevelDB batch per commit interval, or as soon as commitMaxRecords wait, whichever
 * comes first, with at most one batch being written at a time (LevelDB's log then holds batches
 * in chain order, so a crash can cut the chain's tail but never leave a hole in it). An append
 * resolves only after its batch's sync resolved: a resolved append survives a process crash and
 * a power cut alike; a power cut loses only appends that had not resolved.
 *
 * seq, prev and hash are assigned when a batch is built, not at append time: a record shed from
 * the queue never took a seq, so the chain has no holes, and a failed batch gives its seqs back.
 * While one batch is written, the next may be built (hashing overlaps the disk's sync); its
 * records have left the queue and can no longer be shed. Shedding (queue full: the disk cannot
 * keep up or is failing) drops the OLDEST waiting record, rejects its append with
 * LedgerShedError, counts it, and the next batch opens with one `gap` entry saying how many
 * records from which time span were lost — never a silent loss.
 *
 * The acked cursor rides along: the forwarder's latest setAcked is written in the next batch, or,
 * when no append comes within an interval, in a batch of its own without sync.
 */
import type { Clock } from "../clock.js";
import type { Logger } from "../observability/logger.js";
import { invalidFields, ShedTally } from "./appendRules.js";
import {
  type AckWaiter,
  ackWaiter,
  type BatchContents,
  type ChainHead,
  discardBatch,
  type PreparedBatch,
  prepareBatch,
  type Waiting,
  writeBatch,
} from "./commitBatch.js";
import type { LedgerDatabase } from "./ledgerDb.js";
import type { EntryFields, LedgerEntry } from "./ledgerEntry.js";
import { LedgerClosedError } from "./ledgerErrors.js";
import { LedgerShedError } from "./ledgerPorts.js";
import { RecordQueue } from "./recordQueue.js";

export type { ChainHead } from "./commitBatch.js";

export interface GroupCommitOptions {
  readonly commitIntervalMs: number;
  /** Sync early once this many records wait; also the most records one batch takes. */
  readonly commitMaxRecords: number;
  /** Bound of the waiting queue; beyond it the oldest waiting record is shed. */
  readonly bufferRecords: number;
}

export interface GroupCommitDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** After each batch with entries became durable: the new durable seq. */
  readonly onDurable: (durableSeq: number) => void;
}

export interface GroupCommitCounters {
  /** Records appended by callers that became durable (gap entries not included). */
  appended: number;
  /** Synced batches written. */
  commits: number;
  /** Records shed from the full queue. */
  shed: number;
  /** Batches LevelDB refused (the records went back to the queue). */
  commitFailures: number;
}

const RETRY_MAX_MS = 5_000;

export class GroupCommit {
  readonly counters: GroupCommitCounters = { appended: 0, commits: 0, shed: 0, commitFailures: 0 };
  readonly #options: GroupCommitOptions;
  readonly #deps: GroupCommitDeps;
  readonly #queue = new RecordQueue<Waiting>();
  /** Entries the ledger itself appends (retention gaps): written first, never shed. */
  #internal: EntryFields[] = [];
  #shed: ShedTally | undefined;
  #db: LedgerDatabase | undefined;
  /** The last entry built (being written, prepared or durable), and the last durable one. */
  #head: ChainHead = { seq: 0, hash: "" };
  #durable: ChainHead = { seq: 0, hash: "" };
  #ackWanted = 0;
  #ackWritten = 0;
  #ackWaiter: AckWaiter | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The interval elapsed: commit what waits as soon as the writer is free. */
  #due = false;
  /** The batch being written, and the next one, built meanwhile. */
  #inFlight: { readonly batch: PreparedBatch; readonly done: Promise<void> } | undefined;
  #prepared: PreparedBatch | undefined;
  /** After a failed batch: wait for the retry timer rather than hammer a failing disk. */
  #waitingToRetry = false;
  #retryDelayMs = 0;
  #closing = false;

  constructor(options: GroupCommitOptions, deps: GroupCommitDeps) {
    this.#options = options;
    this.#deps = deps;
  }

  durableSeq(): number {
    return this.#durable.seq;
  }

  durableHead(): ChainHead {
    return this.#durable;
  }

  /** Records waiting, prepared or being written. */
  pending(): number {
    return (
      this.#queue.length +
      this.#internal.length +
      (this.#inFlight?.batch.entries.length ?? 0) +
      (this.#prepared?.entries.length ?? 0)
    );
  }

  /**
   * Starts writing to `db`, continuing the chain after `head`; appends made before are committed
   * now. Also the way back after a failing database was reopened (the degraded mode of #5 item
   * 3): attach the new handle with durableHead() while no batch is being written.
   */
  attach(db: LedgerDatabase, head: ChainHead, ackedSeq: number): void {
    this.#db = db;
    this.#head = head;
    this.#durable = head;
    this.#ackWanted = Math.max(this.#ackWanted, ackedSeq);
    this.#ackWritten = ackedSeq;
    this.#maybeCommit();
  }

  append(fields: EntryFields): Promise<LedgerEntry> {
    if (this.#closing) {
      return Promise.reject(new LedgerClosedError("the ledger is stopped; append() refused"));
    }
    const invalid = invalidFields(fields);
    if (invalid !== undefined) {
      return Promise.reject(new RangeError(`ledger append refused: ${invalid}`));
    }
    return new Promise<LedgerEntry>((resolve, reject) => {
      this.#enqueue({ fields, resolve, reject });
    });
  }

  /** An entry of the ledger's own (a retention gap): goes out with the next batch, ahead of the queue. */
  appendInternal(fields: EntryFields): void {
    this.#internal.push(fields);
    this.#armTimer();
  }

  /** Records the acked cursor (already clamped and forward-only); resolves once it is written. */
  setAcked(seq: number): Promise<void> {
    this.#ackWanted = seq;
    if (this.#db === undefined && this.#closing) {
      return Promise.resolve(); // stopped: losing a cursor update only causes re-sends
    }
    this.#ackWaiter ??= ackWaiter();
    this.#armTimer();
    return this.#ackWaiter.promise;
  }

  /** Stops taking appends, writes what waits in one last synced batch, and detaches from the db. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#clearTimer();
    // A prepared batch follows the one being written (see #onWritten).
    while (this.#inFlight !== undefined) {
      await this.#inFlight.done;
    }
    if (this.#db !== undefined && this.#hasWork()) {
      await this.#write(this.#prepare(this.#db, Number.POSITIVE_INFINITY));
    }
    this.#clearTimer();
    this.#db = undefined;
    const error = new LedgerClosedError("the ledger stopped before this record was written");
    for (const waiting of this.#queue.takeAll()) {
      waiting.reject(error);
    }
    this.#ackWaiter?.resolve();
    this.#ackWaiter = undefined;
  }

  #enqueue(waiting: Waiting): void {
    if (this.#queue.length >= this.#options.bufferRecords) {
      this.#shedOldest();
    }
    this.#queue.push(waiting);
    this.#armTimer();
    // Exactly at the mark: above it a batch is being written and prepared, and their ends commit.
    if (this.#queue.length === this.#options.commitMaxRecords) {
      this.#maybeCommit();
    }
  }

  #shedOldest(): void {
    const oldest = this.#queue.shift();
    if (oldest === undefined) {
      return;
    }
    this.#shed ??= new ShedTally();
    this.#shed.add(oldest.fields.ts);
    this.counters.shed++;
    oldest.reject(
      new LedgerShedError(
        `ledger buffer full (${this.#options.bufferRecords} records waiting): the oldest record was shed and is recorded as a gap`,
      ),
    );
  }

  #hasWork(): boolean {
    return (
      this.#queue.length > 0 ||
      this.#internal.length > 0 ||
      this.#shed !== undefined ||
      this.#ackWanted > this.#ackWritten
    );
  }

  #armTimer(): void {
    if (this.#timer === undefined && !this.#due && !this.#closing) {
      this.#timer = setTimeout(() => this.#onTimer(), this.#options.commitIntervalMs);
    }
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#due = true;
    this.#waitingToRetry = false;
    this.#maybeCommit();
  }

  /** Writes (or, while a batch is being written, prepares) the next batch if one is due. */
  #maybeCommit(): void {
    const db = this.#db;
    if (db === undefined || this.#closing || this.#waitingToRetry) {
      return;
    }
    const full = this.#queue.length + this.#internal.length >= this.#options.commitMaxRecords;
    if (full || (this.#due && this.#hasWork())) {
      if (this.#inFlight === undefined) {
        this.#due = false;
        void this.#write(this.#prepared ?? this.#prepare(db, this.#options.commitMaxRecords));
        this.#prepared = undefined;
      } else if (this.#prepared === undefined) {
        this.#prepared = this.#prepare(db, this.#options.commitMaxRecords);
      }
    }
    if (this.#hasWork()) {
      this.#armTimer();
    } else {
      this.#due = false;
    }
  }

  /**
   * Takes up to `limit` records (and the gap and cursor that go with them) and builds their
   * batch. The bound keeps each build short for the event loop (~5 ms per 1,000 records).
   */
  #prepare(db: LedgerDatabase, limit: number): PreparedBatch {
    const contents: BatchContents = {
      shed: this.#shed,
      internal: this.#internal,
      owners: limit === Number.POSITIVE_INFINITY ? this.#queue.takeAll() : this.#queue.take(limit),
      ackSeq: this.#ackWanted > this.#ackWritten ? this.#ackWanted : undefined,
      ackWaiter: this.#ackWaiter,
    };
    this.#shed = undefined;
    this.#internal = [];
    this.#ackWaiter = undefined;
    const prepared = prepareBatch(db, this.#head, contents, this.#deps.clock);
    this.#head = prepared.after;
    return prepared;
  }

  /** Starts writing the batch; the promise settles after its continuation ran, and never rejects. */
  #write(batch: PreparedBatch): Promise<void> {
    if (batch.entries.length === 0 && batch.contents.ackSeq === undefined) {
      discardBatch(batch);
      batch.contents.ackWaiter?.resolve();
      return Promise.resolve();
    }
    const done = writeBatch(batch, this.#closing).then(
      () => this.#onWritten(batch),
      (error: unknown) => this.#onFailed(batch, error),
    );
    this.#inFlight = { batch, done };
    return done;
  }

  #onWritten(batch: PreparedBatch): void {
    this.#inFlight = undefined;
    this.#retryDelayMs = 0;
    this.#durable = batch.after;
    const { owners, ackSeq, ackWaiter } = batch.contents;
    if (ackSeq !== undefined) {
      this.#ackWritten = Math.max(this.#ackWritten, ackSeq);
    }
    ackWaiter?.resolve();
    if (batch.entries.length > 0) {
      this.counters.commits++;
      this.counters.appended += owners.length;
      const offset = batch.entries.length - owners.length;
      for (let i = 0; i < owners.length; i++) {
        (owners[i] as Waiting).resolve(batch.entries[offset + i] as LedgerEntry);
      }
      this.#deps.onDurable(batch.after.seq);
    }
    // The prepared batch is written next even at stop: its records have left the queue.
    const next = this.#prepared;
    this.#prepared = undefined;
    if (next !== undefined) {
      void this.#write(next);
    }
    this.#maybeCommit();
  }

  #onFailed(batch: PreparedBatch, error: unknown): void {
    this.#inFlight = undefined;
    const reason = error instanceof Error ? error : new Error(String(error));
    this.counters.commitFailures++;
    // The prepared batch chains on the failed one: it goes back too, after it.
    const failed = [batch, ...(this.#prepared === undefined ? [] : [this.#prepared])];
    if (this.#prepared !== undefined) {
      discardBatch(this.#prepared);
      this.#prepared = undefined;
    }
    this.#head = batch.before;
    if (this.#closing) {
      // The last batch at stop: nothing will retry it, so its appends learn the truth now.
      for (const { contents } of failed) {
        for (const waiting of contents.owners) {
          waiting.reject(reason);
        }
        contents.ackWaiter?.resolve();
      }
      this.#deps.logger.error({ err: reason }, "ledger: the last batch at stop failed; its records are lost");
      return;
    }
    // Give everything back, oldest first, and retry after a backoff. The disk-full and
    // sticky-write-error recovery (reopen, degraded events) builds on this (issue #5 item 3).
    for (const { contents } of failed.reverse()) {
      this.#giveBack(contents);
    }
    while (this.#queue.length > this.#options.bufferRecords) {
      this.#shedOldest();
    }
    const delay = Math.min(Math.max(this.#retryDelayMs * 2, this.#options.commitIntervalMs), RETRY_MAX_MS);
    this.#retryDelayMs = delay;
    this.#waitingToRetry = true;
    this.#deps.logger.error(
      { err: reason, waiting: this.#queue.length, retryInMs: delay },
      "ledger: a group commit failed; its records wait in memory and the batch is retried",
    );
    this.#clearTimer();
    this.#due = false;
    this.#timer = setTimeout(() => this.#onTimer(), delay);
  }

  /** Puts a batch's contents back in front of what waits (called newest batch first). */
  #giveBack(contents: BatchContents): void {
    if (contents.shed !== undefined) {
      if (this.#shed !== undefined) {
        contents.shed.merge(this.#shed);
      }
      this.#shed = contents.shed;
    }
    this.#internal = [...contents.internal, ...this.#internal];
    this.#queue.unshiftAll(contents.owners);
    if (contents.ackWaiter !== undefined) {
      // The cursor is still ahead of what is written, so the next batch carries it: wait for that.
      const later = this.#ackWaiter;
      this.#ackWaiter = contents.ackWaiter;
      if (later !== undefined) {
        void contents.ackWaiter.promise.then(later.resolve);
      }
    }
  }
}
