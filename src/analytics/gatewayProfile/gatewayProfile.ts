/**
 * The gateway's own profile (issue #6 item 2): from the self-health source and the gateway's own
 * workload, findings typed crypto-mining (sustained CPU with no matching workload), botnet-egress
 * (egress the uplink does not explain) and overheating. A pure core; time passed in as `ts`.
 *
 *   const profile = fitGatewayProfile(history, { seed: 1 });   // or untrainedGatewayProfile()
 *   const monitor = new GatewayProfileMonitor();
 *   profile.score({ ts, cpuPercent, load1m, temperature, txRate, rxRate },
 *                 { samplesPerSecond, uplinkBytesPerSecond }, monitor)  // Finding[]
 */
import type { Finding } from "../findings.js";
import { type FitGatewayOptions, fitGatewayModel, untrainedGatewayModel } from "./gatewayFit.js";
import type {
  GatewayLimits,
  GatewayModel,
  GatewayReading,
  GatewayTuning,
  GatewayWorkload,
} from "./gatewayModel.js";
import type { GatewayProfileMonitor } from "./gatewayMonitor.js";
import {
  type GatewayProfileJson,
  gatewayModelToJson,
  parseGatewayProfileJson,
} from "./gatewayProfileJson.js";
import { scoreGatewayReading } from "./gatewayRules.js";

export class GatewayProfile {
  /** Use fitGatewayProfile(), untrainedGatewayProfile() or GatewayProfile.fromJSON(). */
  constructor(readonly model: GatewayModel) {}

  /** Loads a profile written by toJSON(); throws ProfileFormatError saying what is wrong with a bad one. */
  static fromJSON(json: unknown): GatewayProfile {
    return new GatewayProfile(parseGatewayProfileJson(json));
  }

  get trained(): boolean {
    return this.model.training !== null;
  }

  /**
   * Scores one self-health sample with the workload of its interval, advancing `monitor`;
   * findings of persistent conditions, heaviest first, usually none. A sample out of time order
   * or with a non-finite time is counted in monitor.stats and changes nothing; a non-finite
   * field is treated as absent.
   */
  score(
    reading: GatewayReading,
    workload: GatewayWorkload,
    monitor: GatewayProfileMonitor,
  ): readonly Finding[] {
    return scoreGatewayReading(this.model, reading, workload, monitor);
  }

  toJSON(): GatewayProfileJson {
    return gatewayModelToJson(this.model);
  }
}

/** Learns the profile; throws RangeError with fewer than options.minRows (default 100) rows. */
export function fitGatewayProfile(
  history: Iterable<GatewayReading & GatewayWorkload>,
  options: FitGatewayOptions,
): GatewayProfile {
  return new GatewayProfile(fitGatewayModel(history, options));
}

/** Absolute limits only, for a gateway with no history yet. */
export function untrainedGatewayProfile(
  limits: Partial<GatewayLimits> = {},
  tuning: Partial<GatewayTuning> = {},
): GatewayProfile {
  return new GatewayProfile(untrainedGatewayModel(limits, tuning));
}
