/**
 * A Modbus RTU link (issue #4 item 3): every unit on one RS-485 bus, or behind one serial server
 * reached over TCP (RTU framing in a socket), served strictly one request at a time over one
 * ManagedStream. The bus scheduler owns fairness and retries; this class owns the line
 * discipline:
 *
 * - Inter-frame silence (Modbus over serial line v1.02 §2.5.1.1): before each request the line
 *   must have been quiet for t3.5 (3.5 character times; a character is 1 start bit, the data
 *   bits, 0 or 1 parity bit and the stop bits) plus the configured turnaround delay, counted from
 *   the last byte received or sent. Above 19200 baud t3.5 is fixed at 1.75 ms (same clause).
 *   Over TCP with no serial-server baud configured, the high-speed value applies.
 * - Flush before send (FAULTS 8.3 "CRC error ... next request after a flush", "late reply"): the
 *   OS input buffer is discarded just before the request goes out.
 * - Late replies (FAULTS 8.3): after a timeout the framer forgets the request (abandon), and the
 *   next request waits, besides the silence, a late-reply guard (default min(timeout, 250 ms))
 *   in which a reply that is only a little late arrives, is counted as unsolicited, and is
 *   flushed. Without the guard a late reply from the same unit with the same fc and quantity
 *   would be indistinguishable from the next request's reply (see rtuResponseFramer.ts).
 * - Frames with a valid CRC that do not answer the request (wrong unit, fc or byte count) are
 *   counted as invalid replies and the read keeps waiting until its timeout: on a shared bus they
 *   are a stale reply or the traffic of another master, and the real reply may still follow.
 *   CRC errors are counted and reported in the timeout result.
 * - Inter-character gaps longer than t1.5 are not treated as the end of a frame: Node sees the
 *   bytes after USB adapters and the kernel have re-chunked them, so frames are found by content
 *   (unit, fc, length, CRC) instead.
 * - Line health: a streak of reads that get only garbled bytes names the likely misconfiguration
 *   (rtuLineHealth.ts, FAULTS 8.4).
 * - A pending connect is waited for within the read's timeout; in backoff the read answers
 *   "disconnected" at once (modbusLink.ts).
 */
import { setTimeout as delay } from "node:timers/promises";
import type { ManagedStream } from "../../link/byteStream.js";
import { encodeRtuRequest, type ReadRequest } from "../frames/readRequest.js";
import { type RtuFramerEvent, type RtuFramerStats, RtuResponseFramer } from "../frames/rtuResponseFramer.js";
import type { LinkReadResult, LinkState, LinkStats, ModbusLink, ReadOptions } from "./modbusLink.js";
import { type LineHealth, RtuLineHealth } from "./rtuLineHealth.js";
import { describeLine, type RtuLineSettings, t35Ms } from "./rtuTiming.js";

export interface RtuLinkOptions extends RtuLineSettings {
  /** "serial:/dev/serial/by-id/..." or "rtu-over-tcp://host:port". */
  readonly key: string;
  /** Extra silence on top of t3.5 before each request (config turnaroundDelay). */
  readonly turnaroundDelayMs: number;
  /** The RS-485 adapter echoes what it sends; the framer skips the echo. */
  readonly echo: boolean;
  /** false: release the connection when the scheduler goes idle (RTU over TCP). Default true. */
  readonly keepConnectionOpen?: boolean;
  /** Quiet time held after a timeout before the next request; default min(timeout, 250 ms). */
  readonly lateReplyGuardMs?: number;
}

export interface RtuLinkDeps {
  readonly stream: ManagedStream;
  /** Monotonic milliseconds; default performance.now(). */
  readonly monotonicNow?: () => number;
  /** Resolves after `ms`, or early (never rejecting) when `signal` aborts. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const DEFAULT_LATE_REPLY_GUARD_CAP_MS = 250;

async function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal === undefined ? undefined : { signal });
  } catch {
    // Aborted: the caller looks at its own state.
  }
}

/** The read in flight, waiting for its reply. */
interface PendingReply {
  settle(result: LinkReadResult): void;
  sawValidFrame: boolean;
}

type MutableLinkStats = {
  -readonly [K in "requests" | "responses" | "timeouts" | "lateOrUnmatched" | "invalidReplies"]: number;
} & { bytesIn: number; bytesOut: number };

export class RtuLink implements ModbusLink {
  readonly key: string;
  private readonly stream: ManagedStream;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly silenceMs: number;
  private readonly framer = new RtuResponseFramer();
  private readonly health: RtuLineHealth;
  private readonly counters: MutableLinkStats = {
    requests: 0,
    responses: 0,
    timeouts: 0,
    lateOrUnmatched: 0,
    invalidReplies: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
  private busy = false;
  private stopped = false;
  private pending: PendingReply | undefined;
  private lastByteAt = Number.NEGATIVE_INFINITY;
  private lastUnsolicitedAt = Number.NEGATIVE_INFINITY;
  /** Until when the late-reply guard after a timeout holds the bus quiet. */
  private quietUntil = Number.NEGATIVE_INFINITY;
  private readonly stopController = new AbortController();

  constructor(
    private readonly options: RtuLinkOptions,
    deps: RtuLinkDeps,
  ) {
    this.key = options.key;
    this.stream = deps.stream;
    this.now = deps.monotonicNow ?? (() => performance.now());
    this.sleep = deps.sleep ?? defaultSleep;
    this.silenceMs = t35Ms(options) + Math.max(0, options.turnaroundDelayMs);
    this.health = new RtuLineHealth(describeLine(options));
    this.stream.onData((bytes) => this.onData(bytes));
    this.stream.onStateChange((state, reason) => {
      if (state !== "connected") {
        this.settlePending({ kind: "disconnected", reason: reason ?? this.notConnectedReason() });
      }
    });
  }

  get state(): LinkState {
    return this.stream.state;
  }

  get lastError(): string | undefined {
    return this.stream.lastError;
  }

  /** t3.5 plus the turnaround delay: the least silence before each request, in ms. */
  get interFrameSilenceMs(): number {
    return this.silenceMs;
  }

  start(signal: AbortSignal): Promise<void> {
    return this.stream.start(signal);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopController.abort();
    this.settlePending({ kind: "disconnected", reason: `${this.key}: link stopped` });
    await this.stream.stop();
  }

  /** Throws on a concurrent read (a scheduler bug) or an invalid request; wire faults are results. */
  async read(request: ReadRequest, options: ReadOptions): Promise<LinkReadResult> {
    if (this.busy) {
      throw new Error(
        `${this.key}: read() called while another read is in flight; the bus scheduler must send one request at a time`,
      );
    }
    const adu = encodeRtuRequest(request);
    this.busy = true;
    try {
      return await this.exchange(request, adu, options);
    } finally {
      this.busy = false;
    }
  }

  idle(): void {
    if (this.options.keepConnectionOpen === false && !this.busy && !this.stopped) {
      this.stream.release();
    }
  }

  stats(): LinkStats {
    const framer = this.framer.stats;
    return {
      ...this.counters,
      crcErrors: framer.crcErrors,
      connects: this.stream.connects,
      disconnects: this.stream.disconnects,
    };
  }

  lineHealth(): LineHealth {
    return this.health.snapshot();
  }

  /** The framer's byte accounting (junk, echo, unsolicited), for diagnostics. */
  framerStats(): RtuFramerStats {
    return this.framer.stats;
  }

  /** One read under its own abort: the caller's signal or stop(), detached again at the end. */
  private async exchange(
    request: ReadRequest,
    adu: Uint8Array,
    options: ReadOptions,
  ): Promise<LinkReadResult> {
    const abort = new AbortController();
    const onAbort = (): void => abort.abort();
    const sources = [this.stopController.signal, options.signal].filter((s) => s !== undefined);
    for (const source of sources) {
      if (source.aborted) {
        abort.abort();
      }
      source.addEventListener("abort", onAbort, { once: true });
    }
    try {
      return await this.exchangeUnder(request, adu, options.timeoutMs, abort.signal);
    } finally {
      for (const source of sources) {
        source.removeEventListener("abort", onAbort);
      }
      // Ends a reply timer still running after the reply came.
      abort.abort();
    }
  }

  private async exchangeUnder(
    request: ReadRequest,
    adu: Uint8Array,
    timeoutMs: number,
    abort: AbortSignal,
  ): Promise<LinkReadResult> {
    if (abort.aborted) {
      return this.abortedResult();
    }
    if (!(await this.stream.whenConnected(timeoutMs, abort))) {
      return abort.aborted
        ? this.abortedResult()
        : { kind: "disconnected", reason: this.notConnectedReason() };
    }
    const quiet = await this.waitForQuietLine(timeoutMs, abort);
    if (quiet !== undefined) {
      return quiet;
    }
    try {
      await this.stream.discardInput();
      // Bytes the port had already read before the flush are delivered now, while nothing is
      // outstanding, so the framer drops them as unsolicited.
      await new Promise<void>((resolve) => setImmediate(resolve));
    } catch (error) {
      return { kind: "disconnected", reason: `${this.key}: ${errorMessage(error)}` };
    }
    if (this.stream.state !== "connected") {
      return { kind: "disconnected", reason: this.notConnectedReason() };
    }
    this.framer.expect(request, { echo: this.options.echo });
    const before = this.framer.stats;
    const reply = this.waitForReply();
    try {
      await this.stream.write(adu);
    } catch (error) {
      this.settlePending({ kind: "disconnected", reason: `${this.key}: ${errorMessage(error)}` });
      this.framer.abandon();
      return reply;
    }
    this.lastByteAt = this.now();
    this.counters.requests++;
    this.counters.bytesOut += adu.length;
    return this.raceTimeout(reply, timeoutMs, abort, before);
  }

  private abortedResult(): LinkReadResult {
    return { kind: "disconnected", reason: `${this.key}: ${this.stopped ? "link stopped" : "read aborted"}` };
  }

  /**
   * Waits until the line has been quiet for t3.5 + turnaround (and the late-reply guard is over).
   * Bytes that keep arriving push the wait out; a line that is never quiet within `timeoutMs` of
   * the first moment it could have been gets no request and the read times out (noise, a stuck
   * transmitter or another master hogging the bus).
   */
  private async waitForQuietLine(timeoutMs: number, abort: AbortSignal): Promise<LinkReadResult | undefined> {
    const giveUpAt = Math.max(this.lastByteAt + this.silenceMs, this.quietUntil) + timeoutMs;
    const bytesBefore = this.counters.bytesIn;
    for (;;) {
      const quietAt = Math.max(this.lastByteAt + this.silenceMs, this.quietUntil);
      const now = this.now();
      if (now >= quietAt) {
        return undefined;
      }
      if (quietAt > giveUpAt) {
        this.counters.timeouts++;
        this.health.readEndedWithout({ crcErrors: 0, junkBytes: this.counters.bytesIn - bytesBefore });
        return { kind: "timeout", crcErrors: 0 };
      }
      await this.sleep(quietAt - now, abort);
      if (abort.aborted) {
        return this.abortedResult();
      }
    }
  }

  /** Registers the read in flight; onData, a state change or an abort settles it. */
  private waitForReply(): Promise<LinkReadResult> {
    return new Promise<LinkReadResult>((resolve) => {
      const pending: PendingReply = {
        sawValidFrame: false,
        settle: (value) => {
          if (this.pending === pending) {
            this.pending = undefined;
            resolve(value);
          }
        },
      };
      this.pending = pending;
    });
  }

  private async raceTimeout(
    reply: Promise<LinkReadResult>,
    timeoutMs: number,
    abort: AbortSignal,
    before: RtuFramerStats,
  ): Promise<LinkReadResult> {
    const pending = this.pending;
    // Resolves undefined at the timeout, or early when the read is aborted (then the pending
    // reply is settled as aborted first, so the race below returns that).
    const expired = this.sleep(timeoutMs, abort).then(() => {
      if (abort.aborted) {
        pending?.settle(this.abortedResult());
      }
      return undefined;
    });
    const result = await Promise.race([reply, expired]);
    if (result !== undefined) {
      if (result.kind === "disconnected") {
        this.framer.abandon();
      }
      return result;
    }
    if (this.pending !== pending) {
      // Settled in the same turn as the timer fired: take that result.
      return reply;
    }
    // Timed out: forget the request so a late reply is never matched to a later one.
    this.pending = undefined;
    this.framer.abandon();
    this.counters.timeouts++;
    this.quietUntil =
      this.now() + (this.options.lateReplyGuardMs ?? Math.min(timeoutMs, DEFAULT_LATE_REPLY_GUARD_CAP_MS));
    const after = this.framer.stats;
    const crcErrors = after.crcErrors - before.crcErrors;
    if (pending?.sawValidFrame !== true) {
      this.health.readEndedWithout({ crcErrors, junkBytes: after.junkBytes - before.junkBytes });
    }
    return { kind: "timeout", crcErrors };
  }

  private onData(bytes: Uint8Array): void {
    const now = this.now();
    this.lastByteAt = now;
    this.counters.bytesIn += bytes.length;
    if (!this.framer.isWaiting) {
      // One burst of unsolicited bytes (a late reply, trailing junk) counts once.
      if (now - this.lastUnsolicitedAt > this.silenceMs) {
        this.counters.lateOrUnmatched++;
      }
      this.lastUnsolicitedAt = now;
    }
    for (const event of this.framer.push(bytes)) {
      this.onFramerEvent(event);
    }
  }

  private onFramerEvent(event: RtuFramerEvent): void {
    this.health.validFrame();
    if (this.pending !== undefined) {
      this.pending.sawValidFrame = true;
    }
    if (event.type === "rejected") {
      this.counters.invalidReplies++;
      return;
    }
    this.counters.responses++;
    if (event.outcome.kind === "invalid") {
      this.counters.invalidReplies++;
    }
    this.settlePending(event.outcome);
  }

  private settlePending(result: LinkReadResult): void {
    this.pending?.settle(result);
  }

  private notConnectedReason(): string {
    return this.stream.lastError ?? `${this.key} is not connected (${this.stream.state})`;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
