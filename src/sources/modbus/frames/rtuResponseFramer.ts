/**
 * Finds the reply to the one outstanding RTU read in a noisy serial byte stream (issue #4,
 * FAULTS 8.3: CRC error, late reply after a timeout, partial or garbled frames, junk before or
 * after, wrong unit/fc/byte count, RS-485 local echo). Pure: the caller feeds bytes and tells it
 * which request is outstanding; timers live in the scheduler. push() never throws.
 *
 * RTU has no length field and the t1.5/t3.5 silences (serial line v1.02 §2.5.1.1) are lost by
 * the time bytes reach Node, so frames are found by content: for the outstanding request a reply
 * is unit, fc, byte count = expected, data, CRC (§6.1-6.4) or unit, fc | 0x80, code, CRC (§7),
 * and its CRC (§2.5.1.2) must hold. Every offset of the buffer is tried, so junk before a frame
 * is skipped and a CRC failure resyncs by dropping one byte.
 *
 * Late replies. Bytes that arrive while nothing is outstanding (after abandon() on a timeout,
 * or after the reply was found) are dropped and counted as unsolicited, so a late reply is
 * never taken for the next request. A late reply that arrives after the next request was sent
 * is rejected when unit, fc or byte count differ, and by the CRC if it is cut. Residual risk: a
 * complete late reply from the same unit with the same fc and quantity is indistinguishable
 * from the real one. The scheduler must flush (abandon) after a timeout and wait the t3.5
 * silence plus a margin before sending the next request to that bus (FAULTS 8.3 "flush before
 * send").
 *
 * Bounded memory. When no complete reply is in the buffer, every byte before the first offset
 * that could still start one is dropped, so at most one incomplete candidate (under
 * MAX_RTU_FRAME_BYTES) is kept; input is taken in slices that fit, so the buffer never exceeds
 * RTU_BUFFER_BYTES, whatever is pushed.
 */
import { hasValidCrc } from "./crc16.js";
import { encodeRtuRequest, expectedByteCount, type ReadRequest } from "./readRequest.js";
import { decodeReadResponse, type ReadOutcome } from "./readResponse.js";

/** Unit, fc, byte count, at most 255 data bytes, CRC (serial line v1.02 §2.5.1: 256-byte ADU cap). */
export const MAX_RTU_FRAME_BYTES = 260;
export const RTU_BUFFER_BYTES = 512;

export type RtuFramerEvent =
  /** The reply to the outstanding request; the request is no longer outstanding. */
  | {
      readonly type: "response";
      readonly request: ReadRequest;
      readonly frame: Uint8Array;
      readonly outcome: ReadOutcome;
    }
  /** A frame with a valid CRC that does not answer the outstanding request (wrong unit, fc or count). */
  | { readonly type: "rejected"; readonly frame: Uint8Array; readonly reason: string };

export interface RtuFramerStats {
  readonly bytesIn: number;
  /** Bytes skipped while a request was outstanding (noise, garbled frames, CRC-failed starts). */
  readonly junkBytes: number;
  /** Bytes that arrived, or were still buffered, while nothing was outstanding: late replies, trailing junk. */
  readonly unsolicitedBytes: number;
  readonly echoBytes: number;
  /** Candidate replies (right unit, fc and length) whose CRC failed. */
  readonly crcErrors: number;
  readonly rejectedFrames: number;
  readonly rejectedBytes: number;
  readonly responses: number;
  readonly responseBytes: number;
}

interface Outstanding {
  readonly request: ReadRequest;
  readonly exceptionCode: number;
  readonly expectedCount: number;
  readonly replyLength: number;
  /** The request bytes an RS-485 adapter echoes back before the reply, while still expected. */
  echo: Uint8Array | undefined;
}

type MutableStats = { -readonly [K in keyof RtuFramerStats]: number };

export class RtuResponseFramer {
  private readonly buffer = new Uint8Array(RTU_BUFFER_BYTES);
  private length = 0;
  private outstanding: Outstanding | undefined;
  private readonly counters: MutableStats = {
    bytesIn: 0,
    junkBytes: 0,
    unsolicitedBytes: 0,
    echoBytes: 0,
    crcErrors: 0,
    rejectedFrames: 0,
    rejectedBytes: 0,
    responses: 0,
    responseBytes: 0,
  };

  /**
   * Starts waiting for the reply to `request`, just sent. With echo, the adapter is known to echo
   * the request (RS-485 without receiver disable, FAULTS 8.3) and those 8 bytes are skipped
   * first. Anything still buffered from before is unsolicited. Throws only on an invalid request.
   */
  expect(request: ReadRequest, options: { readonly echo: boolean } = { echo: false }): void {
    const echo = encodeRtuRequest(request);
    this.abandon();
    const expectedCount = expectedByteCount(request);
    this.outstanding = {
      request,
      exceptionCode: request.functionCode | 0x80,
      expectedCount,
      replyLength: 5 + expectedCount,
      echo: options.echo ? echo : undefined,
    };
  }

  /** The request timed out: forget it and drop what is buffered, so a late reply cannot match later. */
  abandon(): void {
    this.outstanding = undefined;
    this.counters.unsolicitedBytes += this.length;
    this.length = 0;
  }

  get isWaiting(): boolean {
    return this.outstanding !== undefined;
  }

  get bufferedBytes(): number {
    return this.length;
  }

  get stats(): RtuFramerStats {
    return { ...this.counters };
  }

  push(chunk: Uint8Array): RtuFramerEvent[] {
    const events: RtuFramerEvent[] = [];
    this.counters.bytesIn += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.outstanding === undefined) {
        this.counters.unsolicitedBytes += chunk.length - offset;
        break;
      }
      const take = Math.min(chunk.length - offset, RTU_BUFFER_BYTES - this.length);
      this.buffer.set(chunk.subarray(offset, offset + take), this.length);
      this.length += take;
      offset += take;
      this.scan(events);
    }
    return events;
  }

  private scan(events: RtuFramerEvent[]): void {
    while (this.outstanding !== undefined && this.length > 0) {
      const wanted = this.outstanding;
      if (wanted.echo !== undefined && !this.skipEcho(wanted, wanted.echo)) {
        return;
      }
      const replyAt = this.findReply(wanted);
      if (replyAt >= 0) {
        this.takeReply(wanted, replyAt, events);
        return;
      }
      if (!this.dropUntilCandidate(wanted, events)) {
        return;
      }
    }
  }

  /** Returns false while the buffer is a strict prefix of the echo (wait for more). */
  private skipEcho(wanted: Outstanding, echo: Uint8Array): boolean {
    const n = Math.min(this.length, echo.length);
    for (let i = 0; i < n; i++) {
      if (this.buffer[i] !== echo[i]) {
        // No echo, or a garbled one: its bytes are skipped as junk by the normal search.
        wanted.echo = undefined;
        return true;
      }
    }
    if (n < echo.length) {
      return false;
    }
    this.consume(echo.length);
    this.counters.echoBytes += echo.length;
    wanted.echo = undefined;
    return true;
  }

  /** Length of the reply to `wanted` that could start at `at` (0 when the header rules it out). */
  private replyLengthAt(wanted: Outstanding, at: number): number {
    if (this.buffer[at] !== wanted.request.unitId) {
      return 0;
    }
    const functionCode = this.buffer[at + 1];
    if (functionCode === wanted.exceptionCode) {
      return 5;
    }
    if (functionCode === wanted.request.functionCode && this.buffer[at + 2] === wanted.expectedCount) {
      return wanted.replyLength;
    }
    return 0;
  }

  /** True when bytes from `at` to the end are an incomplete but still possible reply. */
  private couldStartReply(wanted: Outstanding, at: number): boolean {
    if (this.buffer[at] !== wanted.request.unitId) {
      return false;
    }
    if (at + 1 >= this.length) {
      return true;
    }
    const functionCode = this.buffer[at + 1];
    if (functionCode === wanted.request.functionCode && at + 2 >= this.length) {
      return true;
    }
    const length = this.replyLengthAt(wanted, at);
    return length > 0 && at + length > this.length;
  }

  private findReply(wanted: Outstanding): number {
    for (let at = 0; at < this.length; at++) {
      const length = this.replyLengthAt(wanted, at);
      if (length > 0 && at + length <= this.length && hasValidCrc(this.buffer, at, at + length)) {
        return at;
      }
    }
    return -1;
  }

  private takeReply(wanted: Outstanding, at: number, events: RtuFramerEvent[]): void {
    const length = this.replyLengthAt(wanted, at);
    const frame = this.buffer.slice(at, at + length);
    this.counters.junkBytes += at;
    this.counters.responses++;
    this.counters.responseBytes += length;
    this.consume(at + length);
    const outcome = decodeReadResponse(wanted.request, frame[0] ?? -1, frame.subarray(1, length - 2));
    events.push({ type: "response", request: wanted.request, frame, outcome });
    // Whatever follows the reply in the buffer cannot belong to a request not yet sent.
    this.abandon();
  }

  /**
   * With no complete reply buffered, drops bytes from the front up to the first offset that
   * could still start one, reporting CRC failures and foreign frames on the way. Returns true
   * when a foreign frame was taken out (the caller scans again).
   */
  private dropUntilCandidate(wanted: Outstanding, events: RtuFramerEvent[]): boolean {
    let at = 0;
    while (at < this.length && !this.couldStartReply(wanted, at)) {
      const foreignLength = this.foreignFrameLengthAt(wanted, at);
      if (foreignLength > 0) {
        const frame = this.buffer.slice(at, at + foreignLength);
        const outcome = decodeReadResponse(
          wanted.request,
          frame[0] ?? -1,
          frame.subarray(1, foreignLength - 2),
        );
        const reason = outcome.kind === "invalid" ? outcome.reason : "frame does not answer the request";
        this.counters.junkBytes += at;
        this.counters.rejectedFrames++;
        this.counters.rejectedBytes += foreignLength;
        this.consume(at + foreignLength);
        events.push({ type: "rejected", frame, reason });
        return true;
      }
      if (this.replyLengthAt(wanted, at) > 0) {
        // Right unit, fc and length, all bytes present, yet findReply refused it: CRC error.
        this.counters.crcErrors++;
      }
      at++;
    }
    this.counters.junkBytes += at;
    this.consume(at);
    return false;
  }

  /**
   * A complete response frame with a valid CRC for some unit and read fc (or its exception)
   * at `at`, which does not overlap a possible start of the real reply (so junk that happens
   * to pass the CRC cannot eat the start of it). 0 when there is none.
   */
  private foreignFrameLengthAt(wanted: Outstanding, at: number): number {
    const functionCode = this.buffer[at + 1] ?? 0;
    let length = 0;
    if (functionCode >= 0x81 && functionCode <= 0x84) {
      length = 5;
    } else if (functionCode >= 1 && functionCode <= 4 && at + 2 < this.length) {
      length = 5 + (this.buffer[at + 2] ?? 0);
    }
    if (length === 0 || at + length > this.length || !hasValidCrc(this.buffer, at, at + length)) {
      return 0;
    }
    for (let inside = at + 1; inside < at + length; inside++) {
      if (this.couldStartReply(wanted, inside)) {
        return 0;
      }
    }
    return length;
  }

  private consume(count: number): void {
    this.buffer.copyWithin(0, count, this.length);
    this.length -= count;
  }
}
