/**
 * Opens TCP connections for a ReconnectingStream (byteStream.ts Connector): Modbus TCP devices and
 * gateways, and serial servers carrying RTU over a socket (issue #4 item 3).
 *
 * - No Nagle (setNoDelay): a request is one small frame and the reply waits for it; Nagle would
 *   hold it back behind a delayed ACK for up to 40 ms. Messaging on TCP/IP v1.0b §4.3 (TCP layer
 *   parameterisation) names TCP-NODELAY and SO-KEEPALIVE among the options to set.
 * - TCP keepalive on, so a peer that vanished (power cut, cable pulled) is eventually noticed on
 *   an idle connection; reads notice it sooner through their own timeouts.
 * - Errors say what a technician can act on: "connect ECONNREFUSED 10.0.0.5:502", "connect
 *   timeout after 3000 ms to 10.0.0.5:502", "connection reset by peer", "peer closed the
 *   connection".
 */
import { connect, type Socket } from "node:net";
import type { ByteStream, ByteStreamHandlers, Connector } from "./byteStream.js";

export interface TcpConnectorOptions {
  /** Give up on a connect after this long. Default 3000 ms. */
  readonly connectTimeoutMs?: number;
  /** Idle time before the first keepalive probe. Default 10 000 ms. */
  readonly keepAliveDelayMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;
const DEFAULT_KEEPALIVE_DELAY_MS = 10_000;

/** "10.0.0.5:502", "[fe80::1]:502". */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

export function tcpConnector(host: string, port: number, options: TcpConnectorOptions = {}): Connector {
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const keepAliveDelayMs = options.keepAliveDelayMs ?? DEFAULT_KEEPALIVE_DELAY_MS;
  const where = hostPort(host, port);

  return (handlers, signal) =>
    new Promise<ByteStream>((resolve, reject) => {
      if (signal.aborted) {
        reject(new Error(`connect to ${where} aborted`));
        return;
      }
      const socket = connect({ host, port });
      const onAbort = (): void => fail(new Error(`connect to ${where} aborted`));
      const onError = (error: Error): void => fail(new Error(connectErrorMessage(error, where)));
      const timer = setTimeout(
        () => fail(new Error(`connect timeout after ${connectTimeoutMs} ms to ${where}`)),
        connectTimeoutMs,
      );
      const detach = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        socket.removeListener("error", onError);
        socket.removeListener("connect", onConnect);
      };
      function fail(error: Error): void {
        detach();
        // A listener stays so that a late error on the discarded socket is not an uncaught one.
        socket.on("error", ignore);
        socket.destroy();
        reject(error);
      }
      function onConnect(): void {
        detach();
        socket.setNoDelay(true);
        socket.setKeepAlive(true, keepAliveDelayMs);
        resolve(openStream(socket, handlers));
      }
      signal.addEventListener("abort", onAbort, { once: true });
      socket.once("error", onError);
      socket.once("connect", onConnect);
    });
}

/** Wraps a connected socket; reports its end once, unless we closed it. */
function openStream(socket: Socket, handlers: ByteStreamHandlers): ByteStream {
  let closedByUs = false;
  let reason: string | undefined;
  socket.on("data", (chunk: Buffer) => {
    if (!closedByUs) {
      handlers.onData(chunk);
    }
  });
  socket.on("error", (error: Error) => {
    reason ??= socketErrorMessage(error);
  });
  socket.on("end", () => {
    reason ??= "peer closed the connection";
  });
  const closed = new Promise<void>((resolve) => {
    socket.once("close", () => {
      resolve();
      if (!closedByUs) {
        handlers.onClose(reason ?? "peer closed the connection");
      }
    });
  });
  return {
    write(bytes: Uint8Array): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        if (socket.destroyed || !socket.writable) {
          reject(new Error(reason ?? "connection is closed"));
          return;
        }
        socket.write(bytes, (error) => {
          if (error) {
            reject(new Error(reason ?? socketErrorMessage(error)));
          } else {
            resolve();
          }
        });
      });
    },
    discardInput(): Promise<void> {
      // TCP delivers whole streams; anything unread is already framed by the owner.
      return Promise.resolve();
    },
    close(): Promise<void> {
      closedByUs = true;
      socket.destroy();
      return closed;
    },
  };
}

interface SystemError extends Error {
  readonly code?: string;
}

function errorCode(error: Error): string | undefined {
  const code = (error as SystemError).code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Node's own messages ("connect ECONNREFUSED 127.0.0.1:5020") are already what a technician
 * needs, except: an AggregateError from trying every address of a name (Node 20's
 * autoSelectFamily) has an empty message, and DNS failures name only the code.
 */
export function connectErrorMessage(error: Error, where: string): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    const parts = error.errors.map((inner: unknown) =>
      inner instanceof Error ? connectErrorMessage(inner, where) : String(inner),
    );
    return [...new Set(parts)].join("; ");
  }
  const code = errorCode(error);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return `host name of ${where} not found (${code})`;
  }
  if (error.message !== "") {
    return error.message;
  }
  return code === undefined ? `connect to ${where} failed` : `connect ${code} ${where}`;
}

/** Errors on an established connection. */
export function socketErrorMessage(error: Error): string {
  switch (errorCode(error)) {
    case "ECONNRESET":
      return "connection reset by peer";
    case "EPIPE":
      return "connection reset by peer (broken pipe)";
    case "ETIMEDOUT":
      return "connection timed out (peer stopped answering TCP keepalive)";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `network unreachable (${errorCode(error)})`;
    default:
      return error.message !== "" ? error.message : String(error);
  }
}

function ignore(): void {
  // Deliberately empty: see fail().
}
