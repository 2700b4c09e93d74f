/**
 * The ledger's write path (issue #5 item 1): appends wait in a bounded queue and are written by
 * one synced LevelDB batch per commit interval (paced by commitTimer.ts: at most one per
 * interval, at once after a quiet one), or as soon as commitMaxRecords wait, whichever comes
 * first, with at most one batch being written at a time (LevelDB's log then holds batches
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
 *
 * A failed batch detaches the database (issue #5 item 3): that handle is never written again,
 * because LevelDB keeps accepting writes after a torn log record and then drops every one of
 * them at the next open (classic-level 3 on a full tmpfs: a failed .log write is not sticky, yet
 * later synced writes were gone after reopen; a failed compaction is sticky). The failed batch
 * is held aside as uncertain — it may or may not be in the log — until the ledger has reopened
 * the database (storageRecovery.ts) and reattach() compares the stored head with it.
 */
import type { Clock } from "../clock.js";
import type { Logger } from "../observability/logger.js";
import { invalidFields, type ShedTally, shed } from "./appendRules.js";
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
import { CommitTimer } from "./commitTimer.js";
import type { LedgerDatabase } from "./ledgerDb.js";
import type { EntryFields, LedgerEntry } from "./ledgerEntry.js";
import { LedgerClosedError } from "./ledgerErrors.js";
import { RecordQueue } from "./recordQueue.js";
import { failBatches, settleUncertain } from "./uncertainBatch.js";

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
  /**
   * A batch failed and the database was detached: the owner reopens it and calls reattach().
   * Appends keep waiting in the bounded queue meanwhile (the degraded mode of #5 item 3).
   */
  readonly onWriteFailed: (error: Error) => void;
}

export interface GroupCommitCounters {
  /** Records appended by callers that became durable (gap entries not included). */
  appended: number;
  /** Synced batches written. */
  commits: number;
  /** Records shed from the full queue. */
  shed: number;
  /** Batches LevelDB refused (the database was detached and reopened). */
  commitFailures: number;
}

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
  readonly #timer: CommitTimer;
  /** The batch being written, and the next one, built meanwhile. */
  #inFlight: { readonly batch: PreparedBatch; readonly done: Promise<void> } | undefined;
  #prepared: PreparedBatch | undefined;
  /** The batch whose write failed: in LevelDB's log or not, reattach() finds out. */
  #uncertain: PreparedBatch | undefined;
  #closing = false;

  constructor(options: GroupCommitOptions, deps: GroupCommitDeps) {
    this.#options = options;
    this.#deps = deps;
    this.#timer = new CommitTimer(options.commitIntervalMs, deps.clock, () => this.#maybeCommit());
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
      (this.#prepared?.entries.length ?? 0) +
      (this.#uncertain?.entries.length ?? 0)
    );
  }

  /** Whether a database is attached (false from a failed batch until reattach()). */
  attached(): boolean {
    return this.#db !== undefined;
  }

  /** Starts writing to `db`, continuing the chain after `head`; appends made before are committed now. */
  attach(db: LedgerDatabase, head: ChainHead, ackedSeq: number): void {
    this.#db = db;
    this.#head = head;
    this.#durable = head;
    this.#ackWanted = Math.max(this.#ackWanted, ackedSeq);
    this.#ackWritten = ackedSeq;
    this.#maybeCommit();
  }

  /**
   * After a failed batch, the reopened database whose stored head is `stored`: the uncertain
   * batch counts as written if the stored head is its last entry (a LevelDB batch is atomic),
   * and goes back in front of the queue otherwise, so that no record is lost and none is stored
   * twice. Returns how the uncertain batch was settled.
   */
  reattach(db: LedgerDatabase, stored: ChainHead, ackedSeq: number): "landed" | "retried" | "none" {
    const uncertain = this.#uncertain;
    this.#uncertain = undefined;
    const outcome = settleUncertain(uncertain, stored, this.#deps.logger);
    if (uncertain !== undefined && outcome === "landed") {
      this.#settleWritten(uncertain);
    } else if (uncertain !== undefined) {
      this.#giveBack(uncertain.contents);
      this.#shedToBound();
    }
    const landedAck = outcome === "landed" ? (uncertain?.contents.ackSeq ?? 0) : 0;
    this.attach(db, stored, Math.max(ackedSeq, landedAck));
    return uncertain === undefined ? "none" : outcome === "landed" ? "landed" : "retried";
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
    this.#timer.clear();
    // A prepared batch follows the one being written (see #onWritten).
    while (this.#inFlight !== undefined) {
      await this.#inFlight.done;
    }
    if (this.#db !== undefined && this.#hasWork()) {
      await this.#write(this.#prepare(this.#db, Number.POSITIVE_INFINITY));
    }
    this.#timer.clear();
    this.#db = undefined;
    const error = new LedgerClosedError("the ledger stopped before this record was written");
    for (const waiting of this.#queue.takeAll()) {
      waiting.reject(error);
    }
    if (this.#uncertain !== undefined) {
      failBatches(
        [this.#uncertain],
        new LedgerClosedError(
          "the ledger stopped while storage was failing: this record may or may not be on disk",
        ),
      );
      this.#uncertain = undefined;
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
    if (oldest !== undefined) {
      this.#shed = shed(oldest, this.#shed, this.#options.bufferRecords);
      this.counters.shed++;
    }
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
    if (!this.#closing) {
      this.#timer.arm(this.#queue.length > 0 || this.#internal.length > 0 || this.#shed !== undefined);
    }
  }

  /** Writes (or, while a batch is being written, prepares) the next batch if one is due. */
  #maybeCommit(): void {
    const db = this.#db;
    if (db === undefined || this.#closing) {
      return;
    }
    const full = this.#queue.length + this.#internal.length >= this.#options.commitMaxRecords;
    if (full || (this.#timer.due && this.#hasWork())) {
      if (this.#inFlight === undefined) {
        this.#timer.due = false;
        void this.#write(this.#prepared ?? this.#prepare(db, this.#options.commitMaxRecords));
        this.#prepared = undefined;
      } else if (this.#prepared === undefined) {
        this.#prepared = this.#prepare(db, this.#options.commitMaxRecords);
      }
    }
    if (this.#hasWork()) {
      this.#armTimer();
    } else {
      this.#timer.due = false;
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
    if (batch.entries.length > 0) {
      this.#timer.syncStarted();
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
    this.#settleWritten(batch);
    // The prepared batch is written next even at stop: its records have left the queue.
    const next = this.#prepared;
    this.#prepared = undefined;
    if (next !== undefined) {
      void this.#write(next);
    }
    this.#maybeCommit();
  }

  /** A batch is durable: its appends resolve, its cursor counts as written. */
  #settleWritten(batch: PreparedBatch): void {
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
  }

  #onFailed(batch: PreparedBatch, error: unknown): void {
    this.#inFlight = undefined;
    const reason = error instanceof Error ? error : new Error(String(error));
    this.counters.commitFailures++;
    // The prepared batch chains on the failed one and was never written: it goes back, in front.
    const prepared = this.#prepared;
    this.#prepared = undefined;
    if (prepared !== undefined) {
      discardBatch(prepared);
    }
    this.#head = batch.before;
    if (this.#closing) {
      // The last batch at stop: nothing will retry it, so its appends learn the truth now.
      failBatches(prepared === undefined ? [batch] : [batch, prepared], reason);
      this.#deps.logger.error({ err: reason }, "ledger: the last batch at stop failed; its records are lost");
      return;
    }
    // Detach: this handle is never written again (see the header). The failed batch waits aside,
    // not in the queue, so that shedding never drops a record that may already be on disk.
    this.#db = undefined;
    this.#uncertain = batch;
    if (prepared !== undefined) {
      this.#giveBack(prepared.contents);
    }
    this.#shedToBound();
    this.#timer.clear();
    this.#timer.due = false;
    this.#deps.onWriteFailed(reason);
  }

  #shedToBound(): void {
    while (this.#queue.length > this.#options.bufferRecords) {
      this.#shedOldest();
    }
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
