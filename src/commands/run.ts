/** `edgewarden run -c FILE`: the daemon. Exit 0 clean stop, 1 fatal, 2 bad config. */
import type { Command } from "commander";
import { systemClock } from "../clock.js";
import { formatIssue } from "../config/configIssue.js";
import { planComponents } from "../daemon/composition.js";
import { Daemon } from "../daemon/daemon.js";
import { DurableReport } from "../daemon/durableReport.js";
import { LedgerEventSink } from "../daemon/ledgerEventSink.js";
import { prepareConfig } from "../daemon/prepareConfig.js";
import { createNotifier } from "../daemon/systemdNotify.js";
import { createLogger, type DaemonLogger } from "../observability/logger.js";
import { packageVersion } from "../version.js";
import { releaseEarlyStopSignals } from "./earlySignals.js";
import { defaultConfigPath, ExitCode } from "./exitCodes.js";
import type { CommandRunner } from "./program.js";

export function registerRun(program: Command, run: CommandRunner): void {
  program
    .command("run")
    .description(
      "run the gateway daemon (systemd Type=notify; SIGHUP reloads the config, SIGUSR2 retrains the models)",
    )
    .option("-c, --config <file>", "config file ($EDGEWARDEN_CONFIG)", defaultConfigPath())
    .addHelpText("after", "\nExit codes: 0 clean stop, 1 fatal error, 2 bad config.")
    .action((options: { config: string }) => run(() => runDaemon(options.config)));
}

async function runDaemon(configPath: string): Promise<number> {
  // A stop request may arrive before the daemon exists (systemd stops us while we parse):
  // remember it instead of dying by the signal's default action.
  let daemon: Daemon | undefined;
  let stopBeforeStart: string | undefined;
  const onStop = (signal: NodeJS.Signals) => {
    if (daemon === undefined) {
      stopBeforeStart = signal;
    } else {
      daemon.requestStop(signal);
    }
  };
  const onReload = () => daemon?.requestReload();
  const onRetrain = () => daemon?.requestRetrain();
  process.on("SIGTERM", onStop);
  process.on("SIGINT", onStop);
  process.on("SIGHUP", onReload);
  process.on("SIGUSR2", onRetrain);
  stopBeforeStart = releaseEarlyStopSignals();

  const prepared = await prepareConfig(configPath, "run");
  if (!prepared.ok) {
    for (const issue of [...prepared.errors, ...prepared.warnings]) {
      process.stderr.write(`${formatIssue(issue)}\n`);
    }
    process.stderr.write(`${configPath}: ${prepared.errors.length} error(s); not starting\n`);
    return ExitCode.usage;
  }
  const { config } = prepared;
  const logger = createLogger({
    level: config.observability.log.level,
    repeatWindowMs: config.observability.log.repeatWindow,
  });
  installCrashHandlers(logger);
  for (const warning of prepared.warnings) {
    logger.warn({ configWarning: formatIssue(warning) }, formatIssue(warning));
  }
  logger.info(
    { version: packageVersion(), node: process.versions.node, config: configPath },
    "edgewarden starting",
  );
  if (stopBeforeStart !== undefined) {
    logger.info({ reason: stopBeforeStart }, "stop requested before start-up began");
    return ExitCode.ok;
  }
  const notifier = createNotifier(process.env, logger);
  // Events reach the journal at once and the ledger (so upstream) as soon as it runs.
  const events = new LedgerEventSink(logger, systemClock);
  // A test hook, off unless a parent asks for it over IPC (durableReport.ts, issue #5 "Crash").
  const durable = DurableReport.fromProcess();
  daemon = new Daemon({
    config,
    configSha256: prepared.sha256,
    reloadConfig: async () => {
      const next = await prepareConfig(configPath, "run");
      return next.ok
        ? { ok: true, config: next.config, sha256: next.sha256 }
        : { ok: false, errors: next.errors.map(formatIssue) };
    },
    plan: (next) => planComponents(next, { events, durable }),
    logger,
    notifier,
    clock: systemClock,
    events,
  });
  const code = await daemon.run();
  process.off("SIGHUP", onReload);
  process.off("SIGUSR2", onRetrain);
  // Everything is stopped; a handle leaked by some library must not keep the process up until
  // systemd's SIGKILL. The timer is unref'd, so a clean exit does not wait for it.
  setTimeout(() => {
    logger.warn("still alive 2 s after a complete stop; exiting");
    process.exit(code);
  }, 2000).unref();
  return code;
}

/** An uncaught error leaves state unknown: log it, then exit 1 so systemd restarts us (FAULTS 8.8). */
function installCrashHandlers(logger: DaemonLogger): void {
  const die = (kind: string) => (error: unknown) => {
    try {
      logger.fatal({ err: error }, kind);
      logger.closeRepeats();
    } finally {
      process.exit(ExitCode.fatal);
    }
  };
  process.on("uncaughtException", die("uncaught exception"));
  process.on("unhandledRejection", die("unhandled promise rejection"));
}
