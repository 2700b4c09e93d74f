/**
 * Settling a batch whose write failed (issue #5 item 3: "careful with the failed batch"). A
 * LevelDB write batch is one record in its log, so it is all there or not at all; but a failed
 * sync may or may not have left that record in the log, and only reopening the database tells.
 * So the group commit holds the failed batch aside, and after the reopen the stored chain head
 * decides: equal to the batch's last entry, it landed (its appends resolve, nothing is written
 * again); equal to the head before it, it did not (its records are written again with the same
 * seqs). No record is lost, and no seq is used twice.
 */
import type { Logger } from "../observability/logger.js";
import type { ChainHead, PreparedBatch } from "./commitBatch.js";

export type UncertainOutcome = "landed" | "absent" | "diverged";

export function settleUncertain(
  batch: PreparedBatch | undefined,
  stored: ChainHead,
  logger: Logger,
): UncertainOutcome {
  if (batch === undefined) {
    return "absent";
  }
  if (batch.entries.length > 0 && stored.seq === batch.after.seq && stored.hash === batch.after.hash) {
    return "landed";
  }
  if (stored.seq === batch.before.seq && stored.hash === batch.before.hash) {
    return "absent";
  }
  // The database is not where the ledger left it: something other than a failed write changed
  // it (a corrupt database replaced by a new segment, a disk that lost synced data). The stored
  // head is what the chain continues from; the batch's records are appended after it.
  logger.error(
    {
      storedSeq: stored.seq,
      expectedSeq: batch.before.seq,
      failedBatch: { fromSeq: batch.before.seq + 1, toSeq: batch.after.seq },
    },
    "ledger: after reopening, the stored chain head is neither before nor after the failed batch; continuing from the stored head",
  );
  return "diverged";
}

/** Batches nothing will write again (the ledger is stopping): their appends reject with `reason`. */
export function failBatches(batches: readonly PreparedBatch[], reason: Error): void {
  for (const { contents } of batches) {
    for (const waiting of contents.owners) {
      waiting.reject(reason);
    }
    contents.ackWaiter?.resolve();
  }
}
