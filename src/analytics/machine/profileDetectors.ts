/**
 * The power profile and the gateway's profile as machine detectors (issue #6 item 2). The
 * profile is the trained model (swapped on retrain); the monitor is the run-time state of its
 * persistence rules (how long a condition has held), kept across a swap and saved across a
 * restart, so a retrain or a restart in the middle of an overload neither forgets it nor starts
 * its clock over.
 */
import type { Finding } from "../findings.js";
import { type GatewayProfile, GatewayProfileMonitor, type GatewayReading } from "../gatewayProfile/index.js";
import { type PowerProfile, PowerProfileMonitor, type PowerReading } from "../power/index.js";
import type { MachineConfig } from "./machineConfig.js";
import type { MachineDetector, ScoreContext } from "./machineDetector.js";
import type { TagHold, TagUpdate } from "./tagHold.js";

type PowerTags = NonNullable<MachineConfig["power"]>;

export class PowerDetector implements MachineDetector {
  readonly kind = "power-profile" as const;
  readonly monitor: PowerProfileMonitor;
  readonly #tags: ReadonlySet<string>;

  constructor(
    readonly profile: PowerProfile,
    readonly tags: PowerTags,
    saved?: unknown,
  ) {
    this.monitor = restoreMonitor(PowerProfileMonitor, saved);
    this.#tags = new Set(
      [tags.power, tags.current, tags.voltage, tags.powerFactor].filter((t) => t !== undefined),
    );
  }

  observe(
    ts: number,
    updates: readonly TagUpdate[],
    hold: TagHold,
    context: ScoreContext,
  ): readonly Finding[] | undefined {
    if (!updates.some((update) => this.#tags.has(update.tag))) {
      return undefined;
    }
    const power = hold.get(this.tags.power)?.value;
    if (power === undefined) {
      return []; // the power reading is bad or missing: no verdict until it is good again
    }
    const value = (tag: string | undefined) => (tag === undefined ? undefined : hold.get(tag)?.value);
    const reading: PowerReading = {
      ts,
      power,
      current: value(this.tags.current),
      voltage: value(this.tags.voltage),
      powerFactor: value(this.tags.powerFactor),
    };
    return this.profile.score(reading, { inSchedule: context.inSchedule }, this.monitor);
  }

  saveState(): unknown {
    return this.monitor.toJSON();
  }
}

/** The self-health tags the gateway profile reads (src/sources/selfHealth/selfHealthSource.ts). */
export const GATEWAY_TAGS = {
  cpuPercent: "cpu_percent",
  load1m: "load_1m",
  temperature: "temperature",
  txRate: "network_tx_rate",
  rxRate: "network_rx_rate",
} as const;

/**
 * The gateway's own workload, as the analytics stage records it once a minute (device "gateway",
 * group "workload"): samples per second through the pipeline and bytes per second of records
 * appended (every record is forwarded, so this is what the uplink has to send). Logged like
 * readings, so training finds the workload of each moment in the ledger, as the live profile does.
 */
export const WORKLOAD_TAGS = {
  samplesPerSecond: "workload.samples_per_second",
  recordBytesPerSecond: "workload.record_bytes_per_second",
} as const;

/** The gateway profile's training vector: the workload first (required), then the health tags. */
export const GATEWAY_VECTOR_TAGS: readonly string[] = [
  WORKLOAD_TAGS.samplesPerSecond,
  WORKLOAD_TAGS.recordBytesPerSecond,
  GATEWAY_TAGS.cpuPercent,
  GATEWAY_TAGS.load1m,
  GATEWAY_TAGS.temperature,
  GATEWAY_TAGS.txRate,
  GATEWAY_TAGS.rxRate,
];

export class GatewayDetector implements MachineDetector {
  readonly kind = "gateway-profile" as const;
  readonly monitor: GatewayProfileMonitor;

  constructor(
    readonly profile: GatewayProfile,
    saved?: unknown,
  ) {
    this.monitor = restoreMonitor(GatewayProfileMonitor, saved);
  }

  observe(
    ts: number,
    updates: readonly TagUpdate[],
    hold: TagHold,
    context: ScoreContext,
  ): readonly Finding[] | undefined {
    if (updates.length === 0) {
      return undefined;
    }
    const value = (tag: string) => hold.get(tag)?.value;
    const reading: GatewayReading = {
      ts,
      cpuPercent: value(GATEWAY_TAGS.cpuPercent),
      load1m: value(GATEWAY_TAGS.load1m),
      temperature: value(GATEWAY_TAGS.temperature),
      txRate: value(GATEWAY_TAGS.txRate),
      rxRate: value(GATEWAY_TAGS.rxRate),
    };
    // The recorded workload when there is one (as in training), else the stage's live figures.
    const live = context.workload?.();
    const workload = {
      samplesPerSecond: value(WORKLOAD_TAGS.samplesPerSecond) ?? live?.samplesPerSecond ?? 0,
      uplinkBytesPerSecond: value(WORKLOAD_TAGS.recordBytesPerSecond) ?? live?.uplinkBytesPerSecond ?? 0,
    };
    return this.profile.score(reading, workload, this.monitor);
  }

  saveState(): unknown {
    return this.monitor.toJSON();
  }
}

/** A monitor from saved state, or a fresh one when there is none or it cannot be read. */
function restoreMonitor<T>(monitor: { new (): T; fromJSON(json: unknown): T }, saved: unknown): T {
  if (saved === undefined) {
    return new monitor();
  }
  try {
    return monitor.fromJSON(saved);
  } catch {
    return new monitor();
  }
}
