/**
 * Dead letters (issue #5): a record that can never be published — its packet is over the broker's
 * limit, the envelope refuses it, or the broker refuses it for good (pubackPolicy.ts) — becomes a
 * `deadletter` ledger entry on the events stream, body {"seq":"N","reason":"...","bytes":n,
 * "limit":m}, and counts as done, so the cursor moves on instead of retrying forever. The record
 * itself stays in the local ledger, where `ledger tail` shows it.
 *
 * A record is dead-lettered once per process: seqs already done are remembered (bounded), so a
 * reconnect that re-reads them does not append again. After a restart it may be appended twice,
 * which a reader of the events stream sees as two entries naming one seq.
 */
import type { Clock } from "../clock.js";
import { type LedgerEntry, NO_DEVICE } from "../ledger/ledgerEntry.js";
import type { LedgerAppender } from "../ledger/ledgerPorts.js";
import type { Logger } from "../observability/logger.js";

export const REMEMBERED_DEAD_LETTERS = 4096;

export interface DeadLetterReason {
  /** "packet-too-large", "payload-too-large", "envelope-refused", "puback-0x99", ... */
  readonly reason: string;
  readonly bytes: number;
  readonly limit: number;
  /** For the log only (the envelope's message); never in the ledger entry. */
  readonly detail?: string;
}

export function deadLetterBody(seq: number, why: DeadLetterReason): string {
  return JSON.stringify({ seq: String(seq), reason: why.reason, bytes: why.bytes, limit: why.limit });
}

export class DeadLetters {
  readonly #appender: LedgerAppender;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #done = new Set<number>();
  #appended = 0;

  constructor(appender: LedgerAppender, clock: Clock, logger: Logger) {
    this.#appender = appender;
    this.#clock = clock;
    this.#logger = logger;
  }

  /** Dead letters appended by this process. */
  get appended(): number {
    return this.#appended;
  }

  /** Appends one dead-letter entry per record; resolves (never rejects) once each is durable or failed. */
  async deadLetter(entries: readonly LedgerEntry[], why: DeadLetterReason): Promise<void> {
    await Promise.all(entries.map((entry) => this.#one(entry, why)));
  }

  async #one(entry: LedgerEntry, why: DeadLetterReason): Promise<void> {
    if (this.#done.has(entry.seq)) {
      return;
    }
    const fields = { seq: entry.seq, kind: entry.kind, device: entry.device, ...why };
    if (entry.kind === "deadletter") {
      // Dead-lettering a dead letter could go on for ever (an events topic the broker refuses).
      this.#logger.error(
        fields,
        "uplink: a dead-letter record cannot be published either; it stays in the local ledger only",
      );
      this.#remember(entry.seq);
      return;
    }
    this.#logger.warn(fields, "uplink: record cannot be published; appending a dead-letter record");
    try {
      await this.#appender.append({
        ts: this.#clock.wallNow(),
        clockSynced: this.#clock.wallSynced(),
        kind: "deadletter",
        device: NO_DEVICE,
        body: deadLetterBody(entry.seq, why),
      });
      this.#appended++;
    } catch (error) {
      // The ledger counts and reports what it sheds; the record itself is still in the ledger.
      this.#logger.error({ err: error, seq: entry.seq }, "uplink: the dead-letter record was not stored");
    }
    this.#remember(entry.seq);
  }

  #remember(seq: number): void {
    if (this.#done.size >= REMEMBERED_DEAD_LETTERS) {
      this.#done.clear();
    }
    this.#done.add(seq);
  }
}
