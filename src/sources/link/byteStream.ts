/**
 * Byte streams under the southbound protocols (issue #4 items 3 and 5): a TCP socket or a serial
 * port, opened by a Connector and kept open by a ManagedStream that reconnects with exponential
 * backoff and jitter. Modbus links (TCP/MBAP, RTU over a port or a socket) and serial-line
 * sensors all sit on one ManagedStream each, so reconnect behaviour is written once.
 */

export interface ByteStreamHandlers {
  onData(bytes: Uint8Array): void;
  /** The stream closed or failed (unplugged: ENXIO/EIO, reset, EOF). Called at most once. */
  onClose(reason: string): void;
}

export interface ByteStream {
  /** Resolves when the bytes are handed to the OS (a serial port: after drain). */
  write(bytes: Uint8Array): Promise<void>;
  /** Discards input the OS holds but we have not read (serial: tcflush TCIFLUSH); TCP: no-op. */
  discardInput(): Promise<void>;
  /** Closes; onClose is not called for a close we asked for. */
  close(): Promise<void>;
}

/**
 * Opens one connection. Rejects with an Error whose message a technician can act on, e.g.
 * "connect ECONNREFUSED 10.0.0.5:502", "/dev/ttyUSB0 is absent", "/dev/ttyUSB0 is locked by
 * another process". Honours the signal (aborts a pending open).
 */
export type Connector = (handlers: ByteStreamHandlers, signal: AbortSignal) => Promise<ByteStream>;

export type StreamState = "idle" | "connecting" | "connected" | "backoff" | "stopped";

export interface BackoffOptions {
  /** First retry delay after a failed connect or a lost connection. */
  readonly initialDelayMs: number;
  /** Cap; delays double up to it, each with full jitter in [delay/2, delay]. */
  readonly maxDelayMs: number;
}

/**
 * A connection kept open across failures (implemented by reconnectingStream.ts).
 * - start(): begins connecting in the background; never throws for a connect failure.
 * - Failures and closes move to "backoff", then retry; a successful connect that stays up
 *   resets the delay to initialDelayMs.
 * - whenConnected(): true at once if connected; waits while a connect attempt is in progress
 *   (bounded by timeoutMs and the signal); false at once in "backoff", "stopped" or "idle" with
 *   nothing to do. In "idle" after release() it starts a connect attempt and waits for it.
 * - drop(reason): closes the current connection (framing out of step, silent unplug detected)
 *   and reconnects after the backoff delay.
 * - release(): closes without reconnecting; the next whenConnected() reconnects
 *   (Modbus TCP keepConnectionOpen: false).
 */
export interface ManagedStream {
  readonly state: StreamState;
  readonly lastError: string | undefined;
  readonly connects: number;
  readonly disconnects: number;
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  whenConnected(timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /** Throws if not connected. */
  write(bytes: Uint8Array): Promise<void>;
  discardInput(): Promise<void>;
  drop(reason: string): void;
  release(): void;
  /** Data of the current connection; set once before start(). */
  onData(handler: (bytes: Uint8Array) => void): void;
  /** Every state change, with the reason when it is a failure. */
  onStateChange(handler: (state: StreamState, reason: string | undefined) => void): void;
}
