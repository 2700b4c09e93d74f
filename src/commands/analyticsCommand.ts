/**
 * What `train` and `backtest` share (issue #6 items 5 and 6): the config, the machine of a device
 * (or the default analytics of a device the config does not list), and the models directory.
 */

import type { AnalyticsConfig, MachineConfig } from "../analytics/machine/machineConfig.js";
import { deviceTagNames } from "../analytics/machine/machineConfig.js";
import { CsvHeaderError } from "../analytics/training/csvHistory.js";
import { formatIssue } from "../config/configIssue.js";
import { machineSchema } from "../config/schema/analytics.js";
import type { Config } from "../config/schema/index.js";
import { isTimeZone } from "../config/schema/primitives.js";
import { prepareConfig } from "../daemon/prepareConfig.js";
import { LedgerUnopenableError } from "../ledger/ledgerInspection.js";
import { ExitCode } from "./exitCodes.js";

/** A refusal before any work: bad options or config (exit 2). */
export class UsageError extends Error {}

export async function loadCommandConfig(path: string): Promise<Config> {
  const result = await prepareConfig(path, "check");
  if (!result.ok) {
    throw new UsageError(result.errors.map(formatIssue).join("\n"));
  }
  return result.config;
}

export function analyticsOf(config: Config): AnalyticsConfig {
  const analytics = config.analytics;
  if (analytics === undefined) {
    // The schema's defaults, so a config without the section can still be backtested.
    throw new UsageError(
      "the config has no analytics section; add `analytics: {}` (see docs/configuration.md)",
    );
  }
  return analytics;
}

export interface DeviceMachine {
  readonly machine: MachineConfig;
  readonly deviceTags: readonly string[];
  /** True when the config lists no analytics for the device and the defaults are used. */
  readonly defaulted: boolean;
}

/** The device's machine config; a device with no machine entry gets the default detectors. */
export function machineOf(config: Config, device: string): DeviceMachine {
  const deviceConfig = config.devices.find((candidate) => candidate.name === device);
  if (deviceConfig === undefined) {
    const names = config.devices.map((candidate) => candidate.name).join(", ");
    throw new UsageError(`no device named "${device}" in the config (devices: ${names || "none"})`);
  }
  const listed = config.analytics?.machines.find((machine) => machine.device === device);
  return {
    machine: listed ?? machineSchema.parse({ device }),
    deviceTags: deviceTagNames(deviceConfig),
    defaulted: listed === undefined,
  };
}

export function modelDirOf(config: Config): string {
  return config.analytics?.modelDir ?? `${config.gateway.dataDir}/models`;
}

/** The zone CSV times without an offset are read in: --timezone, else the gateway's. */
export function csvTimeZone(option: string | undefined, gatewayZone: string): string {
  if (option === undefined) {
    return gatewayZone;
  }
  if (!isTimeZone(option)) {
    throw new UsageError(`--timezone: "${option}" is not an IANA time zone (e.g. UTC, Europe/Berlin)`);
  }
  return option;
}

/** The `--timezone` option both commands take. */
export const TIMEZONE_OPTION = [
  "--timezone <zone>",
  "IANA zone of CSV times written without an offset (default gateway.timezone)",
] as const;

/**
 * Runs a command body, turning the refusals both commands share into their exit codes: bad
 * options, config or CSV header exit 2; a ledger that cannot be opened (in use, missing) exits 1.
 */
export async function refusalsToExitCodes(command: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    const usage = error instanceof UsageError || error instanceof CsvHeaderError;
    if (!usage && !(error instanceof LedgerUnopenableError)) {
      throw error;
    }
    process.stderr.write(`edgewarden ${command}: ${error.message}\n`);
    return usage ? ExitCode.usage : ExitCode.fatal;
  }
}
