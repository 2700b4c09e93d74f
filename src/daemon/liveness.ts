/**
 * Liveness for the systemd watchdog (issue #2, FAULTS 8.8): WATCHDOG=1 is sent only while every
 * registered loop has shown progress recently. A stalled poll loop or log writer stops its beats,
 * the pings stop, and systemd restarts us; an event-loop stall stops the pinging timer itself.
 */
import type { Clock } from "../clock.js";

export interface Heartbeat {
  /** Call on each unit of real progress (a poll cycle done, a batch committed). */
  beat(): void;
  /** The loop ended on purpose (component stopped): stop watching it. */
  close(): void;
}

export interface LivenessReport {
  readonly ok: boolean;
  readonly stale: readonly {
    readonly name: string;
    readonly silentMs: number;
    readonly maxSilenceMs: number;
  }[];
}

interface Entry {
  readonly maxSilenceMs: number;
  last: number;
}

export class LivenessMonitor {
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();
  #serial = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  register(name: string, maxSilenceMs: number): Heartbeat {
    // Names may repeat across reloads; the map key may not.
    const key = `${name}#${++this.#serial}`;
    const entry: Entry = { maxSilenceMs, last: this.#clock.monotonicNow() };
    this.#entries.set(key, entry);
    return {
      beat: () => {
        entry.last = this.#clock.monotonicNow();
      },
      close: () => {
        this.#entries.delete(key);
      },
    };
  }

  check(): LivenessReport {
    const now = this.#clock.monotonicNow();
    const stale = [...this.#entries]
      .filter(([, entry]) => now - entry.last > entry.maxSilenceMs)
      .map(([key, entry]) => ({
        name: key.slice(0, key.lastIndexOf("#")),
        silentMs: Math.round(now - entry.last),
        maxSilenceMs: entry.maxSilenceMs,
      }));
    return { ok: stale.length === 0, stale };
  }

  get size(): number {
    return this.#entries.size;
  }
}
