/**
 * pino JSON lines on stdout, which journald stores per line (issue #2). Identical warnings and
 * errors repeated within a window are logged once, then summarised with a count, so a dead PLC
 * polled every 100 ms cannot flood the SD card (FAULTS: "errors are logged on change, not per poll").
 */
import { type DestinationStream, type Level, type Logger, pino } from "pino";
import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";

export type LogLevel = Level;
export type { Logger } from "pino";

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Identical warn/error/fatal lines within this window are suppressed and counted. 0 turns it off. */
  readonly repeatWindowMs: number;
  /** Default: stdout, written synchronously so that a fatal line is out before exit(1). */
  readonly destination?: DestinationStream;
  readonly clock?: Clock;
  /** Keys remembered at once; beyond it the oldest is dropped (and counted), bounding memory. */
  readonly maxTrackedKeys?: number;
}

interface Tracked {
  firstAt: number;
  suppressed: number;
  level: number;
  msg: string;
}

/** Level values from pino: warn 40, error 50, fatal 60. */
const WARN = 40;

export interface RepeatFilterStats {
  readonly suppressed: number;
  readonly evictedKeys: number;
}

export type DaemonLogger = Logger & { repeatStats(): RepeatFilterStats; closeRepeats(): void };

export function createLogger(options: LoggerOptions): DaemonLogger {
  const clock = options.clock ?? systemClock;
  const maxKeys = options.maxTrackedKeys ?? 1000;
  const tracked = new Map<string, Tracked>();
  let totalSuppressed = 0;
  let evictedKeys = 0;

  const logger = pino(
    {
      level: options.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err },
      hooks: {
        logMethod(args, method, level) {
          // Audit events and repeat summaries are records, not noise: never held back.
          if (options.repeatWindowMs <= 0 || level < WARN || isUnfiltered(args[0])) {
            method.apply(this, args);
            return;
          }
          const key = `${JSON.stringify(this.bindings())}|${repeatKey(level, args)}`;
          const now = clock.monotonicNow();
          const entry = tracked.get(key);
          if (entry !== undefined && now - entry.firstAt < options.repeatWindowMs) {
            entry.suppressed++;
            totalSuppressed++;
            return;
          }
          if (entry !== undefined && entry.suppressed > 0) {
            // The window is over and it happened again: say how often it was held back.
            const [first, ...rest] = args;
            const withCount =
              first !== null && typeof first === "object"
                ? [{ ...(first as object), repeated: entry.suppressed }, ...rest]
                : [{ repeated: entry.suppressed }, ...args];
            tracked.set(key, { firstAt: now, suppressed: 0, level, msg: entry.msg });
            method.apply(this, withCount as Parameters<typeof method>);
            return;
          }
          tracked.delete(key);
          tracked.set(key, { firstAt: now, suppressed: 0, level, msg: messageOf(args) });
          if (tracked.size > maxKeys) {
            const oldest = tracked.keys().next().value;
            if (oldest !== undefined) {
              tracked.delete(oldest);
              evictedKeys++;
            }
          }
          method.apply(this, args);
        },
      },
    },
    options.destination ?? pino.destination({ fd: 1, sync: true }),
  );
  /** Reports counts of repeats that did not recur after their window, so none go unmentioned. */
  const flushRepeats = (all = false): void => {
    const now = clock.monotonicNow();
    for (const [key, entry] of tracked) {
      if (all || now - entry.firstAt >= options.repeatWindowMs) {
        tracked.delete(key);
        if (entry.suppressed > 0) {
          const label = entry.level >= 60 ? "fatal" : entry.level >= 50 ? "error" : "warn";
          logger[label](
            { repeated: entry.suppressed, repeatOf: entry.msg },
            `previous message repeated ${entry.suppressed} more times`,
          );
        }
      }
    }
  };
  const timer =
    options.repeatWindowMs > 0 ? setInterval(() => flushRepeats(), options.repeatWindowMs) : undefined;
  timer?.unref();
  return Object.assign(logger, {
    repeatStats: (): RepeatFilterStats => ({ suppressed: totalSuppressed, evictedKeys }),
    /** At shutdown: report all pending repeat counts and stop the timer. */
    closeRepeats: (): void => {
      if (timer !== undefined) {
        clearInterval(timer);
      }
      flushRepeats(true);
    },
  });
}

function isUnfiltered(first: unknown): boolean {
  return first !== null && typeof first === "object" && ("event" in first || "repeatOf" in first);
}

/** Same level, same message, same error text: the same problem, whatever the timestamps. */
function repeatKey(level: number, args: readonly unknown[]): string {
  const [first] = args;
  let detail = "";
  if (first instanceof Error) {
    detail = first.message;
  } else if (first !== null && typeof first === "object") {
    const err = (first as { err?: unknown }).err;
    const component = (first as { component?: unknown }).component;
    detail = `${String(component ?? "")}|${err instanceof Error ? `${(err as NodeJS.ErrnoException).code ?? ""}:${err.message}` : ""}`;
  }
  return `${level}|${messageOf(args)}|${detail}`;
}

function messageOf(args: readonly unknown[]): string {
  const [first, second] = args;
  return typeof first === "string" ? first : typeof second === "string" ? second : "";
}

export function parseLogLevel(text: string | undefined): LogLevel | undefined {
  const levels: readonly string[] = ["trace", "debug", "info", "warn", "error", "fatal"];
  return text !== undefined && levels.includes(text) ? (text as LogLevel) : undefined;
}
