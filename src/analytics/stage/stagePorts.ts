/**
 * What the analytics stage needs from the rest of the daemon (DESIGN.md data flow: sources ->
 * analytics -> ledger). analytics/ never imports the ledger or the uplink; the composition root
 * hands it these small ports.
 */
import type { Clock } from "../../clock.js";
import type { Logger } from "../../observability/logger.js";
import type { EventSink, Sample } from "../../records.js";
import type { AnomalyBody } from "../alerts/index.js";
import type { HistorySource } from "../training/historySource.js";

export interface RecordAppender {
  /**
   * Appends a sample (a source's reading, an OEE or workload sample) to the ledger; never throws.
   * Returns the bytes of the record's body (0 when it could not be serialised), for the workload.
   */
  appendSample(sample: Sample): number;
  /** Appends an anomaly record (kind "anomaly", the alerts stream); never throws. */
  appendAnomaly(body: AnomalyBody, clockSynced: boolean): void;
}

export interface StagePorts {
  readonly append: RecordAppender;
  readonly history: HistorySource;
  readonly events: EventSink;
  readonly clock: Clock;
  readonly logger: Logger;
}
