/**
 * Entry keys read as UTF-8 text, for `ledger verify`'s speed (issue #5 item 4). classic-level
 * turns each binary key into a Buffer through napi_create_buffer_copy, which costs more per
 * record than the SHA-256; as UTF-8 text the same key costs little. The text is lossy (bytes that
 * are not valid UTF-8 become U+FFFD), so it is only compared with the equally lossy text of the
 * key the next entry should have; when they differ, and for the first key, the exact bytes are
 * read again. Two different keys give the same text only when they differ solely in bytes that
 * are not valid UTF-8 (seq 137 and 138 both end in U+FFFD); the walk then also requires the
 * entry's own seq to be the expected one (verifyChain.ts), so the chain checks stand.
 */
import type { LedgerDatabase } from "./ledgerDb.js";
import {
  AFTER_ENTRIES_KEY,
  ENTRY_KEY_BYTES,
  entryKey,
  FIRST_ENTRY_KEY,
  seqOfEntryKey,
} from "./ledgerLayout.js";

/** The entry key range as UTF-8 text bounds: "e" (inclusive) to "f" (exclusive), both ASCII. */
export const ENTRY_RANGE_TEXT = {
  gte: String.fromCharCode(FIRST_ENTRY_KEY[0] ?? 0),
  lt: String.fromCharCode(AFTER_ENTRIES_KEY[0] ?? 0),
} as const;

export class LossyKeyTracker {
  readonly #key = Buffer.alloc(ENTRY_KEY_BYTES);
  #lastExact: Uint8Array | undefined;
  #lastMatchedSeq: number | undefined;

  /** The UTF-8 text classic-level gives for the key of `seq`. */
  expectedText(seq: number): string {
    const key = this.#key;
    key[0] = FIRST_ENTRY_KEY[0] ?? 0;
    key.writeUInt32BE(Math.floor(seq / 0x1_0000_0000), 1);
    key.writeUInt32BE(seq >>> 0, 5);
    return key.toString("utf8");
  }

  /** The key just seen was taken to be the key of `seq`. */
  matched(seq: number): void {
    this.#lastMatchedSeq = seq;
    this.#lastExact = undefined;
  }

  /** The seq of the key after the last one seen, read exactly; undefined for a key that is not an entry key. */
  async exactSeq(db: LedgerDatabase): Promise<number | undefined> {
    const after =
      this.#lastExact ?? (this.#lastMatchedSeq === undefined ? undefined : entryKey(this.#lastMatchedSeq));
    const [key] = await db
      .keys({
        ...(after === undefined ? { gte: FIRST_ENTRY_KEY } : { gt: after }),
        lt: AFTER_ENTRIES_KEY,
        limit: 1,
      })
      .all();
    if (key === undefined) {
      // Only if the directory changed under us: the iterator saw a key the fresh read does not.
      throw new Error(`ledger ${db.location} changed while it was being verified`);
    }
    this.#lastExact = key;
    this.#lastMatchedSeq = undefined;
    return seqOfEntryKey(key);
  }
}
