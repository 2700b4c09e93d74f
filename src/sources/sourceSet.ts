/**
 * Every southbound source of a config, built but not started: one bus scheduler per Modbus link
 * and one source per serial-line sensor. `poll` runs them directly; the daemon wraps each in a
 * component spec of its own (so a reload restarts only the links whose devices changed).
 */
import type { Clock } from "../clock.js";
import type { DeviceConfig } from "../config/schema/index.js";
import type { Logger } from "../observability/logger.js";
import type { SampleSink } from "../records.js";
import type { BusScheduler } from "./modbus/busScheduler.js";
import { type BusDeps, createBus, planBuses } from "./modbus/modbusBuses.js";
import { SerialLineSource } from "./serialLine/serialLineSource.js";

export interface SourceSet {
  readonly buses: readonly BusScheduler[];
  readonly serialLines: readonly SerialLineSource[];
}

export interface SourceDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly emit: SampleSink;
  readonly createLink?: BusDeps["createLink"];
}

export function createSources(devices: readonly DeviceConfig[], deps: SourceDeps): SourceSet {
  const buses = planBuses(devices).map((plan) => createBus(plan, deps));
  const serialLines = devices.flatMap((device) =>
    device.protocol === "serial-line" && device.enabled
      ? [new SerialLineSource(device, { clock: deps.clock, logger: deps.logger, emit: deps.emit })]
      : [],
  );
  return { buses, serialLines };
}
