/**
 * Splits a Modbus TCP byte stream into MBAP frames and matches each to its outstanding read by
 * transaction id (issue #4, FAULTS 8.3 "transaction-id mismatch", "late reply after a
 * timeout"). Pure: the caller owns the socket and the timers. push() never throws.
 *
 * MBAP header (Modbus Messaging on TCP/IP v1.0b §3.1.3): transaction id (2), protocol id (2,
 * always 0), length (2, counting the unit id and the PDU), unit id (1). The PDU is at most 253
 * bytes (Application Protocol v1.1b3 §4.1), so a length outside 2..254 or a non-zero protocol id
 * means the stream is out of step; TCP gives no way to find the next frame boundary, so the
 * framer reports "resyncNeeded" once and drops everything until reset() after a reconnect.
 *
 * Matching. A frame whose transaction id is not outstanding (never sent, or abandoned on a
 * timeout) is dropped and counted, so a late reply is never taken for another request. A frame
 * with an outstanding id settles that request: ok, exception, or invalid when the unit, fc or
 * byte count disagree with it (decodeReadResponse). Residual risk: ids wrap at 65536, so a reply
 * more than 65535 requests late on one connection could match a reused id; the scheduler should
 * reconnect rather than keep a connection whose replies keep arriving late.
 */

import { type ReadRequest, readRequestProblems } from "./readRequest.js";
import { decodeReadResponse, type ReadOutcome } from "./readResponse.js";

export const MBAP_HEADER_BYTES = 7;
/** §3.1.3 length field: unit id plus a PDU of 1..253 bytes. */
export const MIN_MBAP_LENGTH = 2;
export const MAX_MBAP_LENGTH = 254;
export const TCP_BUFFER_BYTES = 512;

export interface MbapFrame {
  readonly transactionId: number;
  readonly unitId: number;
  /** Function code onward. */
  readonly pdu: Uint8Array;
}

export type TcpFramerEvent =
  | {
      readonly type: "response";
      readonly transactionId: number;
      readonly request: ReadRequest;
      readonly outcome: ReadOutcome;
    }
  /** No outstanding request has this transaction id: a late (timed-out) or unknown reply, dropped. */
  | { readonly type: "unmatched"; readonly frame: MbapFrame }
  /** The stream is corrupt: drop the connection, reconnect, then reset(). */
  | { readonly type: "resyncNeeded"; readonly reason: string };

export interface TcpFramerStats {
  readonly bytesIn: number;
  readonly frames: number;
  readonly responses: number;
  /** Replies whose transaction id was not outstanding (late after a timeout, or unknown). */
  readonly unmatchedReplies: number;
  readonly resyncs: number;
  /** Bytes thrown away because the stream was corrupt (the bad header and all that followed). */
  readonly discardedBytes: number;
}

type MutableStats = { -readonly [K in keyof TcpFramerStats]: number };

export class TcpResponseFramer {
  private readonly buffer = new Uint8Array(TCP_BUFFER_BYTES);
  private length = 0;
  private corrupt = false;
  private readonly outstanding = new Map<number, ReadRequest>();
  private readonly counters: MutableStats = {
    bytesIn: 0,
    frames: 0,
    responses: 0,
    unmatchedReplies: 0,
    resyncs: 0,
    discardedBytes: 0,
  };

  /** `request` was sent with `transactionId`. Throws only on an invalid request or id. */
  expect(request: ReadRequest, transactionId: number): void {
    const problems = readRequestProblems(request, "tcp");
    if (!Number.isInteger(transactionId) || transactionId < 0 || transactionId > 0xffff) {
      problems.push(`transaction id ${transactionId} outside 0..65535`);
    }
    if (problems.length > 0) {
      throw new RangeError(`invalid Modbus TCP read: ${problems.join("; ")}`);
    }
    this.outstanding.set(transactionId, request);
  }

  /** The request timed out: its reply, if it ever comes, is dropped as unmatched. */
  abandon(transactionId: number): void {
    this.outstanding.delete(transactionId);
  }

  /** After a reconnect: nothing is outstanding and the stream starts afresh. */
  reset(): void {
    this.outstanding.clear();
    this.length = 0;
    this.corrupt = false;
  }

  get outstandingTransactionIds(): number[] {
    return [...this.outstanding.keys()];
  }

  get bufferedBytes(): number {
    return this.length;
  }

  get stats(): TcpFramerStats {
    return { ...this.counters };
  }

  push(chunk: Uint8Array): TcpFramerEvent[] {
    const events: TcpFramerEvent[] = [];
    this.counters.bytesIn += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.corrupt) {
        this.counters.discardedBytes += chunk.length - offset;
        break;
      }
      // A frame is at most 260 bytes and complete ones are taken out below, so this always fits.
      const take = Math.min(chunk.length - offset, TCP_BUFFER_BYTES - this.length);
      this.buffer.set(chunk.subarray(offset, offset + take), this.length);
      this.length += take;
      offset += take;
      this.extractFrames(events);
    }
    return events;
  }

  /** Settles the outstanding request `frame` answers, or reports it unmatched. */
  match(frame: MbapFrame): TcpFramerEvent {
    const request = this.outstanding.get(frame.transactionId);
    if (request === undefined) {
      this.counters.unmatchedReplies++;
      return { type: "unmatched", frame };
    }
    this.outstanding.delete(frame.transactionId);
    this.counters.responses++;
    const outcome = decodeReadResponse(request, frame.unitId, frame.pdu);
    return { type: "response", transactionId: frame.transactionId, request, outcome };
  }

  private extractFrames(events: TcpFramerEvent[]): void {
    while (this.length >= MBAP_HEADER_BYTES) {
      const b = this.buffer;
      const protocolId = ((b[2] ?? 0) << 8) | (b[3] ?? 0);
      const lengthField = ((b[4] ?? 0) << 8) | (b[5] ?? 0);
      if (protocolId !== 0 || lengthField < MIN_MBAP_LENGTH || lengthField > MAX_MBAP_LENGTH) {
        this.counters.resyncs++;
        this.counters.discardedBytes += this.length;
        this.length = 0;
        this.corrupt = true;
        events.push({
          type: "resyncNeeded",
          reason: `MBAP header with protocol id ${protocolId} and length ${lengthField} (expected 0 and ${MIN_MBAP_LENGTH}..${MAX_MBAP_LENGTH})`,
        });
        return;
      }
      const frameLength = 6 + lengthField;
      if (this.length < frameLength) {
        return;
      }
      const frame: MbapFrame = {
        transactionId: ((b[0] ?? 0) << 8) | (b[1] ?? 0),
        unitId: b[6] ?? 0,
        pdu: b.slice(MBAP_HEADER_BYTES, frameLength),
      };
      this.buffer.copyWithin(0, frameLength, this.length);
      this.length -= frameLength;
      this.counters.frames++;
      events.push(this.match(frame));
    }
  }
}
