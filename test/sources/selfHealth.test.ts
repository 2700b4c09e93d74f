import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { createLogger } from "../../src/observability/logger.js";
import type { Sample } from "../../src/records.js";
import { SelfHealthSource } from "../../src/sources/selfHealth/selfHealthSource.js";

describe("self-health source", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "ew-health-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("samples this machine's /proc into plausible gateway samples and beats its heartbeat each time", async () => {
    const batches: Sample[] = [];
    let beats = 0;
    let closed = false;
    const source = new SelfHealthSource(
      { intervalMs: 200, dataDir: dir },
      {
        clock: systemClock,
        logger: createLogger({ level: "fatal", repeatWindowMs: 0, destination: { write: () => {} } }),
        heartbeat: {
          beat: () => {
            beats++;
          },
          close: () => {
            closed = true;
          },
        },
        emit: (sample) => batches.push(sample),
      },
    );
    await source.start(new AbortController().signal);
    expect(batches).toHaveLength(1); // start() takes the baseline sample before it resolves
    await new Promise((resolve) => setTimeout(resolve, 550));
    await source.stop();
    const settled = batches.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(batches.length).toBe(settled); // nothing after stop()
    expect(settled).toBeGreaterThanOrEqual(3);
    expect(beats).toBe(settled);
    expect(closed).toBe(true);

    const lastSample = batches.at(-1);
    expect(lastSample).toMatchObject({ kind: "sample", device: "gateway" });
    const last = new Map(Object.entries(lastSample?.values ?? {}));
    for (const reading of last.values()) {
      expect(reading.quality).toBe("good");
      expect(Number.isFinite(reading.value)).toBe(true);
    }
    const value = (tag: string) => Number(last.get(tag)?.value);
    expect(value("cpu_percent")).toBeGreaterThanOrEqual(0);
    expect(value("cpu_percent")).toBeLessThanOrEqual(100);
    expect(value("memory_used_percent")).toBeGreaterThan(0);
    expect(value("memory_used_percent")).toBeLessThan(100);
    expect(value("disk_free_percent")).toBeGreaterThan(0);
    expect(value("load_1m")).toBeGreaterThanOrEqual(0);
    expect(value("network_rx_rate")).toBeGreaterThanOrEqual(0);
  });
});
