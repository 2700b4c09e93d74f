/**
 * The contract between the bus scheduler and a Modbus transport (issue #4 item 3). A link is one
 * physical path to one or more units: a TCP connection to a device or a TCP gateway (MBAP
 * framing), an RS-485 port (RTU framing), or a serial server reached over TCP (RTU framing over
 * a socket). Links own the connection, its reconnect backoff, the framing and the matching of a
 * reply to its request; the scheduler owns fairness, retries and the circuit breaker.
 *
 * Rules every link keeps:
 * - The caller sends one request at a time per link (the bus scheduler guarantees it); a link
 *   may assert it.
 * - read() never rejects for a wire fault: timeouts, exceptions, garbage and a lost connection
 *   are results, so a failed read marks its tags bad and polling goes on (FAULTS 8.3).
 * - A reply that arrives after its request timed out is never taken for a later request.
 * - read() never waits for a reconnect backoff to end: while the link is backing off it answers
 *   "disconnected" at once, so units on other links keep their schedule. While a connection
 *   attempt is in progress it waits for it, within the read's timeout.
 * - Only read function codes 01-04 reach the wire (frames/readRequest.ts enforces it).
 */
import type { ReadRequest } from "../frames/readRequest.js";
import type { ReadOutcome } from "../frames/readResponse.js";

export type LinkReadResult =
  /** ok (registers or bits), exception (code, name), or invalid (a reply that does not answer the request). */
  | ReadOutcome
  /** No valid reply within the timeout. `crcErrors` > 0: a reply came but failed its CRC (RTU). */
  | { readonly kind: "timeout"; readonly crcErrors: number }
  /** Not connected (port absent or busy, connection refused or reset); the reason names which. */
  | { readonly kind: "disconnected"; readonly reason: string };

export type LinkState = "idle" | "connecting" | "connected" | "backoff" | "stopped";

export interface LinkStats {
  readonly requests: number;
  readonly responses: number;
  readonly timeouts: number;
  readonly crcErrors: number;
  /** Replies dropped because their request had timed out or was never sent. */
  readonly lateOrUnmatched: number;
  readonly invalidReplies: number;
  readonly connects: number;
  readonly disconnects: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

export interface ReadOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface ModbusLink {
  /** Stable key of the physical path, e.g. "tcp://10.0.0.5:502" or "serial:/dev/ttyUSB0". */
  readonly key: string;
  readonly state: LinkState;
  /** Why the link is not connected (last error), for status and quality reasons. */
  readonly lastError: string | undefined;
  /** Starts connecting in the background; resolves without waiting for the connection. */
  start(signal: AbortSignal): Promise<void>;
  /** Closes the connection and stops reconnecting; an in-flight read resolves "disconnected". */
  stop(): Promise<void>;
  read(request: ReadRequest, options: ReadOptions): Promise<LinkReadResult>;
  /**
   * The scheduler has finished a poll and has nothing queued for this link. A TCP link whose
   * device allows one client at a time (keepConnectionOpen: false) closes now and reconnects on
   * the next read; other links ignore it.
   */
  idle(): void;
  stats(): LinkStats;
  /**
   * Serial lines only: a streak of garbled replies and the setting it points to (FAULTS 8.4
   * "wrong baud or parity → health warning naming the likely misconfig").
   */
  lineHealth?(): { readonly crcErrorStreak: number; readonly suspectMisconfig?: string | undefined };
}
