/**
 * Power-profile confusion matrix (issue #6 must-show: "each power-profile anomaly type injected
 * into synthetic machine data ... is flagged with the right type; the confusion matrix in the
 * closing note"). For each injected type, and "none", runs N seeded scenarios of the synthetic
 * machine (test/analytics/support/powerMachine.ts: 14 days of clean history, then 2 test days
 * with the injection): fit the profile on the history, score the test days through a fresh
 * monitor, and take as the flagged type the one with a finding at or above LOW (0.6, the schema's
 * default) on most readings, "none" if there is none. The same for the gateway's own profile.
 *
 *   npm run eval:power                         20 scenarios per type and strength, seeds from 101
 *   npm run eval:power -- --seeds 50 --first-seed 1000 --strength mild
 *
 * Strengths (test/analytics/support/powerMachine.ts STRENGTHS): strong faults, and mild ones near
 * the edge of the learnt bands, to show where detection stops.
 *
 * Prints the matrices as JSON, then as markdown tables. The tests use seeds 1-6; the default
 * seeds here are others, so the figures are not tuned on what they report.
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Finding } from "../../src/analytics/findings.js";
import { fitGatewayProfile, GatewayProfileMonitor } from "../../src/analytics/gatewayProfile/index.js";
import { fitPowerProfile, PowerProfileMonitor } from "../../src/analytics/power/index.js";
import {
  countFlags,
  GATEWAY_INJECTIONS,
  gatewayScenario,
  POWER_INJECTIONS,
  powerScenario,
  type Strength,
} from "../../test/analytics/support/powerMachine.js";

type Matrix = Record<string, Record<string, number>>;

export interface ConfusionResult {
  readonly strength: Strength;
  readonly scenariosPerType: number;
  readonly firstSeed: number;
  readonly labels: readonly string[];
  /** matrix[injected][flagged] = scenarios. */
  readonly matrix: Matrix;
  /** Share of scenarios whose flagged type is the injected one (incl. none -> none). */
  readonly accuracy: number;
  /** Readings flagged (any type, >= LOW) outside the injected span, per scenario, mean. */
  readonly falseAlarmReadingsPerScenario: number;
  /**
   * Mean share of the span's readings flagged with the injected type. Below 1 by design where only
   * some readings can show the fault (PF only while loaded, idle draw only while idle) and for the
   * persistence before a rule speaks.
   */
  readonly spanRecall: Record<string, number>;
  /** Median minutes from the span's start to its first reading flagged with the injected type. */
  readonly medianLatencyMinutes: Record<string, number | null>;
  readonly fitMsMean: number;
  /** Scoring cost per reading (fit excluded), indicative on a shared machine. */
  readonly usPerReading: number;
}

interface ScenarioLike<Row> {
  readonly type: string;
  readonly train: Row[];
  readonly test: Row[];
  readonly span: { readonly from: number; readonly to: number } | null;
}

interface Runner<Row> {
  readonly types: readonly string[];
  scenario(type: string, seed: number): ScenarioLike<Row>;
  /** Fits on the history, returns a scorer with a fresh monitor. */
  fit(train: Row[], seed: number): (row: Row) => readonly Finding[];
  ts(row: Row): number;
}

function median(values: number[]): number | null {
  if (values.length === 0) {
    return null;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function evaluate<Row extends { readonly reading: { readonly ts: number } }>(
  runner: Runner<Row>,
  strength: Strength,
  scenarios: number,
  firstSeed: number,
): ConfusionResult {
  const labels = [...runner.types, "none"];
  const matrix: Matrix = Object.fromEntries(
    labels.map((a) => [a, Object.fromEntries(labels.map((b) => [b, 0]))]),
  );
  let correct = 0;
  let falseAlarms = 0;
  let fitMs = 0;
  let scoreMs = 0;
  let readings = 0;
  const latencies: Record<string, number[]> = Object.fromEntries(runner.types.map((t) => [t, []]));
  const recall: Record<string, number> = Object.fromEntries(runner.types.map((t) => [t, 0]));
  for (const injected of labels) {
    for (let s = 0; s < scenarios; s++) {
      const seed = firstSeed + s;
      const scenario = runner.scenario(injected, seed);
      const t0 = performance.now();
      const score = runner.fit(scenario.train, seed);
      const t1 = performance.now();
      const findings = scenario.test.map(score);
      scoreMs += performance.now() - t1;
      fitMs += t1 - t0;
      readings += scenario.test.length;
      const counts = countFlags(scenario.test, findings, scenario.span);
      const row = matrix[injected] as Record<string, number>;
      row[counts.dominant] = (row[counts.dominant] ?? 0) + 1;
      correct += counts.dominant === injected ? 1 : 0;
      falseAlarms += Object.values(counts.outside).reduce((a, b) => a + b, 0);
      const span = scenario.span;
      if (span !== null) {
        const spanReadings = scenario.test.filter(
          (r) => runner.ts(r) >= span.from && runner.ts(r) < span.to,
        ).length;
        recall[injected] =
          (recall[injected] ?? 0) + (counts.inSpan[injected] ?? 0) / Math.max(1, spanReadings) / scenarios;
        const first = scenario.test.findIndex(
          (r, i) =>
            runner.ts(r) >= span.from &&
            (findings[i] ?? []).some((f) => f.type === injected && f.probability >= 0.6),
        );
        if (first >= 0) {
          latencies[injected]?.push((runner.ts(scenario.test[first] as Row) - span.from) / 60_000);
        }
      }
    }
  }
  const total = labels.length * scenarios;
  return {
    strength,
    scenariosPerType: scenarios,
    firstSeed,
    labels,
    matrix,
    accuracy: correct / total,
    falseAlarmReadingsPerScenario: falseAlarms / total,
    spanRecall: recall,
    medianLatencyMinutes: Object.fromEntries(Object.entries(latencies).map(([t, v]) => [t, median(v)])),
    fitMsMean: fitMs / total,
    usPerReading: (1000 * scoreMs) / readings,
  };
}

export function powerConfusion(strength: Strength, scenarios: number, firstSeed: number): ConfusionResult {
  return evaluate(
    {
      types: POWER_INJECTIONS,
      scenario: (type, seed) =>
        powerScenario(type as (typeof POWER_INJECTIONS)[number] | "none", seed, { strength }),
      fit: (train, seed) => {
        const profile = fitPowerProfile(
          train.map((r) => r.reading),
          { seed, nominalVoltage: 400 },
        );
        const monitor = new PowerProfileMonitor();
        return (row) => profile.score(row.reading, row.context, monitor);
      },
      ts: (row) => row.reading.ts,
    },
    strength,
    scenarios,
    firstSeed,
  );
}

export function gatewayConfusion(strength: Strength, scenarios: number, firstSeed: number): ConfusionResult {
  return evaluate(
    {
      types: GATEWAY_INJECTIONS,
      scenario: (type, seed) =>
        gatewayScenario(type as (typeof GATEWAY_INJECTIONS)[number] | "none", seed, { strength }),
      fit: (train, seed) => {
        const profile = fitGatewayProfile(
          train.map((r) => ({ ...r.reading, ...r.workload })),
          { seed },
        );
        const monitor = new GatewayProfileMonitor();
        return (row) => profile.score(row.reading, row.workload, monitor);
      },
      ts: (row) => row.reading.ts,
    },
    strength,
    scenarios,
    firstSeed,
  );
}

/** The matrix as a markdown table: injected type per row, flagged type per column. */
export function markdownTable(title: string, result: ConfusionResult): string {
  const { labels, matrix } = result;
  const header = `| injected \\ flagged | ${labels.join(" | ")} |`;
  const rule = `|---|${labels.map(() => "---:").join("|")}|`;
  const rows = labels.map((a) => `| ${a} | ${labels.map((b) => String(matrix[a]?.[b] ?? 0)).join(" | ")} |`);
  const notes = [
    `accuracy ${(100 * result.accuracy).toFixed(1)} % over ${labels.length * result.scenariosPerType} scenarios (${result.scenariosPerType} per type, seeds ${result.firstSeed}-${result.firstSeed + result.scenariosPerType - 1});`,
    `readings flagged outside the injected span: ${result.falseAlarmReadingsPerScenario.toFixed(2)} per scenario;`,
    `share of span readings flagged with the right type: ${Object.entries(result.spanRecall)
      .map(([t, r]) => `${t} ${(100 * r).toFixed(0)} %`)
      .join(", ")};`,
    `median minutes to the first right-typed flag: ${Object.entries(result.medianLatencyMinutes)
      .map(([t, m]) => `${t} ${m === null ? "-" : m.toFixed(0)}`)
      .join(", ")};`,
    `fit ${result.fitMsMean.toFixed(0)} ms per profile, scoring ${result.usPerReading.toFixed(2)} us per reading (indicative).`,
  ];
  return [`### ${title}`, "", header, rule, ...rows, "", ...notes].join("\n");
}

function main(): void {
  const { values } = parseArgs({
    options: {
      seeds: { type: "string", default: "20" },
      "first-seed": { type: "string", default: "101" },
      strength: { type: "string", default: "both" },
    },
  });
  const scenarios = Number(values.seeds);
  const firstSeed = Number(values["first-seed"]);
  if (!Number.isInteger(scenarios) || scenarios < 1 || !Number.isInteger(firstSeed)) {
    throw new RangeError(`--seeds must be a positive integer and --first-seed an integer`);
  }
  if (!["strong", "mild", "both"].includes(values.strength)) {
    throw new RangeError(`--strength must be strong, mild or both, got ${values.strength}`);
  }
  const strengths: readonly Strength[] =
    values.strength === "both" ? ["strong", "mild"] : [values.strength === "mild" ? "mild" : "strong"];
  const results = strengths.map((strength) => ({
    strength,
    power: powerConfusion(strength, scenarios, firstSeed),
    gateway: gatewayConfusion(strength, scenarios, firstSeed),
  }));
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n\n`);
  for (const { strength, power, gateway } of results) {
    process.stdout.write(
      `${markdownTable(`Power profile, ${strength} faults: injected x flagged`, power)}\n\n`,
    );
    process.stdout.write(
      `${markdownTable(`Gateway profile, ${strength} faults: injected x flagged`, gateway)}\n\n`,
    );
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    main();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
