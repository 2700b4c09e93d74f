/** Configs, clocks and a harness for the scheduler's unit tests. */
import { configSchema, type ModbusDeviceConfig } from "../../../../src/config/schema/index.js";
import type { Sample } from "../../../../src/records.js";
import { BusScheduler } from "../../../../src/sources/modbus/busScheduler.js";
import { DevicePoller } from "../../../../src/sources/modbus/devicePoller.js";
import { LearntLimits } from "../../../../src/sources/modbus/learntLimits.js";
import { memoryLogger } from "../../../helpers/memoryLogger.js";
import { SimulatedBus } from "./simulatedBus.js";

/** Real time plus a virtual offset: timers work, and the simulated bus can make requests "take" time. */
export class SkewClock {
  offset = 0;
  wallNow(): number {
    return Date.UTC(2026, 0, 1) + this.monotonicNow();
  }
  monotonicNow(): number {
    return performance.now() + this.offset;
  }
  wallSynced(): boolean {
    return true;
  }
  advance(ms: number): void {
    this.offset += ms;
  }
}

/** Validated, normalised Modbus device configs, as the daemon receives them. */
export function modbusDevices(devices: readonly Record<string, unknown>[]): ModbusDeviceConfig[] {
  const parsed = configSchema.safeParse({ gateway: { id: "gw-test", site: "test-site" }, devices });
  if (!parsed.success) {
    throw new Error(JSON.stringify(parsed.error.issues));
  }
  return parsed.data.devices.filter((d): d is ModbusDeviceConfig => d.protocol !== "serial-line");
}

export function tcpDevice(
  name: string,
  unitId: number,
  tags: readonly Record<string, unknown>[],
  extra = {},
) {
  return {
    name,
    protocol: "modbus-tcp",
    host: "127.0.0.1",
    unitId,
    timeout: "100ms",
    retries: 0,
    pollGroups: [{ name: "main", interval: "1s", tags }],
    ...extra,
  };
}

export function uint16Tags(addresses: readonly number[], table = "holding") {
  return addresses.map((address) => ({ name: `r${address}`, table, address, type: "uint16" }));
}

export function harness(devices: readonly Record<string, unknown>[], requestMs = 10) {
  const clock = new SkewClock();
  const bus = new SimulatedBus(clock, requestMs);
  const { logger, lines } = memoryLogger();
  const learnt = new LearntLimits();
  const pollers = modbusDevices(devices).map(
    (config) => new DevicePoller(config, { clock, logger, learnt, random: () => 1 }),
  );
  const samples: Sample[] = [];
  const scheduler = new BusScheduler(bus, pollers, { clock, logger, emit: (s) => samples.push(s) });
  const pollOnce = async () => {
    const from = bus.log.length;
    await scheduler.pollOnce(new AbortController().signal);
    return bus.log.slice(from);
  };
  return { clock, bus, lines, learnt, pollers, samples, scheduler, pollOnce };
}

export function valuesOf(samples: readonly Sample[], device: string): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const sample of samples.filter((s) => s.device === device)) {
    for (const [tag, reading] of Object.entries(sample.values)) {
      merged[tag] = reading.quality === "good" ? reading.value : `bad: ${reading.reason}`;
    }
  }
  return merged;
}
