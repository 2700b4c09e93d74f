/**
 * What the gateway's own profile holds (issue #6 item 2: "the gateway's own profile, from the
 * self-health source: sustained CPU with no matching workload (crypto-mining-like), unusual network
 * egress (botnet-like), overheating"). Learnt relations between the self-health tags and the
 * gateway's own workload, plus absolute limits that apply trained or not.
 */
import type { AnomalyType } from "../findings.js";
import type { Persistence } from "../power/rulePersistence.js";
import type { RobustLine } from "./robustLine.js";

export const GATEWAY_RULE_TYPES = [
  "crypto-mining",
  "botnet-egress",
  "overheating",
] as const satisfies readonly AnomalyType[];
export type GatewayRuleType = (typeof GATEWAY_RULE_TYPES)[number];

/** One self-health sample (selfHealthSource.ts tags), any of them possibly missing. */
export interface GatewayReading {
  readonly ts: number;
  /** cpu_percent, 0..100 over all cores. */
  readonly cpuPercent?: number | undefined;
  /** load_1m. */
  readonly load1m?: number | undefined;
  /** temperature, degC. */
  readonly temperature?: number | undefined;
  /** network_tx_rate, B/s. */
  readonly txRate?: number | undefined;
  /** network_rx_rate, B/s; kept for the record, no rule reads it yet. */
  readonly rxRate?: number | undefined;
}

/** The gateway's own workload at that time, supplied by the daemon. */
export interface GatewayWorkload {
  readonly samplesPerSecond: number;
  readonly uplinkBytesPerSecond: number;
}

/** A training row: a self-health sample and the workload of the same interval. */
export type GatewayHistoryRow = GatewayReading & GatewayWorkload;

export interface GatewayLimits {
  /** CPU is "high" only above this, whatever was learnt (issue #6: "> 80 %"). */
  readonly cpuPercent: number;
  /** Untrained: CPU above this, sustained, is mining-like. */
  readonly untrainedCpuPercent: number;
  /** Cores, to read load_1m as a share of the CPU when cpu_percent is missing. */
  readonly cores: number;
  /**
   * Raspberry Pi documentation, "Frequency management and thermal control": between 80 and 85 degC
   * the Arm cores are progressively throttled, at 85 degC the GPU too. 80 degC is overheating.
   */
  readonly temperatureC: number;
  /** "Far above its learnt band": at least this many degC above the learnt high edge. */
  readonly temperatureMarginC: number;
  /** Egress is "far" above what the uplink explains by at least this factor of the high edge... */
  readonly egressFactor: number;
  /** ...and by at least this many B/s, so small wiggles on an idle link do not count. */
  readonly egressMinExcessBps: number;
  /** Untrained: expected egress = overhead x uplink + base; flagged above 3x that plus 256 KiB/s. */
  readonly untrainedEgressOverhead: number;
  readonly untrainedEgressBaseBps: number;
}

export const GATEWAY_LIMIT_DEFAULTS: GatewayLimits = {
  cpuPercent: 80,
  untrainedCpuPercent: 90,
  cores: 4,
  temperatureC: 80,
  temperatureMarginC: 8,
  egressFactor: 1.5,
  egressMinExcessBps: 16_384,
  untrainedEgressOverhead: 1.5,
  untrainedEgressBaseBps: 8_192,
};

export interface GatewayTuning {
  readonly persistence: Readonly<Record<GatewayRuleType, Persistence>>;
  /** A gap between samples longer than this ends every run. */
  readonly maxGapMs: number;
}

export const GATEWAY_TUNING_DEFAULTS: GatewayTuning = {
  persistence: {
    // "Sustained ... for several minutes": a retrain or a package upgrade is shorter.
    "crypto-mining": { readings: 3, ms: 300_000 },
    "botnet-egress": { readings: 3, ms: 120_000 },
    overheating: { readings: 3, ms: 120_000 },
  },
  maxGapMs: 900_000,
};

export interface GatewayTrainingSummary {
  readonly rows: number;
  readonly skippedRows: number;
  readonly fromTs: number;
  readonly toTs: number;
}

export interface GatewayModel {
  readonly seed: number;
  /** null: untrained, absolute limits only. */
  readonly training: GatewayTrainingSummary | null;
  /** cpu_percent on samples/s. */
  readonly cpu: RobustLine | null;
  /** load_1m on samples/s. */
  readonly load: RobustLine | null;
  /** network_tx_rate on uplink B/s: the slope is the learnt overhead ratio. */
  readonly egress: RobustLine | null;
  /** temperature on cpu_percent, so heat the CPU explains is not "overheating". */
  readonly temperature: RobustLine | null;
  /** p99.5 temperature, for samples without cpu_percent. */
  readonly temperatureHigh: number | null;
  readonly limits: GatewayLimits;
  readonly tuning: GatewayTuning;
}
