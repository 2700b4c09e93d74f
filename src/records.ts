/**
 * Record types shared by every part (DESIGN.md: "shared record types live in one small module").
 * The ledger stores them, the uplink seals them, the receiver opens them; keep them plain JSON-able
 * data (64-bit integers travel as bigint and are serialised as decimal strings, FAULTS 8.7).
 */

export type Quality = "good" | "bad" | "uncertain";

export type SampleValue = number | bigint | string | boolean | null;

/** One reading of one tag. */
export interface Sample {
  readonly kind: "sample";
  readonly device: string;
  readonly tag: string;
  /** Wall-clock ms since the epoch when read; trust it only if clockSynced. */
  readonly ts: number;
  readonly clockSynced: boolean;
  readonly value: SampleValue;
  readonly quality: Quality;
  /** Why quality is not good: "timeout", "exception 02 (illegal data address)", "NaN", ... */
  readonly reason?: string;
  readonly unit?: string;
}

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
