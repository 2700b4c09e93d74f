/**
 * How the status collector is fed (issue #7 item 3): the bus scheduler tells it of each read's
 * outcome and each finished cycle (poll duration per device, request errors by a bounded reason),
 * and the composition root makes every source and the analytics stage depend on it only when the
 * endpoint is enabled, with the HTTP server last so it stops first.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfigFile } from "../../src/config/loadConfig.js";
import type { Config } from "../../src/config/schema/index.js";
import { planComponents } from "../../src/daemon/composition.js";
import { GatewayMetrics } from "../../src/observability/metrics.js";
import { StatusCollector } from "../../src/observability/statusCollector.js";
import { BusScheduler } from "../../src/sources/modbus/busScheduler.js";
import { DevicePoller } from "../../src/sources/modbus/devicePoller.js";
import { LearntLimits } from "../../src/sources/modbus/learntLimits.js";
import { memoryLogger } from "../helpers/memoryLogger.js";
import { repoRoot } from "../helpers/paths.js";
import { modbusDevices, SkewClock, tcpDevice, uint16Tags } from "../sources/modbus/poll/pollFixtures.js";
import { SimulatedBus } from "../sources/modbus/poll/simulatedBus.js";

describe("the poll observer", () => {
  it("records each cycle's duration per device and each failed read by reason", async () => {
    const clock = new SkewClock();
    const bus = new SimulatedBus(clock, 20);
    bus.units.set(1, {});
    bus.units.set(2, { dead: true });
    bus.units.set(3, { holes: [5] });
    const { logger } = memoryLogger();
    const learnt = new LearntLimits();
    const pollers = modbusDevices([
      tcpDevice("healthy", 1, uint16Tags([0, 1])),
      tcpDevice("dead", 2, uint16Tags([0])),
      tcpDevice("holey", 3, uint16Tags([5])),
    ]).map((config) => new DevicePoller(config, { clock, logger, learnt, random: () => 1 }));
    const collector = new StatusCollector(new GatewayMetrics("0.0.0"));
    const scheduler = new BusScheduler(bus, pollers, { clock, logger, emit: () => {}, observer: collector });

    await scheduler.pollOnce(new AbortController().signal);
    await scheduler.pollOnce(new AbortController().signal);

    const durations = await collector.metrics.pollDuration.get();
    const counts = Object.fromEntries(
      durations.values
        .filter((value) => value.metricName === "edgewarden_poll_duration_seconds_count")
        .map((value) => [value.labels.device, value.value]),
    );
    expect(counts).toEqual({ healthy: 2, dead: 2, holey: 2 });
    const errors = await collector.metrics.requestErrors.get();
    const byLabel = Object.fromEntries(
      errors.values.map((value) => [`${value.labels.device}/${value.labels.reason}`, value.value]),
    );
    expect(byLabel).toEqual({ "dead/timeout": expect.any(Number), "holey/exception_02": 2 });
    expect(byLabel["dead/timeout"]).toBeGreaterThanOrEqual(2);
  });
});

describe("the status wiring", () => {
  async function exampleConfig(statusOn: boolean, healthOn = true): Promise<Config> {
    const loaded = await loadConfigFile(join(repoRoot, "config", "example.yaml"));
    if (!loaded.ok) {
      throw new Error(JSON.stringify(loaded.errors));
    }
    const { config } = loaded;
    return {
      ...config,
      observability: {
        ...config.observability,
        status: { ...config.observability.status, enabled: statusOn },
        health: { ...config.observability.health, enabled: healthOn },
      },
    };
  }

  it("makes the sources and analytics depend on the collector, and starts the server last", async () => {
    const specs = planComponents(await exampleConfig(true));
    const ids = specs.map((spec) => spec.id);
    const collectorAt = ids.indexOf("status-collector");
    expect(collectorAt).toBeGreaterThanOrEqual(0);
    expect(ids.at(-1)).toBe("status-server");
    const reporting = specs.filter(
      (spec) => /^(bus:|serial-line:)/.test(spec.id) || ["analytics", "self-health"].includes(spec.id),
    );
    expect(reporting.length).toBeGreaterThan(1);
    for (const spec of reporting) {
      expect(spec.dependsOn, spec.id).toContain("status-collector");
      expect(ids.indexOf(spec.id)).toBeGreaterThan(collectorAt);
    }
    expect(specs.at(-1)?.dependsOn).toEqual(expect.arrayContaining(["status-collector", "ledger"]));
  });

  // Health on MQTT reads the collector too (test/daemon/healthSpecs.test.ts).
  it("adds nothing when the endpoint and health on MQTT are off", async () => {
    const specs = planComponents(await exampleConfig(false, false));
    expect(specs.map((spec) => spec.id)).not.toContain("status-collector");
    expect(specs.map((spec) => spec.id)).not.toContain("status-server");
    expect(specs.flatMap((spec) => spec.dependsOn)).not.toContain("status-collector");
  });
});
