/**
 * Serial bytes to lines (issue: "framing by a delimiter with a bounded buffer"; FAULTS 8.4 "Line
 * noise with no delimiter": 10 MB without a delimiter keeps the buffer and RSS bounded).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LineFramer, type LineFramerOptions } from "../../../src/sources/serialLine/lineFramer.js";

const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "latin1"));

function frameAll(options: LineFramerOptions, chunks: readonly Uint8Array[]): string[] {
  const framer = new LineFramer(options);
  return chunks.flatMap((chunk) => framer.push(chunk));
}

/** Independent reference: split the whole stream as a string; the tail after the last delimiter is pending. */
function referenceLines(stream: Uint8Array, delimiter: string, maxLineLength: number): string[] {
  const pieces = Buffer.from(stream).toString("latin1").split(delimiter);
  pieces.pop();
  return pieces.filter((line) => line.length > 0 && line.length <= maxLineLength);
}

describe("LineFramer", () => {
  it("splits lines and skips empty ones", () => {
    const framer = new LineFramer({ delimiter: "\n", maxLineLength: 64, encoding: "utf8" });
    expect(framer.push(bytes("a=1\n\nb=2\nc="))).toEqual(["a=1", "b=2"]);
    expect(framer.push(bytes("3\n"))).toEqual(["c=3"]);
    expect(framer.stats()).toMatchObject({ lines: 3, empty: 1, discardedOverlong: 0, discardedBytes: 0 });
  });

  it('finds "\\r\\n" split between chunks, and a lone "\\r" stays in the line', () => {
    const framer = new LineFramer({ delimiter: "\r\n", maxLineLength: 64, encoding: "ascii" });
    expect(framer.push(bytes("T=21.5\r"))).toEqual([]);
    expect(framer.bufferedBytes()).toBe(6); // the "\r" is pending delimiter, not buffered content
    expect(framer.push(bytes("\nT=21.6\r\r"))).toEqual(["T=21.5"]);
    expect(framer.push(bytes("\n"))).toEqual(["T=21.6\r"]);
  });

  it("handles a self-overlapping delimiter across chunks", () => {
    const options = { delimiter: "abab", maxLineLength: 64, encoding: "latin1" } as const;
    const stream = bytes("xabaababababy");
    const expected = referenceLines(stream, "abab", 64);
    for (let cut = 0; cut <= stream.length; cut += 1) {
      expect(frameAll(options, [stream.subarray(0, cut), stream.subarray(cut)])).toEqual(expected);
    }
  });

  it("any chunking gives the same lines as framing at once, and as a plain split (property)", () => {
    const alphabet = [0x61, 0x62, 0x0d, 0x0a, 0x41, 0xff];
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...alphabet), { maxLength: 300 }),
        fc.array(fc.nat(300), { maxLength: 20 }),
        fc.constantFrom("\n", "\r\n", "ab", "aba", "\r\n\r\n"),
        fc.integer({ min: 1, max: 12 }),
        (streamBytes, cutPoints, delimiter, maxLineLength) => {
          const stream = new Uint8Array(streamBytes);
          const options = { delimiter, maxLineLength, encoding: "latin1" } as const;
          const cuts = [...new Set(cutPoints.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const chunks: Uint8Array[] = [];
          let from = 0;
          for (const cut of cuts) {
            chunks.push(stream.subarray(from, cut));
            from = cut;
          }
          chunks.push(stream.subarray(from));
          const whole = frameAll(options, [stream]);
          expect(frameAll(options, chunks)).toEqual(whole);
          expect(whole).toEqual(referenceLines(stream, delimiter, maxLineLength));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("discards an overlong line up to the next delimiter, counts it, and keeps the next line intact", () => {
    const framer = new LineFramer({ delimiter: "\r\n", maxLineLength: 16, encoding: "utf8" });
    const lines = [
      ...framer.push(bytes(`${"x".repeat(10)}`)),
      ...framer.push(bytes(`${"y".repeat(30)}\r`)),
      ...framer.push(bytes("\nT=1\r\n")),
    ];
    expect(lines).toEqual(["T=1"]);
    expect(framer.stats()).toEqual({
      lines: 1,
      empty: 0,
      discardedOverlong: 1,
      discardedPartial: 0,
      discardedBytes: 40,
    });
  });

  it("keeps a line of exactly maxLineLength bytes", () => {
    const framer = new LineFramer({ delimiter: "\n", maxLineLength: 16, encoding: "utf8" });
    expect(framer.push(bytes(`${"z".repeat(16)}\n${"z".repeat(17)}\n`))).toEqual(["z".repeat(16)]);
    expect(framer.stats().discardedOverlong).toBe(1);
  });

  it("FAULTS 8.4: 10 MB of noise without a delimiter emits nothing and stays bounded", () => {
    const maxLineLength = 4096;
    const framer = new LineFramer({ delimiter: "\n", maxLineLength, encoding: "utf8" });
    const chunk = new Uint8Array(4096);
    let seed = 12345;
    const total = 10 * 1024 * 1024;
    const rssBefore = process.memoryUsage().rss;
    let emitted = 0;
    let maxBuffered = 0;
    for (let sent = 0; sent < total; sent += chunk.length) {
      for (let i = 0; i < chunk.length; i += 1) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        const byte = seed >>> 24;
        chunk[i] = byte === 0x0a ? 0x0b : byte; // anything but the delimiter
      }
      emitted += framer.push(chunk).length;
      maxBuffered = Math.max(maxBuffered, framer.bufferedBytes());
    }
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    expect(emitted).toBe(0);
    expect(maxBuffered).toBeLessThanOrEqual(maxLineLength);
    expect(framer.stats().discardedBytes).toBeGreaterThan(total - maxLineLength - 1);
    expect(framer.stats().discardedOverlong).toBe(1);
    expect(rssGrowth).toBeLessThan(50 * 1024 * 1024); // sanity bound; the exact bound is maxBuffered
    // and the framer recovers at the next delimiter
    expect(framer.push(bytes("\nok\n"))).toEqual(["ok"]);
  });

  it("decodes invalid UTF-8 with replacement characters instead of throwing", () => {
    const framer = new LineFramer({ delimiter: "\n", maxLineLength: 64, encoding: "utf8" });
    const line = new Uint8Array([0x54, 0x3d, 0xc3, 0x28, 0xff, 0xe2, 0x82, 0x0a]);
    expect(framer.push(line)).toEqual(["T=\uFFFD(\uFFFD\uFFFD"]);
  });

  it("ascii turns bytes above 0x7F into U+FFFD rather than stripping the high bit", () => {
    const framer = new LineFramer({ delimiter: "\n", maxLineLength: 64, encoding: "ascii" });
    expect(framer.push(new Uint8Array([0x31, 0xb2, 0x0a]))).toEqual(["1\uFFFD"]);
    const latin = new LineFramer({ delimiter: "\n", maxLineLength: 64, encoding: "latin1" });
    expect(latin.push(new Uint8Array([0x32, 0x30, 0xb0, 0x43, 0x0a]))).toEqual(["20°C"]);
  });

  it("reset() drops the partial line a reopen may start in, and counts it", () => {
    const framer = new LineFramer({ delimiter: "\n", maxLineLength: 64, encoding: "utf8" });
    expect(framer.push(bytes("T=1"))).toEqual([]);
    framer.reset();
    expect(framer.bufferedBytes()).toBe(0);
    expect(framer.push(bytes(".5\nT=2\n"))).toEqual(["T=2"]);
    expect(framer.stats()).toMatchObject({ lines: 1, discardedPartial: 1, discardedBytes: 2 });
  });

  it("never throws on arbitrary bytes and chunkings (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        const framer = new LineFramer({ delimiter: "\r\n", maxLineLength: 16, encoding: "utf8" });
        for (const chunk of chunks) {
          framer.push(chunk);
          expect(framer.bufferedBytes()).toBeLessThanOrEqual(16);
        }
      }),
    );
  });
});
