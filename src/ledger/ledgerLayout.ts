/**
 * The ledger's LevelDB key layout (issue #5). Keys are bytes (classic-level keyEncoding "view"),
 * values UTF-8 text:
 *   "e" u64be(seq)   -> the entry's text (ledgerEntry.ts), one per sequence number
 *   "m:acked"         -> decimal seq: every entry up to it was PUBACKed upstream
 *   "m:segment"       -> JSON of the current chain segment (segments.ts): where it began and why
 * Big-endian fixed-width seq keys sort in seq order, so the head is the last "e" key and a range
 * read is one iterator. Metadata keys sort after every entry key ("m" > "e").
 */
export const ENTRY_PREFIX = 0x65; // "e"
export const ENTRY_KEY_BYTES = 9;
export const ACKED_KEY = new TextEncoder().encode("m:acked");
export const SEGMENT_KEY = new TextEncoder().encode("m:segment");
/** Bounds of the entry key range: gte FIRST_ENTRY_KEY, lt AFTER_ENTRIES_KEY. */
export const FIRST_ENTRY_KEY = Uint8Array.of(ENTRY_PREFIX);
export const AFTER_ENTRIES_KEY = Uint8Array.of(ENTRY_PREFIX + 1);

export function entryKey(seq: number): Uint8Array {
  const key = new Uint8Array(ENTRY_KEY_BYTES);
  key[0] = ENTRY_PREFIX;
  new DataView(key.buffer).setBigUint64(1, BigInt(seq));
  return key;
}

/** The seq of an entry key, or undefined for a key that is not one. */
export function seqOfEntryKey(key: Uint8Array): number | undefined {
  if (key.length !== ENTRY_KEY_BYTES || key[0] !== ENTRY_PREFIX) {
    return undefined;
  }
  const seq = new DataView(key.buffer, key.byteOffset, key.byteLength).getBigUint64(1);
  return seq <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seq) : undefined;
}
