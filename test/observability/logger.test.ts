import { describe, expect, it } from "vitest";
import type { Clock } from "../../src/clock.js";
import { createLogger } from "../../src/observability/logger.js";

function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 1_000;
  return {
    wallNow: () => 1_700_000_000_000 + now,
    monotonicNow: () => now,
    wallSynced: () => true,
    advance: (ms) => {
      now += ms;
    },
  };
}

function collect() {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  };
}

describe("logger", () => {
  it("writes pino JSON lines with a text level, an ISO time and the message", () => {
    const { lines, destination } = collect();
    const logger = createLogger({ level: "info", repeatWindowMs: 0, destination });
    logger.info({ device: "press-2" }, "polled");
    logger.debug("not written below the level");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "info", msg: "polled", device: "press-2" });
    expect(String(lines[0]?.time)).toMatch(/^\d{4}-\d\d-\d\dT/);
    logger.closeRepeats();
  });

  it("logs a repeated identical error once per window and then reports how often it was held back", () => {
    const clock = fakeClock();
    const { lines, destination } = collect();
    const logger = createLogger({ level: "info", repeatWindowMs: 60_000, destination, clock });
    const plc = logger.child({ component: "modbus" });
    for (let i = 0; i < 100; i++) {
      plc.error({ err: new Error("connect ECONNREFUSED 10.0.0.5:502") }, "device unreachable");
      clock.advance(100);
    }
    expect(lines.filter((line) => line.msg === "device unreachable")).toHaveLength(1);
    clock.advance(60_000);
    plc.error({ err: new Error("connect ECONNREFUSED 10.0.0.5:502") }, "device unreachable");
    const again = lines.filter((line) => line.msg === "device unreachable");
    expect(again).toHaveLength(2);
    expect(again[1]).toMatchObject({ repeated: 99 });
    expect(logger.repeatStats().suppressed).toBe(99);
    logger.closeRepeats();
  });

  it("keeps different errors, components and levels apart, and never filters info", () => {
    const clock = fakeClock();
    const { lines, destination } = collect();
    const logger = createLogger({ level: "info", repeatWindowMs: 60_000, destination, clock });
    for (let i = 0; i < 3; i++) {
      logger.child({ component: "a" }).warn("timeout");
      logger.child({ component: "b" }).warn("timeout");
      logger.child({ component: "a" }).error("timeout");
      logger.child({ component: "a" }).warn({ err: new Error("other") }, "timeout");
      logger.info("poll done");
    }
    expect(lines.filter((line) => line.msg === "timeout")).toHaveLength(4);
    expect(lines.filter((line) => line.msg === "poll done")).toHaveLength(3);
    logger.closeRepeats();
  });

  it("reports pending repeat counts when closed, so none go unmentioned", () => {
    const clock = fakeClock();
    const { lines, destination } = collect();
    const logger = createLogger({ level: "info", repeatWindowMs: 60_000, destination, clock });
    for (let i = 0; i < 5; i++) {
      logger.error("disk full");
    }
    logger.closeRepeats();
    expect(lines.at(-1)).toMatchObject({ level: "error", repeated: 4, repeatOf: "disk full" });
  });

  it("bounds the memory of the repeat filter and counts what it forgot", () => {
    const clock = fakeClock();
    const { destination } = collect();
    const logger = createLogger({
      level: "info",
      repeatWindowMs: 60_000,
      destination,
      clock,
      maxTrackedKeys: 10,
    });
    for (let i = 0; i < 25; i++) {
      logger.warn(`distinct problem ${i}`);
    }
    expect(logger.repeatStats().evictedKeys).toBe(15);
    logger.closeRepeats();
  });
});
