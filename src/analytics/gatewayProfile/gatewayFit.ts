/**
 * Training the gateway's own profile (issue #6 item 2) from its self-health history and the
 * workload of the same intervals: the relations of CPU, load, egress and temperature to what the
 * gateway was asked to do. A relation with too few paired rows stays null, and its rule falls back
 * to the absolute limits an untrained profile uses.
 */
import { quantileSorted, sortedCopy } from "../power/robustStats.js";
import { seededRandom } from "../random.js";
import {
  GATEWAY_LIMIT_DEFAULTS,
  GATEWAY_TUNING_DEFAULTS,
  type GatewayHistoryRow,
  type GatewayLimits,
  type GatewayModel,
  type GatewayTuning,
} from "./gatewayModel.js";
import { fitRobustLine, type RobustLine } from "./robustLine.js";

export interface FitGatewayOptions {
  readonly seed: number;
  /** Refuse to train on fewer rows with a finite time (default 100); a relation needs as many pairs. */
  readonly minRows?: number | undefined;
  readonly limits?: Partial<GatewayLimits> | undefined;
  readonly tuning?: Partial<GatewayTuning> | undefined;
}

function finite(x: number | undefined): x is number {
  return x !== undefined && Number.isFinite(x);
}

/** Paired finite (x, y) of the rows; both undefined-safe. */
function pairs(
  rows: readonly GatewayHistoryRow[],
  x: (r: GatewayHistoryRow) => number | undefined,
  y: (r: GatewayHistoryRow) => number | undefined,
): { xs: number[]; ys: number[] } {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const r of rows) {
    const a = x(r);
    const b = y(r);
    if (finite(a) && finite(b)) {
      xs.push(a);
      ys.push(b);
    }
  }
  return { xs, ys };
}

/** A profile with no training: absolute limits only (issue #6: sensible defaults when untrained). */
export function untrainedGatewayModel(
  limits: Partial<GatewayLimits> = {},
  tuning: Partial<GatewayTuning> = {},
): GatewayModel {
  return {
    seed: 0,
    training: null,
    cpu: null,
    load: null,
    egress: null,
    temperature: null,
    temperatureHigh: null,
    limits: { ...GATEWAY_LIMIT_DEFAULTS, ...limits },
    tuning: { ...GATEWAY_TUNING_DEFAULTS, ...tuning },
  };
}

export function fitGatewayModel(
  history: Iterable<GatewayHistoryRow>,
  options: FitGatewayOptions,
): GatewayModel {
  const minRows = options.minRows ?? 100;
  const rows: GatewayHistoryRow[] = [];
  let skipped = 0;
  for (const r of history) {
    if (Number.isFinite(r.ts)) {
      rows.push(r);
    } else {
      skipped++;
    }
  }
  if (rows.length < minRows) {
    throw new RangeError(
      `a gateway profile needs at least ${minRows} rows with a finite time, got ${rows.length} (${skipped} skipped)`,
    );
  }
  const random = seededRandom(options.seed);
  const line = (
    x: (r: GatewayHistoryRow) => number | undefined,
    y: (r: GatewayHistoryRow) => number | undefined,
    sigmaFloor: number,
  ): RobustLine | null => {
    const { xs, ys } = pairs(rows, x, y);
    return xs.length >= minRows ? fitRobustLine(xs, ys, random, sigmaFloor) : null;
  };
  const temperatures = rows.flatMap((r) => (finite(r.temperature) ? [r.temperature] : []));
  let fromTs = Number.POSITIVE_INFINITY;
  let toTs = Number.NEGATIVE_INFINITY;
  for (const r of rows) {
    fromTs = Math.min(fromTs, r.ts);
    toTs = Math.max(toTs, r.ts);
  }
  return {
    ...untrainedGatewayModel(options.limits, options.tuning),
    seed: options.seed,
    training: { rows: rows.length, skippedRows: skipped, fromTs, toTs },
    // Floors: CPU is read to 0.01 %, load to 0.01, egress in B/s, temperature often to 0.5 degC.
    cpu: line(
      (r) => r.samplesPerSecond,
      (r) => r.cpuPercent,
      1,
    ),
    load: line(
      (r) => r.samplesPerSecond,
      (r) => r.load1m,
      0.05,
    ),
    egress: line(
      (r) => r.uplinkBytesPerSecond,
      (r) => r.txRate,
      256,
    ),
    temperature: line(
      (r) => r.cpuPercent,
      (r) => r.temperature,
      0.5,
    ),
    temperatureHigh: temperatures.length >= minRows ? quantileSorted(sortedCopy(temperatures), 0.995) : null,
  };
}
