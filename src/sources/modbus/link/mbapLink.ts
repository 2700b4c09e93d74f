/**
 * Modbus TCP link (MBAP framing, Messaging on TCP/IP v1.0b §3.1.3) to one device or one TCP-to-RTU
 * gateway: every unit id behind the endpoint shares this link and its connection (issue #4 item 3;
 * the scheduler keys links by `tcp://host:port`).
 *
 * One request at a time (modbusLink.ts): the scheduler guarantees it and read() asserts it. Each
 * request carries a fresh transaction id (mod 65536) and TcpResponseFramer matches the reply by
 * it, then checks unit, function code and byte count (FAULTS 8.3 "transaction-id mismatch", "wrong
 * unit id, wrong fc, byte count"). On a timeout the id is abandoned, so a late reply is counted as
 * lateOrUnmatched and never taken for the next request (FAULTS 8.3 "late reply after a timeout").
 * A corrupt MBAP header leaves no way to find the next frame on a TCP stream: the connection is
 * dropped and reopened after the backoff (FAULTS 8.3 "reconnect with backoff").
 *
 * Decisions where the contract is silent:
 * - A reply that settles the read as invalid (wrong unit, fc, byte count) counts in both
 *   `responses` and `invalidReplies`; a corrupt header that forces a resync resolves the read in
 *   flight as invalid and counts in `invalidReplies` only.
 * - `timeoutMs` in the options is the device's reply timeout; the connect timeout is the larger of
 *   it and 3 s, since opening a connection over a slow site network may take longer than a reply.
 * - A read whose signal aborts resolves "disconnected" with reason "read aborted".
 */
import type { BackoffOptions, ManagedStream, StreamState } from "../../link/byteStream.js";
import { ReconnectingStream } from "../../link/reconnectingStream.js";
import { DEFAULT_CONNECT_TIMEOUT_MS, hostPort, tcpConnector } from "../../link/tcpConnector.js";
import { encodeTcpRequest, type ReadRequest, readRequestProblems } from "../frames/readRequest.js";
import { TcpResponseFramer } from "../frames/tcpResponseFramer.js";
import type { LinkReadResult, LinkState, LinkStats, ModbusLink, ReadOptions } from "./modbusLink.js";

export interface MbapLinkOptions {
  readonly host: string;
  readonly port: number;
  /** The device's reply timeout; also the floor of the connect timeout (at least 3 s). */
  readonly timeoutMs?: number;
  /** false: close after each poll (idle()), for devices that allow one client at a time. */
  readonly keepConnectionOpen: boolean;
  readonly pauseAfterConnectMs: number;
  readonly reconnect: BackoffOptions;
}

export interface MbapLinkDeps {
  /** Default: a ReconnectingStream over tcpConnector(host, port). */
  readonly stream?: ManagedStream;
  readonly monotonicNow?: () => number;
}

interface PendingRead {
  readonly transactionId: number;
  settle(result: LinkReadResult): void;
}

type Counters = {
  -readonly [K in Exclude<keyof LinkStats, "connects" | "disconnects" | "crcErrors">]: number;
};

export class MbapLink implements ModbusLink {
  readonly key: string;
  readonly #stream: ManagedStream;
  readonly #keepOpen: boolean;
  readonly #now: () => number;
  readonly #framer = new TcpResponseFramer();
  readonly #counters: Counters = {
    requests: 0,
    responses: 0,
    timeouts: 0,
    lateOrUnmatched: 0,
    invalidReplies: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
  #nextTransactionId = 0;
  #inFlight = false;
  #pending: PendingRead | undefined;
  #stopping = false;

  constructor(options: MbapLinkOptions, deps: MbapLinkDeps = {}) {
    this.key = `tcp://${hostPort(options.host, options.port)}`;
    this.#keepOpen = options.keepConnectionOpen;
    this.#now = deps.monotonicNow ?? (() => performance.now());
    this.#stream =
      deps.stream ??
      new ReconnectingStream(
        tcpConnector(options.host, options.port, {
          connectTimeoutMs: Math.max(options.timeoutMs ?? 0, DEFAULT_CONNECT_TIMEOUT_MS),
        }),
        { ...options.reconnect, pauseAfterConnectMs: options.pauseAfterConnectMs },
        { monotonicNow: this.#now },
      );
    this.#stream.onData((bytes) => this.#onData(bytes));
    this.#stream.onStateChange((state, reason) => this.#onStateChange(state, reason));
  }

  get state(): LinkState {
    return this.#stream.state;
  }

  get lastError(): string | undefined {
    return this.#stream.lastError;
  }

  start(signal: AbortSignal): Promise<void> {
    return this.#stream.start(signal);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#settlePending({ kind: "disconnected", reason: "link stopped" });
    await this.#stream.stop();
  }

  async read(request: ReadRequest, options: ReadOptions): Promise<LinkReadResult> {
    if (this.#inFlight) {
      throw new Error(`${this.key}: read() while another read is in flight (one request at a time per link)`);
    }
    const problems = readRequestProblems(request, "tcp");
    if (problems.length > 0) {
      throw new RangeError(`${this.key}: invalid Modbus read request: ${problems.join("; ")}`);
    }
    this.#inFlight = true;
    try {
      return await this.#exchange(request, options);
    } finally {
      this.#inFlight = false;
    }
  }

  idle(): void {
    if (!this.#keepOpen && !this.#inFlight) {
      this.#stream.release();
    }
  }

  stats(): LinkStats {
    return {
      ...this.#counters,
      crcErrors: 0,
      connects: this.#stream.connects,
      disconnects: this.#stream.disconnects,
    };
  }

  async #exchange(request: ReadRequest, { timeoutMs, signal }: ReadOptions): Promise<LinkReadResult> {
    if (this.#stopping || this.#stream.state === "stopped") {
      return { kind: "disconnected", reason: "link stopped" };
    }
    const startedAt = this.#now();
    const connected = await this.#stream.whenConnected(timeoutMs, signal);
    if (!connected) {
      return { kind: "disconnected", reason: this.#notConnectedReason(timeoutMs, signal) };
    }
    const remainingMs = timeoutMs - (this.#now() - startedAt);
    if (remainingMs <= 0) {
      return { kind: "disconnected", reason: `connecting took the whole ${timeoutMs} ms timeout` };
    }
    const transactionId = this.#nextTransactionId;
    this.#nextTransactionId = (transactionId + 1) & 0xffff;
    const adu = encodeTcpRequest(request, transactionId);
    this.#framer.expect(request, transactionId);
    const reply = this.#awaitReply(transactionId, remainingMs, signal);
    this.#counters.requests++;
    try {
      await this.#stream.write(adu);
      this.#counters.bytesOut += adu.length;
    } catch (error) {
      // A failed write means the connection is gone even if its close has not been seen yet:
      // drop it, so lastError says why and the reconnect starts now.
      const reason = error instanceof Error ? error.message : String(error);
      this.#settlePending({ kind: "disconnected", reason });
      this.#stream.drop(reason);
    }
    return reply;
  }

  /** Registered before the write, so a reply that beats the write's callback still matches. */
  #awaitReply(
    transactionId: number,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<LinkReadResult> {
    return new Promise<LinkReadResult>((resolve) => {
      const onAbort = (): void => this.#settlePending({ kind: "disconnected", reason: "read aborted" });
      const timer = setTimeout(() => {
        this.#counters.timeouts++;
        this.#settlePending({ kind: "timeout", crcErrors: 0 });
      }, timeoutMs);
      this.#pending = {
        transactionId,
        settle: (result) => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          this.#pending = undefined;
          // Whatever ended the wait, a reply to this id from now on is late: never taken later.
          this.#framer.abandon(transactionId);
          resolve(result);
        },
      };
      if (signal?.aborted === true) {
        onAbort();
      } else {
        signal?.addEventListener("abort", onAbort, { once: true });
      }
    });
  }

  #settlePending(result: LinkReadResult): void {
    this.#pending?.settle(result);
  }

  #onData(bytes: Uint8Array): void {
    this.#counters.bytesIn += bytes.length;
    for (const event of this.#framer.push(bytes)) {
      switch (event.type) {
        case "response":
          this.#counters.responses++;
          if (event.outcome.kind === "invalid") {
            this.#counters.invalidReplies++;
          }
          if (this.#pending?.transactionId === event.transactionId) {
            this.#settlePending(event.outcome);
          }
          break;
        case "unmatched":
          this.#counters.lateOrUnmatched++;
          break;
        case "resyncNeeded": {
          const reason = `Modbus TCP stream out of step (${event.reason}); reconnecting`;
          if (this.#pending !== undefined) {
            this.#counters.invalidReplies++;
            this.#settlePending({ kind: "invalid", reason });
          }
          this.#stream.drop(reason);
          break;
        }
      }
    }
  }

  #onStateChange(state: StreamState, reason: string | undefined): void {
    if (state === "connected") {
      // A new connection: nothing sent on it yet, and no bytes of the old one belong here.
      this.#framer.reset();
      return;
    }
    if (this.#pending !== undefined) {
      const why = reason ?? this.#stream.lastError ?? `connection ${state}`;
      this.#settlePending({ kind: "disconnected", reason: this.#stopping ? "link stopped" : why });
    }
  }

  #notConnectedReason(timeoutMs: number, signal: AbortSignal | undefined): string {
    if (signal?.aborted === true) {
      return "read aborted";
    }
    const state = this.#stream.state;
    if (state === "connecting") {
      return `not connected to ${this.key} within ${timeoutMs} ms`;
    }
    if (state === "stopped") {
      return "link stopped";
    }
    return this.#stream.lastError ?? `not connected (${state})`;
  }
}
