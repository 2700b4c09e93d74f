/**
 * Events go to the journal (through the logger) and into the ledger (issue #5: reloads, gaps,
 * degraded storage and the like are records, chained and published on the events stream). The
 * ledger starts after the daemon begins to emit events and is replaced on reloads, so the sink
 * routes to whichever ledger is attached; events emitted while none is (start-up, a ledger
 * restart) wait in a small bounded queue and are appended on attach. Overflow is counted and
 * said in the next event that gets through, never dropped silently.
 */
import type { Clock } from "../clock.js";
import { NO_DEVICE } from "../ledger/ledgerEntry.js";
import type { LedgerAppender } from "../ledger/ledgerPorts.js";
import type { Logger } from "../observability/logger.js";
import type { EventRecord, EventSink } from "../records.js";
import { logEventSink } from "./logEventSink.js";

/** Events held while no ledger is attached; a start-up emits a handful. */
export const UNATTACHED_EVENT_LIMIT = 256;

export class LedgerEventSink implements EventSink {
  readonly #log: EventSink;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #ledger: LedgerAppender | undefined;
  #waiting: EventRecord[] = [];
  #shed = 0;

  constructor(logger: Logger, clock: Clock) {
    this.#log = logEventSink(logger, clock);
    this.#clock = clock;
    this.#logger = logger;
  }

  emit(event: Omit<EventRecord, "kind" | "ts" | "clockSynced">): void {
    this.#log.emit(event);
    const record: EventRecord = {
      kind: "event",
      ts: this.#clock.wallNow(),
      clockSynced: this.#clock.wallSynced(),
      ...event,
    };
    if (this.#ledger === undefined) {
      if (this.#waiting.length >= UNATTACHED_EVENT_LIMIT) {
        this.#waiting.shift();
        this.#shed++;
      }
      this.#waiting.push(record);
      return;
    }
    this.#append(this.#ledger, record);
  }

  /** Routes events to `ledger` from now on, first appending those that waited. */
  attach(ledger: LedgerAppender): void {
    this.#ledger = ledger;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const record of waiting) {
      this.#append(ledger, record);
    }
  }

  /** Stops routing to `ledger` (if it is the attached one); later events wait for the next. */
  detach(ledger: LedgerAppender): void {
    if (this.#ledger === ledger) {
      this.#ledger = undefined;
    }
  }

  #append(ledger: LedgerAppender, record: EventRecord): void {
    const details = this.#shed > 0 ? { ...record.details, eventsShedBeforeThis: this.#shed } : record.details;
    this.#shed = 0;
    const body = JSON.stringify({
      type: record.type,
      severity: record.severity,
      message: record.message,
      ...(details === undefined ? {} : { details }),
    });
    ledger
      .append({ ts: record.ts, clockSynced: record.clockSynced, kind: "event", device: NO_DEVICE, body })
      .catch((error: unknown) => {
        // The ledger counts and reports what it sheds; the journal already has the event.
        this.#logger.warn({ err: error, eventType: record.type }, "event not recorded in the ledger");
      });
  }
}
