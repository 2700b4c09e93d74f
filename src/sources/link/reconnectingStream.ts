/**
 * A ManagedStream (byteStream.ts): one connection kept open across failures, with exponential
 * backoff and jitter between attempts (issue #4 item 3, FAULTS 8.3 "Modbus TCP: RST ... reconnect
 * with backoff", 8.4 "Replugged: reopens with backoff").
 *
 * Decisions where the contract is silent:
 * - Jitter: each delay is drawn uniformly from [base/2, base], base = initialDelayMs x 2^n capped
 *   at maxDelayMs, n = consecutive failures. Half the base is kept so a fleet of gateways that lost
 *   the same broker or switch still spreads out, yet no retry comes sooner than half the schedule.
 * - Reset: a connection that stayed up for at least initialDelayMs (monotonic clock) before it
 *   closed or was dropped resets n to 0, and so does a release() (the caller finished its work on
 *   that connection). A device that accepts and then closes at once keeps backing off.
 * - pauseAfterConnect (FAULTS 8.3 "needs a pause after connect"): the state stays "connecting"
 *   during the pause, so write() refuses and whenConnected() waits; data that arrives during the
 *   pause is still passed on (the owner's framer decides what it is worth).
 * - connects counts connections that reached "connected"; disconnects counts their ends (lost,
 *   dropped or released), not the close done by stop().
 * - start(signal): start() returns at once, so the signal only matters if it is already aborted
 *   (then start() rejects with its reason and nothing starts). The daemon's start signal includes
 *   a start-up timeout that must not end a running stream later; stop() ends it.
 */
import type {
  BackoffOptions,
  ByteStream,
  ByteStreamHandlers,
  Connector,
  ManagedStream,
  StreamState,
} from "./byteStream.js";

export interface ReconnectingStreamOptions extends BackoffOptions {
  /** Wait after a connection opens before it counts as connected. Default 0. */
  readonly pauseAfterConnectMs?: number;
  /** Uniform [0, 1) source for the jitter; injectable for tests. Default Math.random. */
  readonly random?: () => number;
}

export interface ReconnectingStreamDeps {
  /** Monotonic milliseconds; default performance.now(). */
  readonly monotonicNow?: () => number;
}

/** The backoff delay after `failures` consecutive failures (0 = the first). */
export function backoffDelayMs(failures: number, options: BackoffOptions, random: () => number): number {
  const initial = Math.max(0, options.initialDelayMs);
  const cap = Math.max(initial, options.maxDelayMs);
  // 2^31 x anything sensible is far past any cap; stop doubling before it overflows to Infinity.
  const base = Math.min(cap, initial * 2 ** Math.min(failures, 31));
  const unit = Math.min(Math.max(random(), 0), 1);
  return base / 2 + unit * (base / 2);
}

/** One connection, from the connect attempt to its close. */
interface Attempt {
  readonly abort: AbortController;
  stream: ByteStream | undefined;
  /** The connector reported a close before its promise resolved. */
  closedEarly: string | undefined;
  established: boolean;
  connectedAt: number;
}

interface Waiter {
  settle(connected: boolean): void;
}

type StateHandler = (state: StreamState, reason: string | undefined) => void;

export class ReconnectingStream implements ManagedStream {
  readonly #connector: Connector;
  readonly #backoff: BackoffOptions;
  readonly #pauseMs: number;
  readonly #random: () => number;
  readonly #now: () => number;
  #state: StreamState = "idle";
  #lastError: string | undefined;
  #connects = 0;
  #disconnects = 0;
  #failures = 0;
  #lastDelayMs: number | undefined;
  #started = false;
  /** False after release(): the next backoff end goes idle instead of reconnecting. */
  #wanted = false;
  #attempt: Attempt | undefined;
  #backoffTimer: NodeJS.Timeout | undefined;
  #pauseTimer: NodeJS.Timeout | undefined;
  readonly #waiters = new Set<Waiter>();
  #dataHandler: ((bytes: Uint8Array) => void) | undefined;
  readonly #stateHandlers: StateHandler[] = [];

  constructor(connector: Connector, options: ReconnectingStreamOptions, deps: ReconnectingStreamDeps = {}) {
    if (!(options.initialDelayMs >= 0) || !(options.maxDelayMs >= 0)) {
      throw new RangeError(
        `backoff delays must be >= 0 ms, got ${options.initialDelayMs}/${options.maxDelayMs}`,
      );
    }
    this.#connector = connector;
    this.#backoff = { initialDelayMs: options.initialDelayMs, maxDelayMs: options.maxDelayMs };
    this.#pauseMs = Math.max(0, options.pauseAfterConnectMs ?? 0);
    this.#random = options.random ?? Math.random;
    this.#now = deps.monotonicNow ?? (() => performance.now());
  }

  get state(): StreamState {
    return this.#state;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  get connects(): number {
    return this.#connects;
  }

  get disconnects(): number {
    return this.#disconnects;
  }

  /** The delay of the current (or last) backoff; for status lines and tests. */
  get backoffDelayMs(): number | undefined {
    return this.#lastDelayMs;
  }

  start(signal: AbortSignal): Promise<void> {
    if (signal.aborted) {
      return Promise.reject(signal.reason);
    }
    if (this.#started || this.#state === "stopped") {
      return Promise.resolve();
    }
    this.#started = true;
    this.#wanted = true;
    this.#beginAttempt();
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    if (this.#state === "stopped") {
      return;
    }
    this.#clearTimers();
    const attempt = this.#attempt;
    this.#attempt = undefined;
    this.#wanted = false;
    this.#setState("stopped", undefined);
    if (attempt !== undefined) {
      attempt.abort.abort(new Error("stream stopped"));
      if (attempt.stream !== undefined) {
        await closeQuietly(attempt.stream);
      }
    }
  }

  whenConnected(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    switch (this.#state) {
      case "connected":
        return Promise.resolve(true);
      case "stopped":
      case "backoff":
        return Promise.resolve(false);
      case "idle":
        if (!this.#started) {
          return Promise.resolve(false);
        }
        this.#wanted = true;
        this.#beginAttempt();
        return this.#waitForAttempt(timeoutMs, signal);
      case "connecting":
        return this.#waitForAttempt(timeoutMs, signal);
    }
  }

  write(bytes: Uint8Array): Promise<void> {
    const stream = this.#attempt?.stream;
    if (this.#state !== "connected" || stream === undefined) {
      return Promise.reject(new Error(`not connected (${this.#state})`));
    }
    return stream.write(bytes);
  }

  discardInput(): Promise<void> {
    const stream = this.#attempt?.stream;
    return stream === undefined ? Promise.resolve() : stream.discardInput();
  }

  drop(reason: string): void {
    const attempt = this.#attempt;
    if (attempt === undefined || this.#state === "stopped") {
      return;
    }
    this.#endAttempt(attempt, true);
    this.#fail(reason);
  }

  release(): void {
    if (this.#state === "stopped") {
      return;
    }
    this.#wanted = false;
    const attempt = this.#attempt;
    if (attempt === undefined) {
      // In backoff the timer still runs and then goes idle, so release() never shortens a backoff.
      return;
    }
    if (attempt.established) {
      this.#failures = 0;
    }
    this.#endAttempt(attempt, true);
    this.#setState("idle", undefined);
  }

  onData(handler: (bytes: Uint8Array) => void): void {
    this.#dataHandler = handler;
  }

  onStateChange(handler: StateHandler): void {
    this.#stateHandlers.push(handler);
  }

  #beginAttempt(): void {
    this.#clearTimers();
    const attempt: Attempt = {
      abort: new AbortController(),
      stream: undefined,
      closedEarly: undefined,
      established: false,
      connectedAt: 0,
    };
    this.#attempt = attempt;
    this.#setState("connecting", undefined);
    const handlers: ByteStreamHandlers = {
      onData: (bytes) => {
        if (this.#attempt === attempt) {
          invokeSafely(() => this.#dataHandler?.(bytes));
        }
      },
      onClose: (reason) => this.#onClosed(attempt, reason),
    };
    let opening: Promise<ByteStream>;
    try {
      opening = this.#connector(handlers, attempt.abort.signal);
    } catch (error) {
      opening = Promise.reject(error);
    }
    opening.then(
      (stream) => this.#onOpened(attempt, stream),
      (error: unknown) => {
        if (this.#attempt === attempt) {
          this.#attempt = undefined;
          this.#fail(errorMessage(error));
        }
      },
    );
  }

  #onOpened(attempt: Attempt, stream: ByteStream): void {
    if (this.#attempt !== attempt) {
      // Stopped, dropped or released while the connector was still opening: not wanted any more.
      void closeQuietly(stream);
      return;
    }
    attempt.stream = stream;
    if (attempt.closedEarly !== undefined) {
      this.#attempt = undefined;
      void closeQuietly(stream);
      this.#fail(attempt.closedEarly);
      return;
    }
    if (this.#pauseMs > 0) {
      this.#pauseTimer = setTimeout(() => {
        this.#pauseTimer = undefined;
        this.#establish(attempt);
      }, this.#pauseMs);
    } else {
      this.#establish(attempt);
    }
  }

  #establish(attempt: Attempt): void {
    if (this.#attempt !== attempt) {
      return;
    }
    attempt.established = true;
    attempt.connectedAt = this.#now();
    this.#connects++;
    this.#setState("connected", undefined);
  }

  #onClosed(attempt: Attempt, reason: string): void {
    if (this.#attempt !== attempt) {
      return;
    }
    if (attempt.stream === undefined) {
      attempt.closedEarly = reason;
      return;
    }
    this.#endAttempt(attempt, false);
    this.#fail(reason);
  }

  /** Forgets the attempt, closing its stream if `close`, and accounts for the connection's end. */
  #endAttempt(attempt: Attempt, close: boolean): void {
    this.#attempt = undefined;
    if (this.#pauseTimer !== undefined) {
      clearTimeout(this.#pauseTimer);
      this.#pauseTimer = undefined;
    }
    attempt.abort.abort(new Error("connection no longer wanted"));
    if (close && attempt.stream !== undefined) {
      void closeQuietly(attempt.stream);
    }
    if (attempt.established) {
      this.#disconnects++;
      if (this.#now() - attempt.connectedAt >= this.#backoff.initialDelayMs) {
        this.#failures = 0;
      }
    }
  }

  #fail(reason: string): void {
    this.#lastError = reason;
    const delay = backoffDelayMs(this.#failures, this.#backoff, this.#random);
    this.#failures++;
    this.#lastDelayMs = delay;
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = undefined;
      if (this.#state !== "backoff") {
        return;
      }
      if (this.#wanted) {
        this.#beginAttempt();
      } else {
        this.#setState("idle", undefined);
      }
    }, delay);
    this.#setState("backoff", reason);
  }

  #waitForAttempt(timeoutMs: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (signal?.aborted === true || !(timeoutMs > 0)) {
      return Promise.resolve(false);
    }
    return new Promise<boolean>((resolve) => {
      const onAbort = (): void => waiter.settle(false);
      const timer = setTimeout(() => waiter.settle(false), timeoutMs);
      const waiter: Waiter = {
        settle: (connected) => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          this.#waiters.delete(waiter);
          resolve(connected);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(waiter);
    });
  }

  #setState(state: StreamState, reason: string | undefined): void {
    if (state === this.#state) {
      return;
    }
    this.#state = state;
    if (state !== "connecting") {
      for (const waiter of [...this.#waiters]) {
        waiter.settle(state === "connected");
      }
    }
    for (const handler of this.#stateHandlers) {
      invokeSafely(() => handler(state, reason));
    }
  }

  #clearTimers(): void {
    if (this.#backoffTimer !== undefined) {
      clearTimeout(this.#backoffTimer);
      this.#backoffTimer = undefined;
    }
    if (this.#pauseTimer !== undefined) {
      clearTimeout(this.#pauseTimer);
      this.#pauseTimer = undefined;
    }
  }
}

function errorMessage(error: unknown): string {
  if (error instanceof Error && error.message !== "") {
    return error.message;
  }
  return String(error);
}

async function closeQuietly(stream: ByteStream): Promise<void> {
  try {
    await stream.close();
  } catch {
    // Closing a connection that is already broken may fail; it is gone either way.
  }
}

/**
 * Runs an owner's callback so that a bug in it cannot leave this state machine half-updated; the
 * error is rethrown on a fresh stack, where it surfaces as an uncaught exception (a bug, loudly).
 */
function invokeSafely(callback: () => void): void {
  try {
    callback();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
