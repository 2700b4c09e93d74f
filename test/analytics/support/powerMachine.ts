/**
 * Seeded synthetic data for the power and gateway profiles (issue #6 item 2 must-show: "each
 * power-profile anomaly type injected into synthetic machine data (seeded generators in the tests)
 * is flagged with the right type"). Used by the tests and by scripts/eval/powerConfusion.ts.
 *
 * The machine: a 3-phase 400 V (line-to-line) machine tool, I = P / (sqrt(3) x V x PF) per phase.
 * Two shifts, Mon-Fri 06:00-22:00 UTC; out of hours it is off (0.05 kW of controls). In a shift it
 * warms up idle, then alternates loaded cycles (8-25 min, a per-cycle level of 22 kW +-10 %: the
 * product mix) with idle pauses (2-8 min, now and then a 15-30 min break), and idles for up to 4 min
 * after the shift before switching off. Noise: power +-4-6 %, PF +-0.01-0.02, voltage +-0.4 % and
 * a +-0.8 % daily swing, current +-1 % (meter).
 *
 * The gateway: a Pi polling 120-280 samples/s (more in the day), uplink ~45 B per sample, CPU
 * 5 % + 0.06 % per sample/s, a nightly 12-minute job at 03:00 using ~60 % CPU (retraining), a daily
 * 1-minute download burst at 04:00, temperature 46 degC + 0.16 degC per % CPU + a daily swing.
 */
import type { Finding } from "../../../src/analytics/findings.js";
import type { GatewayReading, GatewayWorkload } from "../../../src/analytics/gatewayProfile/index.js";
import type { PowerContext, PowerReading } from "../../../src/analytics/power/index.js";
import { seededRandom } from "../../../src/analytics/random.js";

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** Monday 2024-01-01 00:00 UTC: day 0 of every series. */
export const MONDAY = Date.UTC(2024, 0, 1);

export const POWER_INJECTIONS = [
  "overload",
  "idle-draw",
  "voltage-sag",
  "voltage-swell",
  "power-factor-drop",
  "outside-schedule",
] as const;
export type PowerInjectionType = (typeof POWER_INJECTIONS)[number];

export const GATEWAY_INJECTIONS = ["crypto-mining", "botnet-egress", "overheating"] as const;
export type GatewayInjectionType = (typeof GATEWAY_INJECTIONS)[number];

export interface Injection<T extends string> {
  readonly type: T;
  readonly from: number;
  readonly to: number;
  /** idle-draw only: left idle out of hours ("left-on", default) or idling above its band ("excess"). */
  readonly mode?: "left-on" | "excess";
  /** How large the fault is (STRENGTHS); default strong. */
  readonly strength?: Strength;
}

export type Strength = "strong" | "mild";

/**
 * Size of each injected fault. Strong: clear faults a technician would want told. Mild: near the
 * edge of the learnt bands, to show where detection stops (overload +25 % is about the top of the
 * loaded band: 22 kW +10 % product mix and noise).
 */
export const STRENGTHS = {
  strong: {
    overload: 1.45,
    idleExcess: 1.7,
    sag: 0.85,
    swell: 1.13,
    pfDrop: 0.62,
    leftOnHours: 6,
    cpu: 96,
    egressBps: 2_000_000,
    heatC: 30,
  },
  mild: {
    overload: 1.25,
    idleExcess: 1.35,
    sag: 0.88,
    swell: 1.11,
    pfDrop: 0.76,
    leftOnHours: 1.5,
    cpu: 86,
    egressBps: 150_000,
    heatC: 15,
  },
} as const;

export const MACHINE = {
  nominalVoltage: 400,
  offKw: 0.05,
  idleKw: 3,
  loadedKw: 22,
  idlePf: 0.45,
  loadedPf: 0.86,
} as const;

/** Box-Muller over the seeded generator. */
export function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Mon-Fri 06:00-22:00 UTC. */
export function inSchedule(ts: number): boolean {
  const day = Math.floor((ts - MONDAY) / DAY) % 7;
  const hour = ((ts - MONDAY) % DAY) / HOUR;
  return day < 5 && hour >= 6 && hour < 22;
}

export interface MachineRow {
  readonly reading: PowerReading;
  readonly context: PowerContext;
  readonly phase: "off" | "idle" | "loaded";
  readonly injected: PowerInjectionType | null;
}

type Phase = MachineRow["phase"];

function activeInjection<T extends string>(injections: readonly Injection<T>[], ts: number) {
  return injections.find((i) => ts >= i.from && ts < i.to);
}

/** A machine's readings every `stepMs` over [from, to), with the given injections. */
export function generateMachine(
  seed: number,
  from: number,
  to: number,
  injections: readonly Injection<PowerInjectionType>[] = [],
  stepMs = MINUTE,
): MachineRow[] {
  const random = seededRandom(seed);
  const g = gaussian(random);
  const uniform = (a: number, b: number) => a + (b - a) * random();
  const rows: MachineRow[] = [];
  let phase: Phase = "off";
  let remaining = 0;
  let cycleKw: number = MACHINE.loadedKw;
  let coolDown: number | null = null;
  for (let ts = from; ts < to; ts += stepMs) {
    const scheduled = inSchedule(ts);
    const inj = activeInjection(injections, ts);
    const size = STRENGTHS[inj?.strength ?? "strong"];
    const working = scheduled || inj?.type === "outside-schedule";
    const leftOn = inj?.type === "idle-draw" && (inj.mode ?? "left-on") === "left-on";
    if (leftOn) {
      phase = "idle";
      coolDown = 0; // switched off as soon as someone notices
    } else if (inj?.type === "overload") {
      phase = "loaded";
      remaining = 0;
    } else if (!working) {
      if (phase !== "off") {
        coolDown ??= uniform(0, 4 * MINUTE);
        phase = coolDown <= 0 ? "off" : "idle";
        coolDown -= stepMs;
      }
    } else if (phase === "off") {
      coolDown = null;
      phase = "idle";
      remaining = uniform(8, 15) * MINUTE;
    } else if (remaining <= 0) {
      if (phase === "idle") {
        phase = "loaded";
        remaining = uniform(8, 25) * MINUTE;
        cycleKw = MACHINE.loadedKw * uniform(0.9, 1.1);
      } else {
        phase = "idle";
        remaining = (random() < 0.06 ? uniform(15, 30) : uniform(2, 8)) * MINUTE;
      }
    }
    remaining -= stepMs;

    let power: number;
    let pf: number;
    if (phase === "off") {
      power = Math.max(0, MACHINE.offKw + 0.01 * g());
      pf = 0.3 + 0.03 * g();
    } else if (phase === "idle") {
      const excess = inj?.type === "idle-draw" && inj.mode === "excess" ? size.idleExcess : 1;
      power = MACHINE.idleKw * excess * (1 + 0.06 * g());
      pf = MACHINE.idlePf + 0.02 * g();
    } else {
      const level = inj?.type === "overload" ? MACHINE.loadedKw * size.overload : cycleKw;
      power = level * (1 + 0.04 * g());
      pf = inj?.type === "power-factor-drop" ? size.pfDrop + 0.02 * g() : MACHINE.loadedPf + 0.01 * g();
    }
    pf = Math.min(1, Math.max(0.05, pf));
    const timeOfDay = ((ts - MONDAY) % DAY) / DAY;
    const supply = inj?.type === "voltage-sag" ? size.sag : inj?.type === "voltage-swell" ? size.swell : 1;
    const voltage =
      MACHINE.nominalVoltage * (1 + 0.008 * Math.sin(2 * Math.PI * timeOfDay) + 0.004 * g()) * supply;
    const current = ((power * 1000) / (Math.sqrt(3) * voltage * pf)) * (1 + 0.01 * g());
    rows.push({
      reading: { ts, power, current, voltage, powerFactor: pf },
      context: { inSchedule: scheduled },
      phase,
      injected: inj?.type ?? null,
    });
  }
  return rows;
}

export interface GatewayRow {
  readonly reading: GatewayReading;
  readonly workload: GatewayWorkload;
  readonly injected: GatewayInjectionType | null;
}

/** The gateway's self-health samples every `stepMs` over [from, to), with the given injections. */
export function generateGateway(
  seed: number,
  from: number,
  to: number,
  injections: readonly Injection<GatewayInjectionType>[] = [],
  stepMs = 30_000,
): GatewayRow[] {
  const g = gaussian(seededRandom(seed));
  const rows: GatewayRow[] = [];
  for (let ts = from; ts < to; ts += stepMs) {
    const inj = activeInjection(injections, ts);
    const size = STRENGTHS[inj?.strength ?? "strong"];
    const hour = ((ts - MONDAY) % DAY) / HOUR;
    const daylight = Math.sin((2 * Math.PI * (hour - 6)) / 24);
    const samplesPerSecond = Math.max(10, 200 + 80 * daylight + 8 * g());
    const uplinkBytesPerSecond = Math.max(0, samplesPerSecond * 45 * (1 + 0.1 * g()));
    let cpu = 5 + 0.06 * samplesPerSecond + 1.5 * g();
    if (hour >= 3 && hour < 3.2) {
      cpu += 55 + 5 * g(); // the nightly retrain
    }
    let tx = 1.25 * uplinkBytesPerSecond + 3000 + 400 * g();
    if (hour >= 4 && hour < 4 + 1 / 60) {
      tx += 200_000; // a daily package-index download
    }
    if (inj?.type === "crypto-mining") {
      cpu = size.cpu + 2 * g();
      tx += 3000;
    }
    if (inj?.type === "botnet-egress") {
      tx += size.egressBps * (1 + 0.1 * g());
      cpu += 5;
    }
    cpu = Math.min(100, Math.max(0, cpu));
    let temperature = 46 + 0.16 * cpu + 1.5 * Math.sin((2 * Math.PI * (hour - 9)) / 24) + 0.4 * g();
    if (inj?.type === "overheating") {
      temperature += size.heatC * Math.min(1, (ts - inj.from) / (15 * MINUTE));
    }
    rows.push({
      reading: {
        ts,
        cpuPercent: cpu,
        load1m: Math.max(0, 0.036 * cpu + 0.1 + 0.05 * g()),
        temperature,
        txRate: Math.max(0, tx),
        rxRate: Math.max(0, 2000 + 0.05 * tx + 200 * g()),
      },
      workload: { samplesPerSecond, uplinkBytesPerSecond },
      injected: inj?.type ?? null,
    });
  }
  return rows;
}

/** Training history, a test period and the injected span, for one seed. */
export interface Scenario<Row, T extends string> {
  readonly type: T | "none";
  readonly train: Row[];
  readonly test: Row[];
  readonly span: Injection<T> | null;
}

/** The injected span of a power scenario in the test period (day 14, a Monday), jittered by seed. */
function powerSpan(
  type: PowerInjectionType,
  seed: number,
  day: number,
  strength: Strength,
): Injection<PowerInjectionType> {
  const jitter = ((seed * 37) % 60) * MINUTE;
  const at = (hour: number, hours: number) => ({
    strength,
    from: day + hour * HOUR + jitter,
    to: day + (hour + hours) * HOUR + jitter,
  });
  switch (type) {
    case "overload":
      return { type, ...at(9, 0.75) };
    case "idle-draw":
      // Even seeds: left idle after the shift; odd seeds: idling above its band in the shift.
      return seed % 2 === 0
        ? {
            type,
            mode: "left-on",
            strength,
            from: day + 22 * HOUR,
            to: day + (22 + STRENGTHS[strength].leftOnHours) * HOUR + jitter,
          }
        : { type, mode: "excess", ...at(8, 3) };
    case "voltage-sag":
    case "voltage-swell":
      return { type, ...at(10, 0.5) };
    case "power-factor-drop":
      return { type, ...at(8, 3) };
    case "outside-schedule":
      return { type, ...at(23, 3) };
  }
}

export interface ScenarioOptions {
  readonly strength?: Strength;
  readonly trainDays?: number;
  readonly testDays?: number;
}

/** 14 days of clean history from MONDAY, then 2 test days with the injection on the first. */
export function powerScenario(
  type: PowerInjectionType | "none",
  seed: number,
  { strength = "strong", trainDays = 14, testDays = 2 }: ScenarioOptions = {},
): Scenario<MachineRow, PowerInjectionType> {
  const testFrom = MONDAY + trainDays * DAY;
  const span = type === "none" ? null : powerSpan(type, seed, testFrom, strength);
  return {
    type,
    train: generateMachine(seed, MONDAY, testFrom),
    test: generateMachine(seed + 10_007, testFrom, testFrom + testDays * DAY, span === null ? [] : [span]),
    span,
  };
}

/** 7 days of clean history from MONDAY, then a test day with a 2-hour injection from about 14:00. */
export function gatewayScenario(
  type: GatewayInjectionType | "none",
  seed: number,
  { strength = "strong", trainDays = 7, testDays = 1 }: ScenarioOptions = {},
): Scenario<GatewayRow, GatewayInjectionType> {
  const testFrom = MONDAY + trainDays * DAY;
  const jitter = ((seed * 37) % 60) * MINUTE;
  const from = testFrom + 14 * HOUR + jitter;
  const span = type === "none" ? null : { type, strength, from, to: from + 2 * HOUR };
  return {
    type,
    train: generateGateway(seed, MONDAY, testFrom),
    test: generateGateway(seed + 10_007, testFrom, testFrom + testDays * DAY, span === null ? [] : [span]),
    span,
  };
}

/** The schema's default LOW threshold: a finding below it does not alert. */
export const LOW = 0.6;

/** Readings of a scored test period with a finding of each type at or above LOW, in and out of the span. */
export interface FlagCounts {
  readonly inSpan: Record<string, number>;
  readonly outside: Record<string, number>;
  /** The type flagged on most readings of the whole period, or "none". */
  readonly dominant: string;
}

export function countFlags(
  rows: readonly { readonly reading: { readonly ts: number } }[],
  findings: readonly (readonly Finding[])[],
  span: { readonly from: number; readonly to: number } | null,
  /**
   * Readings this long after the span still count as in it: a rule that cannot judge a reading
   * (the power factor while idle) repeats its finding until it can (rulePersistence.ts, HOLD).
   */
  afterMs = 0,
): FlagCounts {
  const inSpan: Record<string, number> = {};
  const outside: Record<string, number> = {};
  const total: Record<string, number> = {};
  rows.forEach((row, i) => {
    const ts = row.reading.ts;
    const within = span !== null && ts >= span.from && ts < span.to + afterMs;
    const seen = new Set((findings[i] ?? []).filter((f) => f.probability >= LOW).map((f) => f.type));
    for (const type of seen) {
      const bucket = within ? inSpan : outside;
      bucket[type] = (bucket[type] ?? 0) + 1;
      total[type] = (total[type] ?? 0) + 1;
    }
  });
  let dominant = "none";
  let most = 0;
  for (const [type, n] of Object.entries(total)) {
    if (n > most) {
      dominant = type;
      most = n;
    }
  }
  return { inSpan, outside, dominant };
}
