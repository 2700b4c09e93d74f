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
  // A slice of Node's Buffer pool: a small Uint8Array of its own lives on the V8 heap and must be
  // moved off it when LevelDB's binding takes it, a third of the cost of a put (bench:ledger, #5).
  const key = Buffer.allocUnsafe(ENTRY_KEY_BYTES);
  key[0] = ENTRY_PREFIX;
  // Byte by byte rather than DataView.setBigUint64: no BigInt and no DataView per key on the
  // append path. seq < 2^53, so the high half fits in 21 bits; every byte is written.
  const high = Math.floor(seq / 0x1_0000_0000);
  const low = seq >>> 0;
  key[1] = high >>> 24;
  key[2] = (high >>> 16) & 0xff;
  key[3] = (high >>> 8) & 0xff;
  key[4] = high & 0xff;
  key[5] = low >>> 24;
  key[6] = (low >>> 16) & 0xff;
  key[7] = (low >>> 8) & 0xff;
  key[8] = low & 0xff;
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
