/**
 * The gateway's own health as samples of a device named "gateway" (DESIGN.md data flow: the
 * self-health source). It is also the daemon's first real loop: each completed sample beats its
 * heartbeat, so a hung event loop or stuck filesystem read withholds the systemd watchdog ping.
 */
import type { Clock } from "../../clock.js";
import type { Logger } from "../../observability/logger.js";
import type { SampleSink, TagReading } from "../../records.js";
import {
  type CpuTimes,
  type NetworkBytes,
  readCpuTimes,
  readDiskFreePercent,
  readLoadAverage,
  readMemoryUsedPercent,
  readNetworkBytes,
  readTemperatureC,
} from "./procReaders.js";

export const SELF_HEALTH_DEVICE = "gateway";

export interface SelfHealthOptions {
  readonly intervalMs: number;
  /** The filesystem whose free space matters: the one holding the ledger. */
  readonly dataDir: string;
}

export interface SelfHealthDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly heartbeat: { beat(): void; close(): void };
  readonly emit: SampleSink;
}

export class SelfHealthSource {
  readonly name = "self-health";
  readonly #options: SelfHealthOptions;
  readonly #deps: SelfHealthDeps;
  #timer: NodeJS.Timeout | undefined;
  #previousCpu: CpuTimes | undefined;
  #previousNet: (NetworkBytes & { at: number }) | undefined;
  #running: Promise<void> | undefined;

  constructor(options: SelfHealthOptions, deps: SelfHealthDeps) {
    this.#options = options;
    this.#deps = deps;
  }

  async start(_signal: AbortSignal): Promise<void> {
    // A first reading gives the baselines that CPU and network rates are computed against.
    await this.#sample();
    this.#timer = setInterval(() => {
      this.#running ??= this.#sample()
        .catch((error: unknown) => this.#deps.logger.warn({ err: error }, "self-health sample failed"))
        .finally(() => {
          this.#running = undefined;
        });
    }, this.#options.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
    await this.#running;
    this.#deps.heartbeat.close();
  }

  async #sample(): Promise<void> {
    const { clock } = this.#deps;
    const [cpu, memory, load, disk, temperature, network] = await Promise.all([
      readCpuTimes(),
      readMemoryUsedPercent(),
      readLoadAverage(),
      readDiskFreePercent(this.#options.dataDir),
      readTemperatureC(),
      readNetworkBytes(),
    ]);
    const now = clock.monotonicNow();
    const values: Record<string, { value: number | undefined; unit: string }> = {
      cpu_percent: { value: cpuPercent(this.#previousCpu, cpu), unit: "%" },
      memory_used_percent: { value: memory, unit: "%" },
      load_1m: { value: load, unit: "" },
      disk_free_percent: { value: disk, unit: "%" },
      temperature: { value: temperature, unit: "degC" },
      network_rx_rate: { value: rate(this.#previousNet, network, now, "rx"), unit: "B/s" },
      network_tx_rate: { value: rate(this.#previousNet, network, now, "tx"), unit: "B/s" },
    };
    this.#previousCpu = cpu;
    this.#previousNet = network === undefined ? undefined : { ...network, at: now };
    const ts = clock.wallNow();
    const clockSynced = clock.wallSynced();
    const readings: Record<string, TagReading> = {};
    for (const [tag, reading] of Object.entries(values)) {
      if (reading.value !== undefined) {
        readings[tag] = {
          value: Math.round(reading.value * 100) / 100,
          quality: "good",
          ...(reading.unit === "" ? {} : { unit: reading.unit }),
        };
      }
    }
    this.#deps.emit({ kind: "sample", device: SELF_HEALTH_DEVICE, ts, clockSynced, values: readings });
    this.#deps.heartbeat.beat();
  }
}

function cpuPercent(previous: CpuTimes | undefined, current: CpuTimes | undefined): number | undefined {
  if (previous === undefined || current === undefined || current.total <= previous.total) {
    return undefined;
  }
  return (100 * (current.busy - previous.busy)) / (current.total - previous.total);
}

function rate(
  previous: (NetworkBytes & { at: number }) | undefined,
  current: NetworkBytes | undefined,
  now: number,
  key: "rx" | "tx",
): number | undefined {
  if (previous === undefined || current === undefined || now <= previous.at || current[key] < previous[key]) {
    return undefined;
  }
  return ((current[key] - previous[key]) * 1000) / (now - previous.at);
}
