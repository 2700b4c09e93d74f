/** A DaemonLogger whose JSON lines land in an array, for in-process tests. */
import type { Clock } from "../../src/clock.js";
import { createLogger, type DaemonLogger } from "../../src/observability/logger.js";
import type { JsonRecord } from "./lineChild.js";

export interface MemoryLogger {
  readonly logger: DaemonLogger;
  readonly lines: JsonRecord[];
}

export function memoryLogger(
  options: { readonly repeatWindowMs?: number; readonly clock?: Clock } = {},
): MemoryLogger {
  const lines: JsonRecord[] = [];
  const logger = createLogger({
    level: "debug",
    repeatWindowMs: options.repeatWindowMs ?? 0,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    destination: {
      write(line: string) {
        lines.push(JSON.parse(line) as JsonRecord);
      },
    },
  });
  return { logger, lines };
}

/** A clock the test advances by hand. */
export class FakeClock implements Clock {
  monotonic = 1_000;
  wall = Date.UTC(2026, 0, 1);

  wallNow(): number {
    return this.wall;
  }

  monotonicNow(): number {
    return this.monotonic;
  }

  wallSynced(): boolean {
    return true;
  }

  advance(ms: number): void {
    this.monotonic += ms;
    this.wall += ms;
  }
}
