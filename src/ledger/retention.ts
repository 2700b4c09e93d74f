/**
 * Retention (issue #5 item 3): a byte budget and a maximum age, enforced from the front of the
 * log, off the append path (a pass after start, then one every checkIntervalMs). Acked entries
 * sit at the front, so they go first; if unacked ones must go too, a `gap` entry naming the lost
 * seq range is appended (and so published) and a warning logged — never a silent loss. The head
 * entry is never deleted: the chain must keep its last hash for the next append.
 *
 * Deletes run in chunks of CHUNK keys; compactRange over the deleted range follows so that
 * LevelDB drops the tombstones and approximateSize (what the byte budget is judged by) goes down
 * (FAULTS 8.2 "queue never truncated": Telegraf #16696).
 */
import type { Clock } from "../clock.js";
import type { Logger } from "../observability/logger.js";
import { approximateEntryBytes, type LedgerDatabase, readEntries } from "./ledgerDb.js";
import { type EntryFields, NO_DEVICE } from "./ledgerEntry.js";
import { entryKey } from "./ledgerLayout.js";

export interface RetentionOptions {
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  readonly checkIntervalMs: number;
}

/** What retention sees of the ledger. */
export interface RetentionTarget {
  db(): LedgerDatabase | undefined;
  firstSeq(): number;
  /** Moves the front (readers start there); called before the keys below it are deleted. */
  setFirstSeq(seq: number): void;
  durableSeq(): number;
  ackedSeq(): number;
  /** Appends an entry of the ledger's own with the next group commit (never shed). */
  appendInternal(fields: EntryFields): void;
}

type Rule = "maxAge" | "maxBytes";

/** The unacked range a pass deleted (fromSeq 0: none). */
interface Loss {
  fromSeq: number;
  toSeq: number;
  readonly rules: Set<Rule>;
}

export interface RetentionCounters {
  /** Entries deleted. */
  deleted: number;
  /** Of those, entries that had not been acked: each range is recorded by a gap entry. */
  lostUnacked: number;
}

/** Keys per delete call. */
const CHUNK = 5_000;
/** The byte budget is brought down to this share of maxBytes, so that passes do not trim a sliver each time. */
const LOW_WATER = 0.9;
/** Rounds of delete-compact-measure per pass (the estimate from the average entry size converges fast). */
const MAX_BYTE_ROUNDS = 8;
/** Entries the age check reads per pass at most; it resumes where it stopped (ageFrontier). */
const AGE_SCAN_LIMIT = 50_000;
const AGE_SCAN_WINDOW = 1_000;

export class Retention {
  readonly counters: RetentionCounters = { deleted: 0, lostUnacked: 0 };
  readonly #options: RetentionOptions;
  readonly #target: RetentionTarget;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #abort = new AbortController();
  /** Entries below this seq were read by an earlier age check and hold no young synced entry. */
  #ageFrontier = 0;
  #lastCutoff = Number.NEGATIVE_INFINITY;

  constructor(options: RetentionOptions, target: RetentionTarget, deps: { clock: Clock; logger: Logger }) {
    this.#options = options;
    this.#target = target;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
  }

  /** Runs a pass now and then every checkIntervalMs, each pass after the previous one ended. */
  start(): void {
    this.#abort = new AbortController();
    const loop = () => {
      this.#timer = undefined;
      void this.runNow().finally(() => {
        if (!this.#abort.signal.aborted) {
          this.#timer = setTimeout(loop, this.#options.checkIntervalMs);
        }
      });
    };
    loop();
  }

  /** One pass, after any pass still running. Failures are logged, not thrown: the next pass retries. */
  runNow(): Promise<void> {
    const signal = this.#abort.signal;
    this.#running = this.#running.then(async () => {
      try {
        await this.#pass(signal);
      } catch (error) {
        if (!signal.aborted) {
          this.#logger.error({ err: error }, "ledger retention pass failed; retrying at the next check");
        }
      }
    });
    return this.#running;
  }

  /** Stops the schedule and waits for a running pass to reach a chunk boundary. */
  async stop(): Promise<void> {
    this.#abort.abort(new Error("ledger stopping"));
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    await this.#running;
  }

  async #pass(signal: AbortSignal): Promise<void> {
    const db = this.#target.db();
    if (db === undefined || signal.aborted) {
      return;
    }
    const loss: Loss = { fromSeq: 0, toSeq: 0, rules: new Set() };
    try {
      try {
        const agedThrough = await this.#agedThrough(db, signal);
        if (agedThrough >= this.#target.firstSeq()) {
          await this.#deleteThrough(db, agedThrough, "maxAge", signal, loss);
        }
      } catch (error) {
        // The age check reads entries (a corrupt one throws); the byte budget reads none and
        // must still hold, or the disk fills up.
        if (signal.aborted) {
          throw error;
        }
        this.#logger.error(
          { err: error },
          "ledger retention: the age check failed; the byte budget still applies",
        );
      }
      let bytes = await approximateEntryBytes(db);
      for (let round = 0; round < MAX_BYTE_ROUNDS && bytes > this.#options.maxBytes; round++) {
        const first = this.#target.firstSeq();
        const stored = this.#target.durableSeq() - first + 1;
        if (stored <= 1 || signal.aborted) {
          return;
        }
        const excess = bytes - this.#options.maxBytes * LOW_WATER;
        const count = Math.max(1, Math.ceil(excess / (bytes / stored)));
        if ((await this.#deleteThrough(db, first + count - 1, "maxBytes", signal, loss)) === 0) {
          return;
        }
        bytes = await approximateEntryBytes(db);
      }
    } finally {
      this.#recordLoss(loss);
    }
  }

  /** One gap entry per pass: its deletes run from the front, so what it lost is one range. */
  #recordLoss(loss: Loss): void {
    if (loss.fromSeq === 0) {
      return;
    }
    const records = loss.toSeq - loss.fromSeq + 1;
    this.counters.lostUnacked += records;
    this.#target.appendInternal({
      ts: this.#clock.wallNow(),
      clockSynced: this.#clock.wallSynced(),
      kind: "gap",
      device: NO_DEVICE,
      body: `{"reason":"retention","fromSeq":"${loss.fromSeq}","toSeq":"${loss.toSeq}","records":${records}}`,
    });
    this.#logger.warn(
      { fromSeq: loss.fromSeq, toSeq: loss.toSeq, records, rules: [...loss.rules] },
      "ledger retention deleted records that were never acknowledged upstream; a gap entry records the range",
    );
  }

  /**
   * The highest seq that is older than maxAge, or 0. Age is judged only by entries whose
   * clockSynced is true (FAULTS 8.5): a Pi without RTC boots with a wall clock from
   * fake-hwclock or 1970 and steps it at NTP sync, so an unsynced ts may look decades old (and
   * delete unacked data) or lie in the future (and keep data forever). Seq order is append
   * order, so an unsynced entry before an old synced one is older still and goes with it. For
   * the same reason no pass judges age while the gateway's own clock is unsynced.
   */
  async #agedThrough(db: LedgerDatabase, signal: AbortSignal): Promise<number> {
    if (!this.#clock.wallSynced()) {
      return 0;
    }
    const cutoff = this.#clock.wallNow() - this.#options.maxAgeMs;
    if (cutoff < this.#lastCutoff) {
      this.#ageFrontier = 0; // the clock stepped back: what was old may not be any more
    }
    this.#lastCutoff = cutoff;
    // The head is never deleted, so it need not be judged.
    const last = this.#target.durableSeq() - 1;
    let from = Math.max(this.#target.firstSeq(), this.#ageFrontier);
    let aged = 0;
    for (let scanned = 0; from <= last && scanned < AGE_SCAN_LIMIT && !signal.aborted; ) {
      const window = await readEntries(db, from, last, AGE_SCAN_WINDOW);
      if (window.length === 0) {
        break;
      }
      for (const entry of window) {
        if (entry.clockSynced && entry.ts >= cutoff) {
          this.#ageFrontier = entry.seq; // the first young entry: all after it are younger
          return aged;
        }
        if (entry.clockSynced) {
          aged = entry.seq;
        }
      }
      scanned += window.length;
      from = (window.at(-1)?.seq ?? last) + 1;
    }
    this.#ageFrontier = from;
    return aged;
  }

  /** Deletes [firstSeq, upTo] (never the head), records any unacked loss; returns the count. */
  async #deleteThrough(
    db: LedgerDatabase,
    upTo: number,
    rule: Rule,
    signal: AbortSignal,
    loss: Loss,
  ): Promise<number> {
    const first = this.#target.firstSeq();
    const last = Math.min(upTo, this.#target.durableSeq() - 1);
    if (last < first) {
      return 0;
    }
    const acked = this.#target.ackedSeq();
    // Readers move past the range first: a read already under way keeps its snapshot.
    this.#target.setFirstSeq(last + 1);
    let deletedThrough = first - 1;
    while (deletedThrough < last && !signal.aborted) {
      const chunkEnd = Math.min(deletedThrough + CHUNK, last);
      await db.clear({ gte: entryKey(deletedThrough + 1), lte: entryKey(chunkEnd) });
      deletedThrough = chunkEnd;
    }
    if (deletedThrough < last) {
      this.#target.setFirstSeq(deletedThrough + 1); // stopped early: the rest is still there
    }
    const deleted = deletedThrough - first + 1;
    const lostFrom = Math.max(first, acked + 1);
    this.counters.deleted += deleted;
    if (deletedThrough >= lostFrom) {
      loss.fromSeq ||= lostFrom;
      loss.toSeq = deletedThrough;
      loss.rules.add(rule);
    }
    if (deleted > 0) {
      await db.compactRange(entryKey(first), entryKey(deletedThrough));
      this.#logger.info(
        { fromSeq: first, toSeq: deletedThrough, records: deleted, rule },
        "ledger retention",
      );
    }
    return deleted;
  }
}
