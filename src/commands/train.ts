/**
 * `edgewarden train -c FILE [--device ID] [--from-csv FILE]` (issue #6 item 5; DESIGN.md CLI):
 * trains the configured detectors of each machine (or of one) from the ledger's history of the
 * last analytics.training.history, or from a CSV export of one device, and saves each model with
 * its card in the models directory, where the daemon loads them at its next start or reload. The
 * streaming baselines are warmed on the same history. Progress: a bar on a TTY, log lines otherwise.
 *
 * The ledger is read as `ledger verify` reads it: the daemon must be stopped (it holds the
 * LevelDB lock; while it runs it retrains itself on analytics.training.schedule).
 *
 * Exit codes: 0 every configured detector trained, 1 some could not be (too little history, a
 * failed fit, an unreadable ledger), 2 bad options, config or CSV header.
 */
import type { Command } from "commander";
import { buildMachine, streamingSettings } from "../analytics/machine/machineBuilder.js";
import type { MachineConfig } from "../analytics/machine/machineConfig.js";
import { StreamingTagsDetector } from "../analytics/machine/streamingTags.js";
import { ModelStore } from "../analytics/models/modelStore.js";
import {
  type CollectedTraining,
  collectTrainings,
  type RetrainRequest,
} from "../analytics/stage/retrainer.js";
import { csvHistory, formatCsvRowError } from "../analytics/training/csvHistory.js";
import type { HistorySource } from "../analytics/training/historySource.js";
import { planTraining } from "../analytics/training/trainingPlan.js";
import { trainMachine } from "../analytics/training/trainMachine.js";
import type { Config } from "../config/schema/index.js";
import { ledgerHistory } from "../daemon/ledgerHistory.js";
import { ledgerDir } from "../daemon/outboxSpecs.js";
import { readEntries, readStoredState } from "../ledger/ledgerDb.js";
import { asUnopenable, LedgerUnopenableError, openLedgerForInspection } from "../ledger/ledgerInspection.js";
import {
  analyticsOf,
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
import { createProgress } from "./progressDisplay.js";

interface TrainOptions {
  config: string;
  device?: string;
  fromCsv?: string;
  timezone?: string;
}

export function registerTrain(program: Command, run: CommandRunner): void {
  program
    .command("train")
    .description("train models from the ledger's history (daemon stopped) or a CSV export, with progress")
    .option("-c, --config <file>", "config file ($EDGEWARDEN_CONFIG)", defaultConfigPath())
    .option("--device <name>", "only this device")
    .option(
      "--from-csv <file>",
      "train from a CSV export (timestamp column, then one column per tag); needs --device",
    )
    .option(...TIMEZONE_OPTION)
    .addHelpText("after", "\nExit codes: 0 trained, 1 failed, 2 bad config.")
    .action((options: TrainOptions) => run(() => train(options)));
}

function train(options: TrainOptions): Promise<number> {
  return refusalsToExitCodes("train", () => trainAll(options));
}

async function trainAll(options: TrainOptions): Promise<number> {
  const config = await loadCommandConfig(options.config);
  const analytics = analyticsOf(config);
  if (options.fromCsv !== undefined && options.device === undefined) {
    throw new UsageError("--from-csv holds one device's history: name it with --device");
  }
  const machines: MachineConfig[] =
    options.device === undefined ? analytics.machines : [machineOf(config, options.device).machine];
  if (machines.length === 0) {
    throw new UsageError("analytics.machines is empty: nothing to train");
  }
  const store = new ModelStore(modelDirOf(config));
  const timeZone = config.gateway.timezone;
  const progress = createProgress(process.stderr);
  let failed = false;
  const withHistory = async (use: (history: HistorySource, source: "csv" | "ledger") => Promise<void>) => {
    if (options.fromCsv !== undefined) {
      const csv = csvHistory(options.fromCsv, options.device ?? "", {
        timeZone: csvTimeZone(options.timezone, timeZone),
      });
      await use(csv, "csv");
      for (const error of csv.errors()) {
        process.stderr.write(`${formatCsvRowError(options.fromCsv, error)}\n`);
      }
      if (csv.stats().rejected > 0) {
        process.stderr.write(
          `edgewarden train: ${csv.stats().rejected} CSV row(s) could not be read and were left out\n`,
        );
      }
      return;
    }
    await withLedger(config, (history) => use(history, "ledger"));
  };
  await withHistory(async (history, source) => {
    const plans = machines.map((machine) => planOf(config, machine, history, source));
    progress.update(machines.map((machine) => machine.device).join(", "), 0, "reading history");
    // One pass over the history for every machine.
    const collected = await collectTrainings(plans.map((plan) => plan.request));
    for (const [i, plan] of plans.entries()) {
      const ok = await trainOne(config, plan, collected[i] as CollectedTraining, store, progress);
      failed ||= !ok;
    }
  });
  return failed ? ExitCode.fatal : ExitCode.ok;
}

async function withLedger(config: Config, use: (history: HistorySource) => Promise<void>): Promise<void> {
  const dir = ledgerDir(config);
  const db = await openLedgerForInspection(dir).catch((error: unknown) => {
    throw withRetrainHint(error);
  });
  try {
    const state = await readStoredState(db);
    await use(
      ledgerHistory({
        read: (fromSeq, toSeq, limit) => readEntries(db, fromSeq, toSeq, limit),
        bounds: () => ({ first: state.firstSeq, last: state.headSeq }),
      }),
    );
  } catch (error) {
    throw withRetrainHint(asUnopenable(dir, error));
  } finally {
    await db.close();
  }
}

interface MachinePlan {
  readonly request: RetrainRequest;
  readonly deviceTags: readonly string[];
  readonly streaming: ReturnType<typeof streamingSettings>;
}

/** What to collect for one machine; its streaming baselines are warmed on the same pass. */
function planOf(
  config: Config,
  machine: MachineConfig,
  history: HistorySource,
  source: "csv" | "ledger",
): MachinePlan {
  const analytics = analyticsOf(config);
  const { deviceTags } = machineOf(config, machine.device);
  const timeZone = config.gateway.timezone;
  const now = Date.now();
  const streaming = streamingSettings(machine, deviceTags, timeZone);
  const warm =
    streaming === undefined ? undefined : new StreamingTagsDetector(streaming.tags, streaming.config);
  return {
    deviceTags,
    streaming,
    request: {
      machine,
      plan: planTraining(machine),
      history,
      fromTs: source === "csv" ? Number.NEGATIVE_INFINITY : now - analytics.training.history,
      now,
      timeZone,
      shifts: analytics.shifts,
      backend: analytics.backend,
      source,
      minSamples:
        source === "csv" ? Math.min(analytics.training.minSamples, 20) : analytics.training.minSamples,
      ...(warm === undefined ? {} : { warm }),
    },
  };
}

async function trainOne(
  config: Config,
  plan: MachinePlan,
  collected: CollectedTraining,
  store: ModelStore,
  progress: ReturnType<typeof createProgress>,
): Promise<boolean> {
  const { machine, warm } = plan.request;
  const results = [
    ...collected.skipped,
    ...(await trainMachine(collected.inputs, (kind, fraction, status) =>
      progress.update(`${machine.device} ${kind}`, fraction, status),
    )),
  ];
  for (const result of results) {
    if (result.ok) {
      await store.saveModel(result.stored);
      const { card } = result.stored;
      progress.done(
        `${machine.device} ${card.kind}: trained on ${card.training.rows} rows, threshold ${card.threshold ?? "none"}, ${Object.entries(
          card.validation,
        )
          .map(([name, value]) => `${name} ${Number(value.toPrecision(4))}`)
          .join(", ")} -> ${store.modelPath(machine.device, card.kind)}`,
      );
    } else {
      progress.fail(`${machine.device} ${result.kind}: not trained: ${result.reason}`);
    }
  }
  if (warm !== undefined) {
    const state = await store.loadState(machine.device).catch(() => undefined);
    const base = isObject(state)
      ? state
      : buildMachine({
          machine,
          deviceTags: plan.deviceTags,
          models: new Map(),
          timeZone: config.gateway.timezone,
          muted: false,
        }).analytics.saveState();
    await store.saveState(machine.device, {
      ...base,
      detectors: { ...(isObject(base.detectors) ? base.detectors : {}), streaming: warm.saveState() },
    });
    progress.done(
      `${machine.device} streaming: baselines of ${plan.streaming?.tags.length ?? 0} tag(s) warmed on ${collected.samples} samples`,
    );
  }
  return results.every((result) => result.ok);
}

/** A ledger in use means the daemon runs: say how to ask it to retrain instead. */
function withRetrainHint(error: unknown): unknown {
  return error instanceof LedgerUnopenableError && /in use/.test(error.message)
    ? new LedgerUnopenableError(
        `${error.message}; a running daemon trains itself: send it SIGUSR2 to retrain now (systemctl kill -s SIGUSR2 edgewarden)`,
        { cause: error },
      )
    : error;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
