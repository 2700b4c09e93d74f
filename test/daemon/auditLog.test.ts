/**
 * Until the ledger lands, audit events (config.reloaded, config.reload_rejected, ...) are log lines
 * written by src/daemon/logEventSink.ts through the daemon's logger, whose repeat filter
 * (src/observability/logger.ts) holds back identical warnings and errors within a window.
 */
import { describe, expect, it } from "vitest";
import { logEventSink } from "../../src/daemon/logEventSink.js";
import { isRecord } from "../helpers/lineChild.js";
import { FakeClock, memoryLogger } from "../helpers/memoryLogger.js";

describe("audit events in the log", () => {
  it("an info event is written each time it happens", () => {
    const clock = new FakeClock();
    const { logger, lines } = memoryLogger({ repeatWindowMs: 60_000, clock });
    const events = logEventSink(logger, clock);
    for (let index = 0; index < 2; index++) {
      events.emit({
        type: "config.reloaded",
        severity: "info",
        message: "configuration reloaded; nothing changed",
      });
    }
    expect(lines.filter((line) => isRecord(line.event))).toHaveLength(2);
  });

  it("every warning event is recorded, even an identical one within the repeat window", () => {
    const clock = new FakeClock();
    const { logger, lines } = memoryLogger({ repeatWindowMs: 60_000, clock });
    const events = logEventSink(logger, clock);
    const rejected = {
      type: "config.reload_rejected",
      severity: "warning",
      message: "reload rejected: 1 error(s); the running configuration stays",
      details: { errors: ["config.yaml:9:3: selfHealth.intervall: unknown key"] },
    } as const;
    events.emit(rejected);
    clock.advance(5_000);
    events.emit(rejected);
    const recorded = lines.filter((line) => isRecord(line.event));
    expect(recorded).toHaveLength(2);
    expect(recorded.map((line) => (isRecord(line.event) ? line.event.ts : undefined))).toEqual([
      Date.UTC(2026, 0, 1),
      Date.UTC(2026, 0, 1) + 5_000,
    ]);
  });

  it("at shutdown each held-back message gets its own repeat summary", () => {
    const clock = new FakeClock();
    const { logger, lines } = memoryLogger({ repeatWindowMs: 60_000, clock });
    for (let index = 0; index < 2; index++) {
      logger.error("config.yaml:8:13: selfHealth.interval: must be between 1s and 1h");
      logger.error('config.yaml:9:3: selfHealth.intervall: unknown key "intervall"');
    }
    logger.closeRepeats();
    const summaries = lines.filter((line) => typeof line.repeatOf === "string");
    expect(summaries.map((line) => [line.repeatOf, line.repeated])).toEqual([
      ["config.yaml:8:13: selfHealth.interval: must be between 1s and 1h", 1],
      ['config.yaml:9:3: selfHealth.intervall: unknown key "intervall"', 1],
    ]);
  });
});
