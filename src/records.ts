/**
 * Record types shared by every part (DESIGN.md: "shared record types live in one small module").
 * The ledger stores them, the uplink seals them, the receiver opens them; keep them plain JSON-able
 * data (64-bit integers travel as bigint and are serialised as decimal strings, FAULTS 8.7).
 */

export type Quality = "good" | "bad" | "uncertain";

export type SampleValue = number | bigint | string | boolean | null;

/** The value of one tag in one reading, with its quality. */
export interface TagReading {
  readonly value: SampleValue;
  readonly quality: Quality;
  /** Why quality is not good: "timeout", "exception 02 (illegal data address)", "NaN", ... */
  readonly reason?: string;
  readonly unit?: string;
}

/**
 * One reading of one device (issue #4 item 7): the tags read together (a Modbus poll group, a
 * serial line, a self-health round) share a timestamp. `values` holds the tags that pass the
 * publish filter (deadband, heartbeat, quality change), so a steady device costs little in the
 * log and on the wire; a Sample with no values is never emitted.
 */
export interface Sample {
  readonly kind: "sample";
  readonly device: string;
  /** The Modbus poll group that was read; absent for serial lines and self-health. */
  readonly group?: string;
  /** Wall-clock ms since the epoch when read; trust it only if clockSynced. */
  readonly ts: number;
  readonly clockSynced: boolean;
  /** Tag name to reading. Tag names are config names ([A-Za-z0-9][A-Za-z0-9_.-]*), never "__proto__". */
  readonly values: Readonly<Record<string, TagReading>>;
}

/** Where sources deliver samples; the composition root wires it to the next stage (DESIGN.md data flow). */
export type SampleSink = (sample: Sample) => void;

export type EventSeverity = "info" | "warning" | "error";

/** Something that happened to the gateway itself: reloads, gaps, degraded storage, ... */
export interface EventRecord {
  readonly kind: "event";
  /** Dotted name, e.g. "config.reloaded", "storage.degraded". */
  readonly type: string;
  readonly ts: number;
  readonly clockSynced: boolean;
  readonly severity: EventSeverity;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Where components send events; the composition root decides where they land. */
export interface EventSink {
  emit(event: Omit<EventRecord, "kind" | "ts" | "clockSynced">): void;
}
