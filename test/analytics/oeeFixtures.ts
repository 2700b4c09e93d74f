/**
 * A synthetic press line for the OEE tests: a machine that runs, stops and takes planned breaks
 * by a schedule, makes a part every cycle while it runs, scraps some, and is polled every second
 * through a deadband-and-heartbeat publish filter (only changed values, plus every tag at least
 * once a heartbeat). It keeps the ground truth so tests can compare the tracker against it.
 */
import type { OeeMachineConfig, OeeReading } from "../../src/analytics/oee/index.js";
import type { TagReading } from "../../src/records.js";

export type PressState = "run" | "down" | "planned";

export const pressConfig: OeeMachineConfig = {
  runState: "running",
  totalCount: "parts",
  goodCount: "good_parts",
  plannedStop: "planned_stop",
  idealCycleTime: 2500,
};

export interface PressLineOptions {
  readonly start: number;
  readonly end: number;
  /** The machine's state during the poll interval starting at ts. */
  readonly stateAt: (ts: number) => PressState;
  readonly cycleMs: number;
  /** Whether part number k (1-based) is scrap. */
  readonly isScrap: (k: number) => boolean;
  readonly pollMs?: number;
  readonly heartbeatMs?: number;
}

export interface PressLine {
  readonly readings: OeeReading[];
  /** Ground truth over [from, to): state times, and parts by the poll that first shows them. */
  truth(
    from: number,
    to: number,
  ): { runMs: number; downMs: number; plannedMs: number; parts: number; good: number };
}

const good = (value: number | boolean): TagReading => ({ value, quality: "good" });

export function pressLine(options: PressLineOptions): PressLine {
  const pollMs = options.pollMs ?? 1000;
  const heartbeatMs = options.heartbeatMs ?? 60_000;
  const readings: OeeReading[] = [];
  const states: { ts: number; state: PressState }[] = [];
  const shown: { ts: number; good: boolean }[] = [];
  let runMs = 0;
  let parts = 0;
  let goodParts = 0;
  // Part k completes when the run time reaches (k - 0.5) cycles.
  let nextPartAt = options.cycleMs / 2;
  const published = new Map<string, { value: number | boolean; ts: number }>();

  for (let ts = options.start; ts < options.end; ts += pollMs) {
    const state = options.stateAt(ts);
    const current: Record<string, number | boolean> = {
      runState: state === "run",
      plannedStop: state === "planned",
      totalCount: parts,
      goodCount: goodParts,
    };
    const reading: Record<string, unknown> = { ts, clockSynced: true };
    for (const [input, value] of Object.entries(current)) {
      const last = published.get(input);
      if (last === undefined || last.value !== value || ts - last.ts >= heartbeatMs) {
        reading[input] = good(value);
        published.set(input, { value, ts });
      }
    }
    readings.push(reading as unknown as OeeReading);
    states.push({ ts, state });
    if (state === "run") {
      runMs += pollMs;
      while (nextPartAt <= runMs) {
        parts++;
        const scrap = options.isScrap(parts);
        goodParts += scrap ? 0 : 1;
        shown.push({ ts: ts + pollMs, good: !scrap });
        nextPartAt += options.cycleMs;
      }
    }
  }

  return {
    readings,
    truth(from, to) {
      const inRange = <T extends { ts: number }>(items: T[]) =>
        items.filter((i) => i.ts >= from && i.ts < to);
      const during = inRange(states);
      const time = (s: PressState) => during.filter((x) => x.state === s).length * pollMs;
      const made = inRange(shown);
      return {
        runMs: time("run"),
        downMs: time("down"),
        plannedMs: time("planned"),
        parts: made.length,
        good: made.filter((p) => p.good).length,
      };
    },
  };
}

/** A schedule from [fromTs, state] steps, sorted by time; before the first step the machine is down. */
export function schedule(steps: readonly (readonly [number, PressState])[]): (ts: number) => PressState {
  return (ts) => {
    let state: PressState = "down";
    for (const [from, s] of steps) {
      if (ts >= from) {
        state = s;
      }
    }
    return state;
  };
}
