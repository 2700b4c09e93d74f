/**
 * Until the ledger exists (issue #5) events are written to the log, marked `event`, so that
 * reloads and their outcome are audited in the journal. The composition root will point the
 * EventSink at the ledger instead; components do not change.
 */
import type { Clock } from "../clock.js";
import type { Logger } from "../observability/logger.js";
import type { EventRecord, EventSink } from "../records.js";

export function logEventSink(logger: Logger, clock: Clock): EventSink {
  return {
    emit(event) {
      const record: EventRecord = {
        kind: "event",
        ts: clock.wallNow(),
        clockSynced: clock.wallSynced(),
        ...event,
      };
      const level = event.severity === "error" ? "error" : event.severity === "warning" ? "warn" : "info";
      logger[level]({ event: record }, event.message);
    },
  };
}
