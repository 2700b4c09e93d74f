/**
 * An entry's text read at fixed offsets, for `ledger verify` (issue #5 item 4: >= 300,000
 * records/s on a 2-core gateway): no JSON.parse per record, one sticky regex for the head, plain
 * startsWith checks of the tail (the prev and hash fields have fixed lengths), and one native
 * one-shot SHA-256 over a reused buffer. The form is ledgerEntry.ts's (docs/protocol.md §8.2);
 * this is the fast reading of it, used by chainWalker.ts, with hashWorker.ts doing the same hash
 * on another thread.
 */
import { hash as oneShotHash } from "node:crypto";
import { LEDGER_KINDS } from "./ledgerEntry.js";

/** `,"prev":"` + 64 hex + `"` then `,"hash":"` + 64 hex + `"}`: the fixed-length tail of every entry. */
const TAIL_CHARS = 149;
/** Shorter texts cannot be entries: readEntryForm() says malformed, and no hash is checked. */
export const MIN_ENTRY_CHARS = TAIL_CHARS + 1;
/** `,"hash":"` + 64 hex + `"}`. */
const HASH_PART_CHARS = 75;
const PREV_FIELD = ',"prev":"';
/** The closing quote of prev, then the hash field's name. */
const HASH_FIELD = '","hash":"';
/** Lowercase hex digit values by byte; NOT_HEX elsewhere (uppercase too: the format is lowercase). */
const NOT_HEX = 0xff;
const HEX_VALUE = (() => {
  const table = new Uint8Array(256).fill(NOT_HEX);
  for (let i = 0; i < 16; i++) {
    table["0123456789abcdef".charCodeAt(i)] = i;
  }
  return table;
})();
const QUOTE = 0x22;
const CLOSE_BRACE = 0x7d;
const HEAD =
  /\{"seq":"([1-9][0-9]{0,15})","ts":-?[0-9][0-9.eE+-]*,"clockSynced":(?:true|false),"kind":"([a-z]+)","device":"(?:[^"\\]|\\.)*","body":\{/y;
const KINDS: ReadonlySet<string> = new Set(LEDGER_KINDS);
const PREV_BYTES = 32;

const SEQ_PREFIX = '{"seq":"';
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** Where the parts of a well-formed entry text are. */
export interface EntryForm {
  /** The seq the text states (a safe integer). */
  readonly seq: number;
  readonly isCheckpoint: boolean;
  /** The body runs over text[bodyStart, bodyEnd). */
  readonly bodyStart: number;
  readonly bodyEnd: number;
  /** prev's 64 hex digits start here. */
  readonly prevAt: number;
  /** The stated hash's 64 hex digits start here. */
  readonly hashAt: number;
}

/**
 * The entry's parts, or undefined when the text does not have an entry's form (a kind not in
 * LEDGER_KINDS, a seq beyond 2^53, a tail that is not prev then hash). prev and hash are checked
 * for lowercase hex only where they are used (hashing, linking).
 */
export function readEntryForm(text: string): EntryForm | undefined {
  const length = text.length;
  const tailAt = length - TAIL_CHARS;
  if (tailAt <= 0) {
    return undefined;
  }
  HEAD.lastIndex = 0;
  const head = HEAD.exec(text);
  // The body runs from the head's "{" to the "}" just before the fixed-length tail. (Plain
  // startsWith checks: a sticky regex over the tail costs more than the SHA-256.)
  if (
    head === null ||
    HEAD.lastIndex >= tailAt ||
    text.charCodeAt(tailAt - 1) !== CLOSE_BRACE ||
    !text.startsWith(PREV_FIELD, tailAt) ||
    !text.startsWith(HASH_FIELD, length - HASH_PART_CHARS - 1) ||
    text.charCodeAt(length - 2) !== QUOTE ||
    text.charCodeAt(length - 1) !== CLOSE_BRACE ||
    !KINDS.has(head[2] ?? "")
  ) {
    return undefined;
  }
  const seq = Number(head[1]);
  if (!Number.isSafeInteger(seq)) {
    return undefined;
  }
  const hashAt = length - HASH_PART_CHARS + 9;
  return {
    seq,
    isCheckpoint: head[2] === "checkpoint",
    bodyStart: HEAD.lastIndex - 1,
    bodyEnd: tailAt,
    prevAt: tailAt + PREV_FIELD.length,
    hashAt,
  };
}

/** The hash the entry states (64 characters; lowercase hex only if the entry is sound). */
export function statedHash(text: string): string {
  return text.slice(text.length - HASH_PART_CHARS + 9, text.length - 2);
}

/**
 * The seq an entry text states, read without a regex or an allocation; -1 when the text does not
 * start like an entry. For the walk's cheap cross-check of a key; readEntryForm() checks the form.
 */
export function statedSeq(text: string): number {
  if (!text.startsWith(SEQ_PREFIX)) {
    return -1;
  }
  let seq = 0;
  let index = SEQ_PREFIX.length;
  for (
    let code = text.charCodeAt(index);
    code >= DIGIT_0 && code <= DIGIT_9;
    code = text.charCodeAt(++index)
  ) {
    seq = seq * 10 + (code - DIGIT_0);
  }
  return index > SEQ_PREFIX.length && text.charCodeAt(index) === QUOTE ? seq : -1;
}

/** SHA-256(prev bytes || canonical) of entry texts, over one buffer reused from entry to entry. */
export class EntryHasher {
  #scratch = Buffer.alloc(64 * 1024);

  /**
   * The chain hash the entry should state, canonical being the text with `,"hash":…` cut to `}`;
   * undefined when prev is not lowercase hex. The text (at least MIN_ENTRY_CHARS long) is
   * written once into the buffer after 32 bytes of room, and prev's hex, now at a fixed distance
   * from the end, is decoded into them.
   */
  hash(text: string): string | undefined {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const needed = PREV_BYTES + text.length * 3;
    if (this.#scratch.length < needed) {
      this.#scratch = Buffer.alloc(needed);
    }
    const scratch = this.#scratch;
    const written = scratch.write(text, PREV_BYTES, "utf8");
    // The tail is ASCII, so it is as many bytes as characters at the end of the UTF-8.
    const end = PREV_BYTES + written - HASH_PART_CHARS;
    let hex = end - 65;
    for (let i = 0; i < PREV_BYTES; i++, hex += 2) {
      const high = HEX_VALUE[scratch[hex] ?? 0] ?? NOT_HEX;
      const low = HEX_VALUE[scratch[hex + 1] ?? 0] ?? NOT_HEX;
      if ((high | low) > 15) {
        return undefined;
      }
      scratch[i] = (high << 4) | low;
    }
    scratch[end] = CLOSE_BRACE;
    return oneShotHash("sha256", new Uint8Array(scratch.buffer, scratch.byteOffset, end + 1), "hex");
  }

  /** Whether the text states the hash it should; "malformed" when its prev is not lowercase hex. */
  check(text: string): "sound" | "hash mismatch" | "malformed" {
    const computed = this.hash(text);
    if (computed === undefined) {
      return "malformed";
    }
    return text.startsWith(computed, text.length - HASH_PART_CHARS + 9) ? "sound" : "hash mismatch";
  }
}
