/**
 * Where the receiver puts what it accepted (issue #7 item 2): PostgreSQL (pgStore.ts) or JSON lines
 * (jsonlStore.ts). The receive command hands a store the outcomes of a batch of messages and
 * acknowledges those messages to the broker only once `write` has resolved, so a store must not
 * resolve before what it was given is durable.
 */
import type { ReceiverOutcome } from "../outcomes.js";

export interface RecordStore {
  /** Opens the store (connects, runs migrations, opens the file). */
  start(): Promise<void>;
  /**
   * Stores a batch's outcomes; resolves when they are durable. Returns the outcomes the store found
   * itself (records it already held: duplicates, replayed envelopes, a seq stored with another
   * hash), for the caller to count and log; empty when it found none.
   */
  write(outcomes: readonly ReceiverOutcome[]): Promise<readonly ReceiverOutcome[]>;
  /** Flushes and closes; idempotent. */
  stop(): Promise<void>;
}
