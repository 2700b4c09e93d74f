/**
 * Opens a serial port as a ByteStream (issue #4 items 3 and 5; FAULTS 8.4 "Serial device"). One
 * owner per port: the port is opened with an exclusive flock (serialport `lock: true`), so a
 * second gateway, a second device entry or a stray `screen` session gets a clear "locked" error
 * instead of both readers stealing each other's bytes.
 *
 * Errors name what a technician can fix: the device node is absent (unplugged, wrong
 * /dev/serial/by-id name), locked by another process, or not accessible to the service user.
 *
 * Unplug detection (FAULTS 8.4). Two paths lead to handlers.onClose:
 * - serialport's own: a failed read or write closes the port with a DisconnectedError (a USB
 *   adapter unplugged mid-read gives EIO/ENXIO, a pty whose other side closed gives EBADF/EIO).
 * - the device-node watch: some adapters (serialport issue #2043) report nothing until the next
 *   write, and an RS-485 master that is only listening may never write. Every open stream
 *   therefore checks with fs.stat that its path still names the device it opened (same st_rdev);
 *   when the node is gone or now names another device (a replug as ttyUSB1 under the same
 *   by-id link), the stream closes itself and reports it. The watch lives here, not in each
 *   protocol, so the RTU link and the serial-line source both get it, and the reconnect loop
 *   (ReconnectingStream) reopens the path with backoff once the node is back.
 *   It also ends a quirk of serialport 13: a read that starts just after a tty hangup returns
 *   0 bytes (EOF), and its unixRead retries at once, forever, without emitting close; closing
 *   the port is the only way out of that loop.
 * An inactivity timeout is left to the protocol: only it knows whether silence is normal (a
 * sensor that reports every minute) or a fault (an RTU slave that stops answering).
 */
import { stat } from "node:fs/promises";
import { SerialPort } from "serialport";
import type { ByteStream, ByteStreamHandlers, Connector } from "./byteStream.js";

export type SerialParity = "none" | "even" | "odd" | "mark" | "space";

export interface SerialSettings {
  readonly path: string;
  readonly baudRate: number;
  readonly parity: SerialParity;
  readonly dataBits: 7 | 8;
  readonly stopBits: 1 | 2;
}

export interface SerialConnectorOptions {
  /** How often an open port checks its device node still exists (FAULTS 8.4). 0 disables. */
  readonly nodeCheckIntervalMs?: number;
}

export const DEFAULT_NODE_CHECK_INTERVAL_MS = 1_000;

/** Turns a serialport open error into a message that says what to do about it. */
export function describeOpenError(path: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ENOENT" || code === "ENXIO" || /no such (file|device)/i.test(message)) {
    return `${path} is absent (unplugged?): ${message}`;
  }
  if (/cannot lock port|resource temporarily unavailable/i.test(message)) {
    return `${path} is locked by another process: ${message}`;
  }
  if (code === "EACCES" || code === "EPERM" || /permission denied|operation not permitted/i.test(message)) {
    return `${path} permission denied: is the service user in group dialout? (${message})`;
  }
  if (code === "EBUSY" || /device or resource busy/i.test(message)) {
    return `${path} is busy (in use by another process?): ${message}`;
  }
  if (/inappropriate ioctl/i.test(message)) {
    return `${path} is not a serial port: ${message}`;
  }
  return `${path} cannot be opened: ${message}`;
}

/** The device number a path names now, or the reason it names none. */
async function deviceNumber(path: string): Promise<{ rdev: number } | { gone: string }> {
  try {
    const info = await stat(path);
    return { rdev: info.rdev };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return { gone: `${path} is absent (unplugged?): ${String(code ?? error)}` };
  }
}

export interface DeviceNodeWatch {
  stop(): void;
}

/**
 * Calls onGone once when `path` stops naming the device it named at the start (stat fails, or
 * st_rdev changed: the node was recreated for another device). Polling, because inotify on
 * /dev does not follow the by-id symlinks udev rewrites, and a stat per second is cheap.
 */
export function watchDeviceNode(
  path: string,
  onGone: (reason: string) => void,
  { intervalMs = DEFAULT_NODE_CHECK_INTERVAL_MS }: { readonly intervalMs?: number } = {},
): DeviceNodeWatch {
  let stopped = false;
  let expected: number | undefined;
  let checking = false;
  const check = async (): Promise<void> => {
    if (checking || stopped) {
      return;
    }
    checking = true;
    try {
      const now = await deviceNumber(path);
      if (stopped) {
        return;
      }
      if ("gone" in now) {
        stop();
        onGone(now.gone);
      } else if (expected === undefined) {
        expected = now.rdev;
      } else if (now.rdev !== expected) {
        stop();
        onGone(`${path} now names another device (replugged?)`);
      }
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(() => void check(), intervalMs);
  // The watch must not keep a stopping process alive; the stream's owner stops it on close.
  timer.unref();
  const stop = (): void => {
    stopped = true;
    clearInterval(timer);
  };
  void check();
  return { stop };
}

function openPort(port: SerialPort): Promise<void> {
  return new Promise((resolve, reject) => {
    port.open((error) => (error ? reject(error) : resolve()));
  });
}

function closePort(port: SerialPort): Promise<void> {
  return new Promise((resolve) => {
    if (!port.isOpen) {
      resolve();
      return;
    }
    // A close error (the fd already died with the device) leaves nothing more to do.
    port.close(() => resolve());
  });
}

class SerialByteStream implements ByteStream {
  private closed = false;
  private watch: DeviceNodeWatch | undefined;

  constructor(
    private readonly port: SerialPort,
    private readonly path: string,
    private readonly handlers: ByteStreamHandlers,
  ) {}

  attach(nodeCheckIntervalMs: number): void {
    this.port.on("data", (chunk: Buffer) => {
      if (!this.closed) {
        this.handlers.onData(chunk);
      }
    });
    this.port.on("close", (error: Error | null) => {
      void this.lost(error ? error.message : "port closed");
    });
    this.port.on("error", (error: Error) => {
      void this.lost(error.message);
    });
    if (nodeCheckIntervalMs > 0) {
      this.watch = watchDeviceNode(this.path, (reason) => void this.lost(reason, true), {
        intervalMs: nodeCheckIntervalMs,
      });
    }
  }

  /** The port died under us: report once, naming "absent" when the node is gone. */
  private async lost(message: string, alreadyExplained = false): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    this.watch?.stop();
    let reason = message;
    if (!alreadyExplained) {
      const now = await deviceNumber(this.path);
      reason = "gone" in now ? now.gone : `${this.path} closed: ${message}`;
    }
    await closePort(this.port);
    this.handlers.onClose(reason);
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.closed) {
      return Promise.reject(new Error(`${this.path} is closed`));
    }
    // drain() is tcdrain: it resolves once the UART has sent the bytes, so a caller timing the
    // RTU inter-frame silence (serial line v1.02 §2.5.1.1) starts from the real end of frame.
    return new Promise((resolve, reject) => {
      this.port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (error) => {
        if (error) {
          reject(error);
          return;
        }
        this.port.drain((drainError) => (drainError ? reject(drainError) : resolve()));
      });
    });
  }

  discardInput(): Promise<void> {
    if (this.closed) {
      return Promise.resolve();
    }
    // tcflush(TCIOFLUSH): also drops unsent output, harmless since every write drains first.
    return new Promise((resolve, reject) => {
      this.port.flush((error) => (error ? reject(error) : resolve()));
    });
  }

  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    this.watch?.stop();
    await closePort(this.port);
  }
}

/**
 * A Connector for one serial port. Each call opens the port afresh (exclusive lock), so the
 * reconnect loop reopens the path, and a replugged adapter behind a by-id link is found again.
 */
export function serialConnector(settings: SerialSettings, options: SerialConnectorOptions = {}): Connector {
  const nodeCheckIntervalMs = options.nodeCheckIntervalMs ?? DEFAULT_NODE_CHECK_INTERVAL_MS;
  return async (handlers, signal) => {
    signal.throwIfAborted();
    const port = new SerialPort({
      path: settings.path,
      baudRate: settings.baudRate,
      parity: settings.parity,
      dataBits: settings.dataBits,
      stopBits: settings.stopBits,
      autoOpen: false,
      lock: true,
    });
    try {
      await openPort(port);
    } catch (error) {
      throw new Error(describeOpenError(settings.path, error), { cause: error });
    }
    // The open itself cannot be interrupted; an abort during it closes the port at once.
    if (signal.aborted) {
      await closePort(port);
      signal.throwIfAborted();
    }
    const stream = new SerialByteStream(port, settings.path, handlers);
    stream.attach(nodeCheckIntervalMs);
    return stream;
  };
}
