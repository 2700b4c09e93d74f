/**
 * Bytes from an ASCII sensor's serial port to complete lines (issue: "framing by a delimiter with
 * a bounded buffer"). FAULTS 8.4 "Line noise with no delimiter": serialport's DelimiterParser
 * buffers without limit, so 10 MB of noise would become a 10 MB string; here a line is never held
 * beyond maxLineLength bytes, whatever arrives, and the rest of an overlong line is skipped up to
 * the next delimiter and counted.
 *
 * Pure and synchronous so it can sit behind any stream: feed each chunk to push(), publish what
 * it returns.
 */

export type LineEncoding = "utf8" | "ascii" | "latin1";

export interface LineFramerOptions {
  /** End of a line, e.g. "\n" or "\r\n"; encoded with `encoding` to get its bytes. */
  readonly delimiter: string;
  /** Longest line kept, in bytes, delimiter excluded. Also the most the framer ever buffers. */
  readonly maxLineLength: number;
  readonly encoding: LineEncoding;
}

export interface LineFramerStats {
  /** Lines returned by push(). */
  readonly lines: number;
  /** Empty lines (two delimiters in a row), skipped. */
  readonly empty: number;
  /** Lines longer than maxLineLength, counted when the limit is crossed. */
  readonly discardedOverlong: number;
  /** Leading partial lines dropped after reset() (a reopen can start mid-line). */
  readonly discardedPartial: number;
  /** Every byte thrown away, overlong or partial, delimiters excluded. */
  readonly discardedBytes: number;
}

type Mode = "keep" | "skipOverlong" | "skipPartial";

const INITIAL_CAPACITY = 256;

export class LineFramer {
  readonly #delimiter: Uint8Array;
  /** KMP failure function of the delimiter, so a delimiter split across chunks is still found. */
  readonly #fallback: Uint32Array;
  readonly #maxLineLength: number;
  readonly #encoding: LineEncoding;
  /**
   * Content bytes of the current line only. Bytes that may be the start of the delimiter are not
   * stored: they are delimiter[0..#matched), so the buffer itself never exceeds maxLineLength.
   */
  #line: Uint8Array;
  #length = 0;
  #matched = 0;
  #mode: Mode = "keep";
  /** Scratch for committing one byte without allocating. */
  readonly #single = new Uint8Array(1);
  #lines = 0;
  #empty = 0;
  #discardedOverlong = 0;
  #discardedPartial = 0;
  #discardedBytes = 0;

  constructor({ delimiter, maxLineLength, encoding }: LineFramerOptions) {
    const bytes = Buffer.from(delimiter, encoding);
    if (bytes.length === 0 || !Number.isInteger(maxLineLength) || maxLineLength < 1) {
      // Config validation (devices.ts) already guarantees both; this guards direct use.
      throw new RangeError("LineFramer needs a non-empty delimiter and maxLineLength >= 1");
    }
    this.#delimiter = new Uint8Array(bytes);
    this.#fallback = failureFunction(this.#delimiter);
    this.#maxLineLength = maxLineLength;
    this.#encoding = encoding;
    this.#line = new Uint8Array(Math.min(INITIAL_CAPACITY, maxLineLength));
  }

  /** Complete lines in this chunk, delimiter removed, decoded; never throws on any bytes. */
  push(chunk: Uint8Array): string[] {
    const out: string[] = [];
    const first = this.#delimiter[0] as number;
    let i = 0;
    while (i < chunk.length) {
      if (this.#matched === 0) {
        // Fast path: everything up to the next possible delimiter start is line content.
        const next = chunk.indexOf(first, i);
        const end = next < 0 ? chunk.length : next;
        this.#commit(chunk, i, end);
        if (next < 0) {
          break;
        }
        i = next;
      }
      this.#step(chunk[i] as number, out);
      i += 1;
    }
    return out;
  }

  /**
   * Forget any partial line and drop bytes up to the next delimiter: call it on every (re)open,
   * since the port may have been opened in the middle of a line. Counters are kept.
   */
  reset(): void {
    this.#length = 0;
    this.#matched = 0;
    this.#mode = "skipPartial";
    this.#shrink();
  }

  stats(): LineFramerStats {
    return {
      lines: this.#lines,
      empty: this.#empty,
      discardedOverlong: this.#discardedOverlong,
      discardedPartial: this.#discardedPartial,
      discardedBytes: this.#discardedBytes,
    };
  }

  /** Bytes held for the current line; at most maxLineLength (FAULTS 8.4 harness asserts it). */
  bufferedBytes(): number {
    return this.#length;
  }

  #step(byte: number, out: string[]): void {
    const delimiter = this.#delimiter;
    while (this.#matched > 0 && delimiter[this.#matched] !== byte) {
      // The bytes matched so far were not all delimiter: the part the fallback gives up is content.
      const kept = this.#fallback[this.#matched - 1] as number;
      this.#commit(delimiter, 0, this.#matched - kept);
      this.#matched = kept;
    }
    if (delimiter[this.#matched] === byte) {
      this.#matched += 1;
      if (this.#matched === delimiter.length) {
        this.#matched = 0;
        this.#endLine(out);
      }
      return;
    }
    this.#single[0] = byte;
    this.#commit(this.#single, 0, 1);
  }

  #commit(source: Uint8Array, start: number, end: number): void {
    const count = end - start;
    if (count <= 0) {
      return;
    }
    if (this.#mode !== "keep") {
      this.#discardedBytes += count;
      return;
    }
    if (this.#length + count > this.#maxLineLength) {
      this.#mode = "skipOverlong";
      this.#discardedOverlong += 1;
      this.#discardedBytes += this.#length + count;
      this.#length = 0;
      this.#shrink();
      return;
    }
    this.#ensureCapacity(this.#length + count);
    this.#line.set(source.subarray(start, end), this.#length);
    this.#length += count;
  }

  #endLine(out: string[]): void {
    const mode = this.#mode;
    this.#mode = "keep";
    if (mode === "skipPartial") {
      this.#discardedPartial += 1;
      return;
    }
    if (mode === "skipOverlong") {
      return; // counted when the limit was crossed
    }
    if (this.#length === 0) {
      this.#empty += 1;
      return;
    }
    out.push(decodeLine(this.#line.subarray(0, this.#length), this.#encoding));
    this.#lines += 1;
    this.#length = 0;
  }

  #ensureCapacity(needed: number): void {
    if (needed <= this.#line.length) {
      return;
    }
    let capacity = this.#line.length;
    while (capacity < needed) {
      capacity *= 2;
    }
    const grown = new Uint8Array(Math.min(capacity, this.#maxLineLength));
    grown.set(this.#line.subarray(0, this.#length));
    this.#line = grown;
  }

  /** After a burst of long lines, give the memory back rather than hold maxLineLength forever. */
  #shrink(): void {
    if (this.#line.length > INITIAL_CAPACITY) {
      this.#line = new Uint8Array(Math.min(INITIAL_CAPACITY, this.#maxLineLength));
    }
  }
}

/** KMP: fallback[i] is the length of the longest proper prefix of pattern[0..i] that is also its suffix. */
function failureFunction(pattern: Uint8Array): Uint32Array {
  const fallback = new Uint32Array(pattern.length);
  let k = 0;
  for (let i = 1; i < pattern.length; i += 1) {
    while (k > 0 && pattern[i] !== pattern[k]) {
      k = fallback[k - 1] as number;
    }
    if (pattern[i] === pattern[k]) {
      k += 1;
    }
    fallback[i] = k;
  }
  return fallback;
}

/**
 * Invalid UTF-8 becomes U+FFFD (Buffer's decoder never throws). For "ascii", bytes above 0x7F
 * also become U+FFFD rather than Node's high-bit stripping: a byte with bit 7 set on an ASCII
 * line means wrong parity or baud (FAULTS 8.4), and stripping would turn it into a plausible digit.
 */
export function decodeLine(bytes: Uint8Array, encoding: LineEncoding): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (encoding === "ascii") {
    return buffer.toString("latin1").replace(/[\u0080-\u00ff]/g, "\uFFFD");
  }
  return buffer.toString(encoding);
}
