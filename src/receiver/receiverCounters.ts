/**
 * Counters of everything the receiver core decides (issue #7 item 2: "rejects and counts anything
 * that fails to open"): one per rejection reason and one per outcome, so that every message
 * received is accounted for. Plain numbers; the receive command exports them as metrics.
 */
import { REJECT_REASONS, type RejectReason } from "./outcomes.js";

export const OUTCOME_COUNTERS = [
  /** MQTT messages handed to the core. */
  "messages",
  /** Records stored (one message may carry a batch). */
  "accepted",
  "duplicate",
  "gapOpened",
  "gapClosed",
  "gapLost",
  "tamper",
  "checkpointVerified",
  /** No checkpoint key for its kid, or the entry it vouches for is not remembered (§8.5: unverified, not sound). */
  "checkpointUnverified",
  /** Messages on the status topic (not envelopes, §1). */
  "status",
  /** Health snapshots opened (§1, "Health"). */
  "health",
] as const;
export type OutcomeCounter = (typeof OUTCOME_COUNTERS)[number];

export type ReceiverCounters = Record<RejectReason | OutcomeCounter, number>;

export function newReceiverCounters(): ReceiverCounters {
  const counters: Partial<ReceiverCounters> = {};
  for (const name of [...REJECT_REASONS, ...OUTCOME_COUNTERS]) {
    counters[name] = 0;
  }
  return counters as ReceiverCounters;
}
