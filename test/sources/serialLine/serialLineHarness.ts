/**
 * A SerialLineSource on the real stack (ReconnectingStream over serialConnector) opening side `a`
 * of a socat pty pair, and a sensor stand-in writing to side `b` with serialport: what the tests
 * of serialLineSource*.test.ts share.
 */
import { SerialPort } from "serialport";
import { systemClock } from "../../../src/clock.js";
import { serialLineDeviceSchema } from "../../../src/config/schema/devices.js";
import type { SerialLineDeviceConfig } from "../../../src/config/schema/index.js";
import type { Sample, TagReading } from "../../../src/records.js";
import { SerialLineSource } from "../../../src/sources/serialLine/serialLineSource.js";
import type { JsonRecord } from "../../helpers/lineChild.js";
import { memoryLogger } from "../../helpers/memoryLogger.js";
import { waitUntil } from "../../helpers/waitUntil.js";

/**
 * A parsed serial-line device config (schema defaults applied) for `path`. The schema only takes
 * /dev paths, so it is parsed with a stand-in and the pty link put in afterwards. Reopen backoff
 * is short (100 ms doubling to 1 s) so reopen tests finish in seconds.
 */
export function deviceConfig(path: string, fields: Record<string, unknown>): SerialLineDeviceConfig {
  const parsed = serialLineDeviceSchema.parse({
    protocol: "serial-line",
    name: "sensor",
    serial: { path: "/dev/ttyUSB0" },
    reopen: { initialDelay: "100ms", maxDelay: "1s" },
    ...fields,
  });
  return { ...parsed, serial: { ...parsed.serial, path } };
}

export interface RunningSource {
  readonly source: SerialLineSource;
  readonly samples: Sample[];
  readonly logs: JsonRecord[];
  stop(): Promise<void>;
}

export async function startSource(config: SerialLineDeviceConfig): Promise<RunningSource> {
  const samples: Sample[] = [];
  const { logger, lines } = memoryLogger();
  const source = new SerialLineSource(config, {
    clock: systemClock,
    logger,
    emit: (sample) => samples.push(sample),
  });
  await source.start(new AbortController().signal);
  return { source, samples, logs: lines, stop: () => source.stop() };
}

/** The sensor side: opens `path` (no lock, it is the other end) and writes text to it. */
export class SensorWriter {
  readonly #port: SerialPort;

  private constructor(port: SerialPort) {
    this.#port = port;
    // The pair may be killed under it (unplug tests); that is expected, not a test failure.
    port.on("error", () => {});
  }

  static async open(path: string): Promise<SensorWriter> {
    const port = new SerialPort({ path, baudRate: 9600, autoOpen: false, lock: false });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    return new SensorWriter(port);
  }

  async write(data: string | Uint8Array): Promise<void> {
    const port = this.#port;
    await new Promise<void>((resolve, reject) => {
      port.write(data, (error) => {
        if (error) {
          reject(error);
          return;
        }
        port.drain((drainError) => (drainError ? reject(drainError) : resolve()));
      });
    });
  }

  close(): Promise<void> {
    const port = this.#port;
    return new Promise((resolve) => {
      if (!port.isOpen) {
        resolve();
        return;
      }
      port.close(() => resolve());
    });
  }
}

export function waitForConnected(source: SerialLineSource, timeoutMs = 5_000): Promise<void> {
  return waitUntil(() => source.stats().state === "connected", "the source to open its port", { timeoutMs });
}

/** The readings of `tag` in the order they were published. */
export function readingsOf(samples: readonly Sample[], tag: string): TagReading[] {
  return samples.flatMap((sample) => {
    const reading = sample.values[tag];
    return reading === undefined ? [] : [reading];
  });
}

export function reasonsOf(samples: readonly Sample[], tag: string): string[] {
  return readingsOf(samples, tag).flatMap((reading) =>
    reading.reason === undefined ? [] : [reading.reason],
  );
}

export function logsWithMessage(logs: readonly JsonRecord[], msg: string): JsonRecord[] {
  return logs.filter((line) => line.msg === msg);
}
