/**
 * An ASCII sensor on a serial port as a source (issue #4 item 5: "framing by a delimiter with a
 * bounded buffer; ... garbage counted and skipped; unplug and replug of the device handled
 * (reopen with backoff)"). Bytes → LineFramer → line parser → SampleBuilder → emit.
 *
 * Faults (FAULTS 8.4), each reported once per occurrence, never per retry or per line:
 * - port lost, absent or locked: every tag bad "disconnected: <reason>", one warning; the stream
 *   reopens with backoff and an info line says when it is back;
 * - port open but silent for staleAfter (a sensor that died, or an unplug that raised no event,
 *   serialport #2043): every tag bad "stale: no line for <n> s", one warning;
 * - lines that do not parse (wrong baud or parity, wrong parser): counted, never published, and
 *   a warning once a streak suggests a misconfiguration.
 * Memory is bounded by the framer (maxLineLength); nothing here grows with input.
 */
import type { Clock } from "../../clock.js";
import type { SerialLineDeviceConfig } from "../../config/schema/index.js";
import type { Logger } from "../../observability/logger.js";
import type { Sample, SampleSink } from "../../records.js";
import type { ManagedStream, StreamState } from "../link/byteStream.js";
import { ReconnectingStream } from "../link/reconnectingStream.js";
import { serialConnector } from "../link/serialConnector.js";
import { bad } from "../modbus/decodeResult.js";
import { SampleBuilder } from "../sampleBuilder.js";
import { LineFramer } from "./lineFramer.js";
import { createLineParser, type LineParser } from "./lineParsers.js";
import { sanitiseText } from "./lineValues.js";
import { SilenceTimer } from "./silenceTimer.js";

export type { SerialLineDeviceConfig } from "../../config/schema/index.js";

export interface SerialLineSourceDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly emit: SampleSink;
  /** The port, kept open across unplugs. Default: ReconnectingStream over serialConnector(config.serial). */
  readonly stream?: ManagedStream;
}

export interface SerialLineStats {
  /** Complete lines framed from the port (parsed or garbage). */
  readonly linesIn: number;
  /** Lines the parser could not read; never published. */
  readonly garbageLines: number;
  /** Lines longer than maxLineLength; discarded. */
  readonly overlongLines: number;
  readonly bytesIn: number;
  /** Bytes discarded by the framer: overlong lines and the partial line after each (re)open. */
  readonly bytesDropped: number;
  /** Successful opens after the first one. */
  readonly reopenCount: number;
  readonly state: StreamState;
  /** Why the port was last lost or failed to open. */
  readonly lastError: string | undefined;
}

/** Consecutive unparseable lines before the misconfiguration warning (FAULTS 8.4 "wrong baud or parity"). */
export const GARBAGE_STREAK_WARNING = 10;
/** Enough of an unparseable line for a technician to recognise it, not enough to bloat a log line. */
const SHOWN_LINE_LENGTH = 80;

interface Outage {
  readonly since: number;
  reason: string;
}

export class SerialLineSource {
  readonly name: string;
  readonly #config: SerialLineDeviceConfig;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #emit: SampleSink;
  readonly #stream: ManagedStream;
  readonly #framer: LineFramer;
  readonly #parser: LineParser;
  readonly #builder: SampleBuilder;
  readonly #silence: SilenceTimer;
  #running = false;
  #bytesIn = 0;
  #garbageLines = 0;
  #garbageStreak = 0;
  #opens = 0;
  /** Set while the port is not open after a failure; undefined while open or before the first attempt. */
  #outage: Outage | undefined;
  #stale = false;

  constructor(config: SerialLineDeviceConfig, deps: SerialLineSourceDeps) {
    this.name = `serial-line:${config.name}`;
    this.#config = config;
    this.#clock = deps.clock;
    this.#logger = deps.logger.child({ device: config.name, port: config.serial.path });
    this.#emit = deps.emit;
    this.#stream =
      deps.stream ??
      new ReconnectingStream(serialConnector(config.serial), {
        initialDelayMs: config.reopen.initialDelay,
        maxDelayMs: config.reopen.maxDelay,
      });
    this.#framer = new LineFramer({
      delimiter: config.delimiter,
      maxLineLength: config.maxLineLength,
      encoding: config.encoding,
    });
    this.#parser = createLineParser(config.parser, config.tags);
    this.#builder = new SampleBuilder(config.name, undefined, config.tags, deps.clock);
    this.#silence = new SilenceTimer(config.staleAfter, deps.clock, () => this.#onSilent());
    // Handlers are registered once, before start() (ManagedStream contract); they do no I/O.
    this.#stream.onData((bytes) => this.#onData(bytes));
    this.#stream.onStateChange((state, reason) => this.#onStateChange(state, reason));
  }

  /**
   * Starts opening the port in the background and resolves at once: an absent or locked sensor
   * must not keep the daemon from starting; its tags go bad instead.
   */
  async start(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#running = true;
    await this.#stream.start(signal);
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#silence.disarm();
    await this.#stream.stop();
  }

  stats(): SerialLineStats {
    const framed = this.#framer.stats();
    return {
      linesIn: framed.lines,
      garbageLines: this.#garbageLines,
      overlongLines: framed.discardedOverlong,
      bytesIn: this.#bytesIn,
      bytesDropped: framed.discardedBytes,
      reopenCount: Math.max(0, this.#opens - 1),
      state: this.#stream.state,
      lastError: this.#stream.lastError,
    };
  }

  #onStateChange(state: StreamState, reason: string | undefined): void {
    if (!this.#running || state === "stopped") {
      return;
    }
    if (state === "connected") {
      this.#onOpened();
      return;
    }
    // Any other change that carries a reason is a failure: lost, or not (re)opened.
    if (reason !== undefined) {
      this.#onLost(reason);
    }
  }

  #onOpened(): void {
    // The port may open in the middle of a line: a truncated "21.5" read as "1.5" would be a
    // plausible wrong value, so the framer drops everything up to the first delimiter.
    this.#framer.reset();
    this.#garbageStreak = 0;
    this.#stale = false;
    this.#opens += 1;
    const outage = this.#outage;
    this.#outage = undefined;
    const downMs = outage === undefined ? undefined : Math.round(this.#clock.monotonicNow() - outage.since);
    if (this.#opens === 1) {
      this.#logger.info({ ...(downMs === undefined ? {} : { unavailableMs: downMs }) }, "serial port opened");
    } else {
      this.#logger.info(
        { reopenCount: this.#opens - 1, ...(downMs === undefined ? {} : { unavailableMs: downMs }) },
        "serial port reopened",
      );
    }
    this.#silence.touch();
  }

  /**
   * One warning and one bad sample per outage: retries that fail (often with another reason, e.g.
   * "closed: EIO" then "absent") only show in stats().lastError and at debug level, so a sensor
   * unplugged for a day costs two info/warn lines (lost, back), not one per retry.
   */
  #onLost(reason: string): void {
    this.#silence.disarm();
    if (this.#outage !== undefined) {
      if (reason !== this.#outage.reason) {
        this.#outage.reason = reason;
        this.#logger.debug({ reason }, "serial port still unavailable");
      }
      return;
    }
    this.#outage = { since: this.#clock.monotonicNow(), reason };
    this.#logger.warn({ reason }, "serial port unavailable; reopening with backoff");
    this.#publish(this.#builder.buildAll(bad(`disconnected: ${reason}`)));
  }

  #onSilent(): void {
    if (!this.#running || this.#outage !== undefined) {
      return;
    }
    this.#stale = true;
    const seconds = this.#config.staleAfter / 1000;
    this.#logger.warn(
      { staleAfterMs: this.#config.staleAfter },
      "no line from the sensor; tags marked stale",
    );
    this.#publish(this.#builder.buildAll(bad(`stale: no line for ${seconds} s`)));
  }

  #onData(bytes: Uint8Array): void {
    if (!this.#running) {
      return;
    }
    this.#bytesIn += bytes.length;
    for (const line of this.#framer.push(bytes)) {
      this.#onLine(line);
    }
  }

  #onLine(line: string): void {
    const result = this.#parser.parse(line);
    if (!result.ok) {
      this.#garbageLines += 1;
      this.#garbageStreak += 1;
      if (this.#garbageStreak === GARBAGE_STREAK_WARNING) {
        this.#logger.warn(
          { reason: result.reason, line: sanitiseText(line).slice(0, SHOWN_LINE_LENGTH) },
          `${GARBAGE_STREAK_WARNING} lines in a row do not parse; check baud rate, parity and the parser format`,
        );
      }
      return;
    }
    if (this.#garbageStreak >= GARBAGE_STREAK_WARNING) {
      this.#logger.info({ skipped: this.#garbageStreak }, "sensor lines parse again");
    }
    this.#garbageStreak = 0;
    if (this.#stale) {
      this.#stale = false;
      this.#logger.info("sensor lines arrive again");
    }
    this.#silence.touch();
    this.#publish(this.#builder.build(result.values));
  }

  #publish(sample: Sample | undefined): void {
    if (sample !== undefined) {
      this.#emit(sample);
    }
  }
}
