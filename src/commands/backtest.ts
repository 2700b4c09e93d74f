/**
 * `edgewarden backtest -c FILE --device ID --csv DATA [--train-rows N]` (issue #6 item 6): scores
 * a CSV of a device's history through that device's configured detectors (the defaults when the
 * config lists no analytics for it) and prints one JSON line per row:
 *
 *   {"ts":"2014-04-10T00:00:00.000Z","score":0.12,"anomaly":false,"severity":null,"type":null,"alert":null}
 *
 * score is the strongest finding's probability (0 when no detector found anything, and while the
 * streaming baselines learn), anomaly whether it reaches the device's LOW threshold, severity its
 * level, type the strongest finding's type; alert names the alert records the row produced
 * ("raised", "escalated", "ended"), so technicians can tune thresholds and cooldown on exported
 * history. With --train-rows N, the first N rows train the vector models and warm the baselines
 * (and print nothing); without it the models in the models directory are used when present.
 *
 * Exit codes: 0 done, 1 failed, 2 bad options, config, CSV header, or CSV rows that could not be
 * read (each printed as FILE:LINE:COL on stderr; the other rows are scored).
 */
import type { Command } from "commander";
import { severityFor } from "../analytics/alerts/index.js";
import type { DetectorKind, Finding } from "../analytics/findings.js";
import type { MachineAnalytics } from "../analytics/machine/machineAnalytics.js";
import { buildMachine, detectorFromModel } from "../analytics/machine/machineBuilder.js";
import { ModelStore, type StoredModel } from "../analytics/models/modelStore.js";
import { csvHistory, formatCsvRowError } from "../analytics/training/csvHistory.js";
import { MachineHistory } from "../analytics/training/machineHistory.js";
import { planTraining } from "../analytics/training/trainingPlan.js";
import { trainMachine } from "../analytics/training/trainMachine.js";
import type { Config } from "../config/schema/index.js";
import type { Sample } from "../records.js";
import {
  csvTimeZone,
  loadCommandConfig,
  machineOf,
  modelDirOf,
  refusalsToExitCodes,
  TIMEZONE_OPTION,
  UsageError,
} from "./analyticsCommand.js";
import { defaultConfigPath, ExitCode } from "./exitCodes.js";
import type { CommandRunner } from "./program.js";

interface BacktestOptions {
  config: string;
  device: string;
  csv: string;
  trainRows?: string;
  timezone?: string;
}

export function registerBacktest(program: Command, run: CommandRunner): void {
  program
    .command("backtest")
    .description("score a CSV of a device's history through its detectors: one JSON line per row")
    .option("-c, --config <file>", "config file ($EDGEWARDEN_CONFIG)", defaultConfigPath())
    .requiredOption("--device <name>", "the device whose detectors score the rows")
    .requiredOption("--csv <file>", "history: a time column, then one column per tag")
    .option("--train-rows <n>", "train on the first N rows, score the rest")
    .option(...TIMEZONE_OPTION)
    .addHelpText("after", "\nExit codes: 0 done, 1 failed, 2 bad config, options or CSV rows.")
    .action((options: BacktestOptions) => run(() => backtest(options)));
}

function backtest(options: BacktestOptions): Promise<number> {
  return refusalsToExitCodes("backtest", () => score(options));
}

function trainRowsOf(text: string | undefined): number {
  if (text === undefined) {
    return 0;
  }
  const rows = Number(text);
  if (!Number.isInteger(rows) || rows < 0) {
    throw new UsageError(`--train-rows expects a whole number of rows, got "${text}"`);
  }
  return rows;
}

async function score(options: BacktestOptions): Promise<number> {
  const trainRows = trainRowsOf(options.trainRows);
  const config = await loadCommandConfig(options.config);
  const { machine, deviceTags, defaulted } = machineOf(config, options.device);
  const timeZone = config.gateway.timezone;
  if (defaulted) {
    process.stderr.write(
      `edgewarden backtest: ${options.device} has no analytics in the config; using the default detectors\n`,
    );
  }
  const plan = planTraining(machine);
  const models = new Map<DetectorKind, StoredModel>();
  if (trainRows === 0) {
    const store = new ModelStore(modelDirOf(config));
    for (const vector of plan.vectors) {
      const stored = await store.loadModel(machine.device, vector.kind).catch(() => undefined);
      if (stored !== undefined) {
        models.set(vector.kind, stored);
      }
    }
  }
  const built = buildMachine({ machine, deviceTags, models, timeZone, muted: trainRows > 0 });
  for (const note of built.notes) {
    process.stderr.write(`edgewarden backtest: ${note}\n`);
  }
  if (trainRows === 0 && built.untrained.length > 0) {
    process.stderr.write(
      `edgewarden backtest: no model for ${built.untrained.join(", ")}; train one (edgewarden train) or pass --train-rows\n`,
    );
  }
  const analytics = built.analytics;
  const history = new MachineHistory(plan);
  const csv = csvHistory(options.csv, machine.device, { timeZone: csvTimeZone(options.timezone, timeZone) });
  let row = 0;
  for await (const sample of csv.samples(machine.device, Number.NEGATIVE_INFINITY)) {
    row++;
    if (row <= trainRows) {
      history.add(sample);
      analytics.observe(sample); // warms the baselines; muted, so no alert
      if (row === trainRows) {
        await trainFrom(history, machine, config, analytics);
      }
      continue;
    }
    writeRow(sample, analytics, machine.thresholds);
  }
  if (row > 0 && row < trainRows) {
    process.stderr.write(`edgewarden backtest: only ${row} rows, all used for training; nothing scored\n`);
  }
  for (const error of csv.errors()) {
    process.stderr.write(`${formatCsvRowError(options.csv, error)}\n`);
  }
  const rejected = csv.stats().rejected;
  if (rejected > 0) {
    process.stderr.write(`edgewarden backtest: ${rejected} row(s) could not be read and were not scored\n`);
    return ExitCode.usage;
  }
  return ExitCode.ok;
}

async function trainFrom(
  history: MachineHistory,
  machine: Parameters<typeof buildMachine>[0]["machine"],
  config: Config,
  analytics: MachineAnalytics,
): Promise<void> {
  const inputs = history.inputs({
    machine,
    source: "csv",
    timeZone: config.gateway.timezone,
    shifts: config.analytics?.shifts ?? [],
    backend: config.analytics?.backend ?? "auto",
    now: Date.now(),
  });
  const results = await trainMachine(inputs, () => undefined);
  const detectors = [];
  for (const result of results) {
    if (result.ok) {
      const detector = detectorFromModel(machine, result.kind, result.stored, undefined);
      if (detector !== undefined) {
        detectors.push(detector);
      }
    } else {
      process.stderr.write(`edgewarden backtest: ${result.kind} not trained: ${result.reason}\n`);
    }
  }
  analytics.replaceDetectors(detectors);
  analytics.alerts.setMuted(false);
}

function writeRow(
  sample: Sample,
  analytics: MachineAnalytics,
  thresholds: Parameters<typeof severityFor>[1],
): void {
  const output = analytics.observe(sample);
  let strongest: Finding | undefined;
  for (const finding of output.findings) {
    if (strongest === undefined || finding.probability > strongest.probability) {
      strongest = finding;
    }
  }
  const probability = strongest?.probability ?? 0;
  const severity = severityFor(probability, thresholds);
  const alert = output.anomalies.map((body) => body.state);
  process.stdout.write(
    `${JSON.stringify({
      ts: new Date(sample.ts).toISOString(),
      score: Number(probability.toFixed(6)),
      anomaly: severity !== null,
      severity,
      type: strongest?.type ?? null,
      alert: alert.length === 0 ? null : alert.join(","),
    })}\n`,
  );
}
