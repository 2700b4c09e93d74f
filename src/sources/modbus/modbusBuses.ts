/**
 * Enabled Modbus devices grouped into buses: every device reached over one physical path (a
 * serial port, a serial server, a TCP endpoint) shares one link and one scheduler, so the
 * "one owner per serial port, one queue per bus" rule (issue #4 item 3) follows from the config
 * rather than from care in each call site. Grouping uses the same link key as the config check
 * that refuses conflicting settings on one path (deviceChecks.ts linkOf).
 */
import type { Clock } from "../../clock.js";
import { linkOf } from "../../config/schema/deviceChecks.js";
import type { DeviceConfig, ModbusDeviceConfig } from "../../config/schema/index.js";
import type { Logger } from "../../observability/logger.js";
import type { SampleSink } from "../../records.js";
import { BusScheduler, type PollObserver } from "./busScheduler.js";
import { createLink } from "./createLink.js";
import { DevicePoller } from "./devicePoller.js";
import { LearntLimits } from "./learntLimits.js";
import type { ModbusLink } from "./link/modbusLink.js";

export interface BusPlan {
  /** Stable id of the path, e.g. "serial:/dev/ttyUSB0" or "tcp:10.0.0.5:502". */
  readonly key: string;
  readonly label: string;
  readonly devices: readonly ModbusDeviceConfig[];
}

export function planBuses(devices: readonly DeviceConfig[]): BusPlan[] {
  const buses = new Map<string, { label: string; devices: ModbusDeviceConfig[] }>();
  for (const device of devices) {
    if (device.protocol === "serial-line" || !device.enabled) {
      continue;
    }
    const link = linkOf(device);
    const bus = buses.get(link.key) ?? { label: link.label, devices: [] };
    bus.devices.push(device);
    buses.set(link.key, bus);
  }
  return [...buses].map(([key, bus]) => ({ key, label: bus.label, devices: bus.devices }));
}

export interface BusDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly emit: SampleSink;
  /** Beaten by the poll loop, so a hung loop withholds the systemd watchdog. */
  readonly heartbeat?: { beat(): void; close(): void };
  /** The status endpoint's poll metrics (issue #7 item 3); absent when it is off. */
  readonly observer?: PollObserver | undefined;
  /** Tests put a fault-injecting link here; the default opens the configured transport. */
  readonly createLink?: ((devices: readonly ModbusDeviceConfig[]) => ModbusLink) | undefined;
}

/** A scheduler for one bus; constructing it does no I/O (start() opens the link). */
export function createBus(plan: BusPlan, deps: BusDeps): BusScheduler {
  const learnt = new LearntLimits();
  const pollers = plan.devices.map(
    (device) => new DevicePoller(device, { clock: deps.clock, logger: deps.logger, learnt }),
  );
  const link = (deps.createLink ?? createLink)(plan.devices);
  return new BusScheduler(link, pollers, {
    clock: deps.clock,
    logger: deps.logger,
    emit: deps.emit,
    ...(deps.heartbeat === undefined ? {} : { heartbeat: deps.heartbeat }),
    observer: deps.observer,
  });
}
