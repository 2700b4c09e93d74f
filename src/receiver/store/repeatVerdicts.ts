/**
 * What a record the store already holds means (issue #7 item 2; docs/protocol.md §8.4 step 3,
 * §11.1): same hash and same envelope nonce is the same envelope again — a broker redelivery to
 * another receiver of the group, or a replay — rejected as "replay-duplicate" once per envelope;
 * same hash under another nonce is the gateway resending what was in flight (a duplicate); another
 * hash for a stored seq is tampering ("seq-conflict"). Pure, so the rules are tested without SQL.
 */
import type { AcceptedRecord, ReceiverOutcome, TamperEvent } from "../outcomes.js";

/** The copy that was stored first: its hash (hex) and envelope nonce. */
export interface StoredCopy {
  readonly hash: string;
  readonly nonce: string;
}

export function recordKey(gateway: string, seq: number): string {
  return `${seq} ${gateway}`;
}

/**
 * The outcomes for records that were not stored because (gateway, seq) was already held, in the
 * database or earlier in the same batch (`stored` has both).
 */
export function repeatVerdicts(
  repeats: readonly AcceptedRecord[],
  stored: ReadonlyMap<string, StoredCopy>,
): { readonly outcomes: ReceiverOutcome[]; readonly tampering: TamperEvent[] } {
  const outcomes: ReceiverOutcome[] = [];
  const tampering: TamperEvent[] = [];
  const replayedEnvelopes = new Set<string>();
  for (const record of repeats) {
    const { gateway, seq } = record;
    const copy = stored.get(recordKey(gateway, seq));
    if (copy === undefined) {
      continue;
    }
    if (copy.hash !== record.hash) {
      const message = `seq ${seq} arrived with hash ${record.hash}, stored with ${copy.hash}`;
      const event: TamperEvent = {
        type: "tamper",
        gateway,
        seq,
        reason: "seq-conflict",
        message,
        receivedAt: record.receivedAt,
      };
      outcomes.push(event);
      tampering.push(event);
    } else if (copy.nonce === record.nonce) {
      const envelope = `${gateway} ${record.nonce}`;
      if (!replayedEnvelopes.has(envelope)) {
        replayedEnvelopes.add(envelope);
        outcomes.push({
          type: "rejected",
          reason: "replay-duplicate",
          message: `this envelope (gw ${gateway}, seq ${seq}) was already stored`,
          topic: record.topic,
          receivedAt: record.receivedAt,
          gateway,
          seq,
        });
      }
    } else {
      outcomes.push({ type: "duplicate", gateway, seq });
    }
  }
  return { outcomes, tampering };
}
