/**
 * The typed rules of a machine's power profile (issue #6 item 2): overload, abnormal idle draw,
 * voltage sag and swell, power-factor drop, running outside the schedule. Each rule gives a
 * verdict per reading (rulePersistence.ts: an excess >= 0, CLEAR or HOLD); a rule speaks only once
 * its condition has persisted, with a probability that grows with how far and how long.
 *
 * Conditions (the reading's state is the learnt state its active power falls in):
 *  - overload: power above the highest state's band; or current above that state's current band
 *    while voltage and power factor are within theirs (a sag or a PF drop also raises the current
 *    at the same power, and is typed as what it is).
 *  - voltage-sag / -swell: voltage below / above the band (Un +-10 %, EN 50160, or learnt).
 *  - power-factor-drop: in a running state (above idle), PF below that state's learnt low edge.
 *    Idle holds the run (PF at no load is poor anyway and says nothing); off ends it.
 *  - outside-schedule vs idle-draw: the first is *use* out of hours, the second *waste*.
 *      outside-schedule: out of schedule (inSchedule === false) in a running state. An idle pause
 *        of normal length (up to the grace below) right after running holds the run: the machine
 *        is still in use between cycles.
 *      idle-draw: in the idle state, and (a) out of schedule for longer than the grace, the learnt
 *        p95 idle dwell clamped to [idleGraceMinMs, idleGraceMaxMs] ("left running" after the
 *        shift), or (b) idle far longer than it ever idles in training, schedule or not, or
 *        (c) drawing more than the idle band while idle.
 *    So an idle machine out of hours is idle-draw, a working one outside-schedule; a machine with
 *    no schedule (inSchedule undefined) can only be flagged by (b) and (c).
 */
import type { Finding, TagContribution } from "../findings.js";
import { formatBand, formatDuration, formatRun, formatValue } from "./explainFormat.js";
import {
  POWER_RULE_TYPES,
  type PowerContext,
  type PowerModel,
  type PowerReading,
  type PowerRuleType,
  type PowerState,
  stateIndexOf,
} from "./powerModel.js";
import type { PowerProfileMonitor } from "./powerMonitor.js";
import { clamp } from "./robustStats.js";
import { CLEAR, HOLD, type RuleRun, runProbability } from "./rulePersistence.js";

const NO_FINDINGS: readonly Finding[] = Object.freeze([]);

/** Everything a rule looked at for one reading; built per reading, read again only to explain. */
interface Observation {
  readonly ts: number;
  readonly power: number;
  readonly current: number | undefined;
  readonly voltage: number | undefined;
  readonly pf: number | undefined;
  readonly state: PowerState;
  readonly top: PowerState;
  readonly idleRunMs: number;
  readonly graceMs: number;
  readonly longIdleMs: number;
  /** Current's excess over the top band, when it counts toward overload. */
  readonly currentExcess: number;
}

function idleTimes(model: PowerModel, state: PowerState): { graceMs: number; longIdleMs: number } {
  const { idleGraceMinMs, idleGraceMaxMs, longIdleFactor } = model.tuning;
  const graceMs = clamp(state.dwell.p95Ms, idleGraceMinMs, idleGraceMaxMs);
  const longIdleMs = Math.max(longIdleFactor * state.dwell.p95Ms, 1.5 * state.dwell.maxMs, 2 * graceMs);
  return { graceMs, longIdleMs };
}

/** Verdicts of all rules, in POWER_RULE_TYPES order, into `out`. */
function verdicts(
  model: PowerModel,
  o: Observation,
  context: PowerContext,
  prevRunning: boolean,
  out: Float64Array,
) {
  const { state, top, power, voltage, pf } = o;
  const vb = model.voltage;
  let sag = HOLD;
  let swell = HOLD;
  if (vb !== null && voltage !== undefined) {
    sag = voltage < vb.lo ? (vb.lo - voltage) / vb.scale : CLEAR;
    swell = voltage > vb.hi ? (voltage - vb.hi) / vb.scale : CLEAR;
  }
  let pfDrop = state.role === "off" ? CLEAR : HOLD;
  if (state.role === "running" && state.powerFactor !== null && pf !== undefined) {
    const { low, sigma } = state.powerFactor;
    pfDrop = pf < low ? (low - pf) / Math.max(sigma, 0.01) : CLEAR;
  }
  const powerExcess = (power - top.power.hi) / top.power.sigma;
  const overload = Math.max(
    powerExcess > 0 ? powerExcess : CLEAR,
    o.currentExcess > 0 ? o.currentExcess : CLEAR,
  );

  let idle = CLEAR;
  let outside = CLEAR;
  if (state.role === "idle") {
    const a = context.inSchedule === false && o.idleRunMs > o.graceMs ? o.idleRunMs / o.graceMs - 1 : CLEAR;
    const b = o.idleRunMs > o.longIdleMs ? o.idleRunMs / o.longIdleMs - 1 : CLEAR;
    const c = power > state.power.hi ? (power - state.power.hi) / state.power.sigma : CLEAR;
    idle = Math.max(a, b, c);
    if (context.inSchedule === false && prevRunning && o.idleRunMs <= o.graceMs) {
      outside = HOLD;
    }
  } else if (state.role === "running") {
    if (context.inSchedule === false) {
      // Out of hours, work ends "left idling" and is use, not waste: outside-schedule takes over.
      outside = top.median > 0 ? clamp(power / top.median, 0, 3) : 1;
    } else {
      // In hours, idle draw cannot be judged while the machine works: a run (the idle band
      // exceeded between work cycles) stands until the next idle or off reading says.
      idle = HOLD;
    }
  }
  out[0] = overload;
  out[1] = idle;
  out[2] = sag;
  out[3] = swell;
  out[4] = pfDrop;
  out[5] = outside;
}

const scratch = new Float64Array(POWER_RULE_TYPES.length);

/**
 * Scores one reading against the profile, advancing the monitor; returns the findings of the
 * rules whose condition has persisted (usually none). A reading whose time or power is not finite,
 * or that is not after the monitor's last one, is counted and leaves the monitor as it was.
 */
export function scorePowerReading(
  model: PowerModel,
  reading: PowerReading,
  context: PowerContext,
  monitor: PowerProfileMonitor,
): readonly Finding[] {
  const { ts, power } = reading;
  if (!Number.isFinite(ts) || !Number.isFinite(power)) {
    monitor.countNonFinite();
    return NO_FINDINGS;
  }
  const current = monitor.usable(reading.current);
  const voltage = monitor.usable(reading.voltage);
  const pf = monitor.usable(reading.powerFactor);
  if (!monitor.admit(ts, model.tuning.maxGapMs)) {
    return NO_FINDINGS;
  }
  const index = stateIndexOf(model.boundaries, power);
  monitor.track(index, ts, model.states.length);
  const state = model.states[index] as PowerState;
  const top = model.states[model.states.length - 1] as PowerState;
  const previous = monitor.previousStateIndex;
  const prevRunning = previous !== null && model.states[previous]?.role === "running";
  const vb = model.voltage;
  const voltageOut = vb !== null && voltage !== undefined && (voltage < vb.lo || voltage > vb.hi);
  const pfLow = pf !== undefined && state.powerFactor !== null && pf < state.powerFactor.low;
  const currentExcess =
    current !== undefined && top.current !== null && !voltageOut && !pfLow
      ? (current - top.current.hi) / top.current.sigma
      : CLEAR;
  const { graceMs, longIdleMs } = idleTimes(model, state);
  const o: Observation = {
    ts,
    power,
    current,
    voltage,
    pf,
    state,
    top,
    idleRunMs: ts - (monitor.stateSinceTs ?? ts),
    graceMs,
    longIdleMs,
    currentExcess,
  };
  verdicts(model, o, context, prevRunning, scratch);
  let findings: Finding[] | null = null;
  for (let r = 0; r < POWER_RULE_TYPES.length; r++) {
    const type = POWER_RULE_TYPES[r] as PowerRuleType;
    const persistence = model.tuning.persistence[type];
    const verdict = scratch[r] as number;
    const run = monitor.runs.step(type, ts, verdict, persistence);
    const spoken =
      run !== undefined
        ? finding(model, type, o, run, runProbability(run, ts, persistence))
        : Number.isNaN(verdict)
          ? monitor.runs.heldFinding(type)
          : undefined;
    if (spoken !== undefined) {
      monitor.runs.remember(type, spoken);
      findings ??= [];
      findings.push(spoken);
    }
  }
  if (findings === null) {
    return NO_FINDINGS;
  }
  return findings.sort((a, b) => b.probability - a.probability);
}

function finding(
  model: PowerModel,
  type: PowerRuleType,
  o: Observation,
  run: RuleRun,
  p: { probability: number; score: number },
): Finding {
  const { explanation, tags } = explain(model, type, o, run);
  return { detector: "power-profile", type, probability: p.probability, score: p.score, tags, explanation };
}

function explain(
  model: PowerModel,
  type: PowerRuleType,
  o: Observation,
  run: RuleRun,
): { explanation: string; tags: TagContribution[] } {
  const { tags } = model;
  const { state, top, ts } = o;
  const lasting = formatRun(run, ts);
  switch (type) {
    case "overload": {
      const powerExcess = (o.power - top.power.hi) / top.power.sigma;
      const byCurrent =
        o.currentExcess > Math.max(0, powerExcess) && top.current !== null && o.current !== undefined;
      if (byCurrent && top.current !== null && o.current !== undefined) {
        const w = powerExcess > 0 ? o.currentExcess / (o.currentExcess + powerExcess) : 1;
        const contributions: TagContribution[] = [
          { tag: tags.current, weight: w, value: o.current, expected: top.current.hi },
        ];
        if (w < 1) {
          contributions.push({ tag: tags.power, weight: 1 - w, value: o.power, expected: top.power.hi });
        }
        return {
          explanation: `${tags.current} ${formatValue(o.current)} above the ${top.name} band ${formatBand(top.current.lo, top.current.hi)} ${lasting}`,
          tags: contributions,
        };
      }
      return {
        explanation: `${tags.power} ${formatValue(o.power)} above the ${top.name} band ${formatBand(top.power.lo, top.power.hi)} ${lasting}`,
        tags: [{ tag: tags.power, weight: 1, value: o.power, expected: top.power.hi }],
      };
    }
    case "idle-draw": {
      const tag = { tag: tags.power, weight: 1, value: o.power, expected: state.median };
      if (o.power > state.power.hi) {
        return {
          explanation: `${tags.power} ${formatValue(o.power)} above the idle band ${formatBand(state.power.lo, state.power.hi)} while idle ${lasting}: energy wasted`,
          tags: [{ ...tag, expected: state.power.hi }],
        };
      }
      const why =
        o.idleRunMs > o.longIdleMs
          ? `longer than it ever idles (${formatDuration(o.longIdleMs)})`
          : `outside the schedule (a normal pause is up to ${formatDuration(o.graceMs)})`;
      return {
        explanation: `${tags.power} ${formatValue(o.power)}: idle for ${formatDuration(o.idleRunMs)} ${why}: machine left running`,
        tags: [tag],
      };
    }
    case "voltage-sag":
    case "voltage-swell": {
      const vb = model.voltage;
      const v = o.voltage ?? Number.NaN;
      const lo = vb?.lo ?? Number.NaN;
      const hi = vb?.hi ?? Number.NaN;
      const source = vb?.source === "nominal" ? `Un ${formatValue(vb.nominal ?? 0)} V ±10 %` : "learnt";
      const where = type === "voltage-sag" ? "below" : "above";
      return {
        explanation: `${tags.voltage} ${formatValue(v)} ${where} the supply band ${formatBand(lo, hi)} (${source}) ${lasting}`,
        tags: [{ tag: tags.voltage, weight: 1, value: v, expected: type === "voltage-sag" ? lo : hi }],
      };
    }
    case "power-factor-drop": {
      const low = state.powerFactor?.low ?? Number.NaN;
      const pf = o.pf ?? Number.NaN;
      return {
        explanation: `${tags.powerFactor} ${formatValue(pf)} below the ${state.name} state's normal low ${formatValue(low)} ${lasting}`,
        tags: [{ tag: tags.powerFactor, weight: 1, value: pf, expected: low }],
      };
    }
    case "outside-schedule":
      return {
        explanation: `${tags.power} ${formatValue(o.power)} (${state.name}) outside the schedule for ${formatDuration(ts - run.sinceTs)}`,
        tags: [{ tag: tags.power, weight: 1, value: o.power, expected: 0 }],
      };
  }
}
