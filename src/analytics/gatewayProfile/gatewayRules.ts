/**
 * The typed rules of the gateway's own profile (issue #6 item 2), each with persistence
 * (power/rulePersistence.ts) so a retrain or an upgrade does not alarm:
 *  - crypto-mining: CPU above max(80 %, the learnt high edge at the current samples/s + 2 sigma),
 *    i.e. high and not explained by the workload; untrained, above 90 %. Without cpu_percent the
 *    same on load_1m, read as a share of `cores`.
 *  - botnet-egress: tx above what the uplink explains (learnt intercept + overhead ratio x uplink
 *    B/s) by its high residual edge + 3 sigma, by egressFactor, and by egressMinExcessBps;
 *    untrained, above 3 x (1.5 x uplink + 8 KiB/s) and 256 KiB/s more than that estimate.
 *  - overheating: temperature at or above 80 degC (Raspberry Pi throttling starts there), or more
 *    than max(8 degC, 3 sigma) above the learnt high edge for the current CPU load (so heat the
 *    CPU explains, e.g. from mining, is typed by the CPU rule, not here).
 */
import type { Finding, TagContribution } from "../findings.js";
import { formatRun, formatValue } from "../power/explainFormat.js";
import { CLEAR, HOLD, type RuleRun, runProbability } from "../power/rulePersistence.js";
import type { GatewayModel, GatewayReading, GatewayRuleType, GatewayWorkload } from "./gatewayModel.js";
import { GATEWAY_RULE_TYPES } from "./gatewayModel.js";
import type { GatewayProfileMonitor } from "./gatewayMonitor.js";
import { lineAt, type RobustLine } from "./robustLine.js";

/** The self-health tag names (selfHealthSource.ts), for explanations. */
const TAGS = {
  cpu: "cpu_percent",
  load: "load_1m",
  temperature: "temperature",
  tx: "network_tx_rate",
} as const;

const NO_FINDINGS: readonly Finding[] = Object.freeze([]);

/** What a threshold was based on; worded only when a finding is explained (no strings per sample). */
type Basis = "untrained" | "samples" | "uplink" | "cpu" | "throttling" | "learnt";

/** One rule's verdict with what it compared, for the explanation. */
interface Check {
  verdict: number;
  tag: string;
  value: number;
  threshold: number;
  /** What the relation predicts at this workload, for the sentence. */
  expected: number;
  basis: Basis;
  /** The workload or CPU value the basis refers to. */
  basisValue: number;
}

function basisText(check: Check): string {
  const v = formatValue(check.basisValue);
  switch (check.basis) {
    case "untrained":
      return "untrained limit";
    case "samples":
      return `${v} samples/s`;
    case "uplink":
      return `uplink ${v} B/s`;
    case "cpu":
      return `CPU ${v} %`;
    case "throttling":
      return "Pi throttling limit";
    case "learnt":
      return "learnt high";
  }
}

function above(value: number, threshold: number, scale: number): number {
  return value > threshold ? (value - threshold) / scale : CLEAR;
}

function highEdge(line: RobustLine, x: number, sigmas: number): number {
  return lineAt(line, x) + line.residualHigh + sigmas * line.residualSigma;
}

/** The untrained limit, and the floor and the least scale over the learnt line, of a CPU measure. */
interface CpuLimits {
  readonly untrained: number;
  readonly floor: number;
  readonly scale: number;
}

/** The crypto-mining check of one CPU measure (cpu_percent or load_1m) against its learnt line. */
function cpuCheck(
  tag: string,
  value: number,
  line: RobustLine | null,
  sps: number | undefined,
  limits: CpuLimits,
): Check | null {
  if (line === null) {
    const t = limits.untrained;
    return {
      verdict: above(value, t, limits.scale),
      tag,
      value,
      threshold: t,
      expected: t,
      basis: "untrained",
      basisValue: 0,
    };
  }
  if (sps === undefined) {
    return null;
  }
  const t = Math.max(limits.floor, highEdge(line, sps, 2));
  return {
    verdict: above(value, t, Math.max(line.residualSigma, limits.scale)),
    tag,
    value,
    threshold: t,
    expected: lineAt(line, sps),
    basis: "samples",
    basisValue: sps,
  };
}

function cryptoCheck(
  model: GatewayModel,
  cpu: number | undefined,
  load: number | undefined,
  sps: number | undefined,
): Check | null {
  const { limits } = model;
  if (cpu !== undefined) {
    return cpuCheck(TAGS.cpu, cpu, model.cpu, sps, {
      untrained: limits.untrainedCpuPercent,
      floor: limits.cpuPercent,
      scale: 2,
    });
  }
  if (load === undefined) {
    return null;
  }
  // Without cpu_percent, load_1m read as a share of `cores`.
  return cpuCheck(TAGS.load, load, model.load, sps, {
    untrained: (limits.untrainedCpuPercent / 100) * limits.cores,
    floor: 0.8 * limits.cores,
    scale: 0.1 * limits.cores,
  });
}

function egressCheck(model: GatewayModel, tx: number | undefined, uplink: number | undefined): Check | null {
  if (tx === undefined || uplink === undefined) {
    return null;
  }
  const { limits } = model;
  const line = model.egress;
  if (line === null) {
    const expected = limits.untrainedEgressOverhead * uplink + limits.untrainedEgressBaseBps;
    const t = Math.max(3 * expected, expected + 262_144);
    return {
      verdict: above(tx, t, 0.25 * t),
      tag: TAGS.tx,
      value: tx,
      threshold: t,
      expected,
      basis: "untrained",
      basisValue: 0,
    };
  }
  const expected = lineAt(line, uplink);
  const high = expected + line.residualHigh;
  const t = Math.max(
    high + 3 * line.residualSigma,
    limits.egressFactor * high,
    expected + limits.egressMinExcessBps,
  );
  return {
    verdict: above(tx, t, Math.max(line.residualSigma, 0.25 * t)),
    tag: TAGS.tx,
    value: tx,
    threshold: t,
    expected,
    basis: "uplink",
    basisValue: uplink,
  };
}

function heatCheck(
  model: GatewayModel,
  temperature: number | undefined,
  cpu: number | undefined,
): Check | null {
  if (temperature === undefined) {
    return null;
  }
  const { limits } = model;
  const absolute = temperature >= limits.temperatureC ? (temperature - limits.temperatureC) / 2 : CLEAR;
  let learnt = CLEAR;
  let t = limits.temperatureC;
  let expected = limits.temperatureC;
  let basis: Basis = "throttling";
  let basisValue = 0;
  const line = model.temperature;
  if (line !== null && cpu !== undefined) {
    expected = lineAt(line, cpu);
    const tl = expected + line.residualHigh + Math.max(limits.temperatureMarginC, 3 * line.residualSigma);
    learnt = above(temperature, tl, Math.max(line.residualSigma, 1));
    if (learnt > absolute) {
      t = tl;
      basis = "cpu";
      basisValue = cpu;
    }
  } else if (model.temperatureHigh !== null) {
    const tl = model.temperatureHigh + limits.temperatureMarginC;
    learnt = above(temperature, tl, 1);
    if (learnt > absolute) {
      t = tl;
      expected = model.temperatureHigh;
      basis = "learnt";
    }
  }
  return {
    verdict: Math.max(absolute, learnt),
    tag: TAGS.temperature,
    value: temperature,
    threshold: t,
    expected,
    basis,
    basisValue,
  };
}

function explain(type: GatewayRuleType, check: Check, run: RuleRun, ts: number): string {
  const lasting = formatRun(run, ts);
  const { tag, value, threshold, expected } = check;
  const basis = basisText(check);
  switch (type) {
    case "crypto-mining":
      return `${tag} ${formatValue(value)} above ${formatValue(threshold)} while the workload (${basis}) explains about ${formatValue(expected)} ${lasting}: CPU used by something else`;
    case "botnet-egress":
      return `${tag} ${formatValue(value)} B/s above ${formatValue(threshold)} B/s while the ${basis} explains about ${formatValue(expected)} B/s ${lasting}: unexplained egress`;
    case "overheating":
      return `${tag} ${formatValue(value)} degC above ${formatValue(threshold)} degC (${basis}) ${lasting}`;
  }
}

/**
 * Scores one self-health sample with the workload of its interval, advancing `monitor`; returns
 * the findings of the rules whose condition has persisted (usually none).
 */
export function scoreGatewayReading(
  model: GatewayModel,
  reading: GatewayReading,
  workload: GatewayWorkload,
  monitor: GatewayProfileMonitor,
): readonly Finding[] {
  const { ts } = reading;
  if (!Number.isFinite(ts)) {
    monitor.countNonFinite();
    return NO_FINDINGS;
  }
  const cpu = monitor.usable(reading.cpuPercent);
  const load = monitor.usable(reading.load1m);
  const temperature = monitor.usable(reading.temperature);
  const tx = monitor.usable(reading.txRate);
  monitor.usable(reading.rxRate);
  const sps = monitor.usable(workload.samplesPerSecond);
  const uplink = monitor.usable(workload.uplinkBytesPerSecond);
  if (!monitor.admit(ts, model.tuning.maxGapMs)) {
    return NO_FINDINGS;
  }
  const checks: Record<GatewayRuleType, Check | null> = {
    "crypto-mining": cryptoCheck(model, cpu, load, sps),
    "botnet-egress": egressCheck(model, tx, uplink),
    overheating: heatCheck(model, temperature, cpu),
  };
  let findings: Finding[] | null = null;
  for (const type of GATEWAY_RULE_TYPES) {
    const check = checks[type];
    const persistence = model.tuning.persistence[type];
    const verdict = check?.verdict ?? HOLD;
    const run = monitor.runs.step(type, ts, verdict, persistence);
    let spoken: Finding | undefined;
    if (run !== undefined && check !== null) {
      const { probability, score } = runProbability(run, ts, persistence);
      const tags: TagContribution[] = [
        { tag: check.tag, weight: 1, value: check.value, expected: check.threshold },
      ];
      spoken = {
        detector: "gateway-profile",
        type,
        probability,
        score,
        tags,
        explanation: explain(type, check, run, ts),
      };
    } else if (Number.isNaN(verdict)) {
      spoken = monitor.runs.heldFinding(type);
    }
    if (spoken !== undefined) {
      monitor.runs.remember(type, spoken);
      findings ??= [];
      findings.push(spoken);
    }
  }
  return findings === null ? NO_FINDINGS : findings.sort((a, b) => b.probability - a.probability);
}
