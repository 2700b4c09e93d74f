/**
 * The body of `edgewarden receive -c FILE` (issue #7 item 2), loaded by receive.ts only when the
 * command runs: load the receiver's config and files, run ReceiverService until SIGINT/SIGTERM or a
 * fatal store failure. Exit codes: 0 clean stop, 1 fatal, 2 bad config or key file.
 */
import { pino } from "pino";
import { systemClock } from "../clock.js";
import { type ConfigIssue, formatIssue } from "../config/configIssue.js";
import { createLogger, type DaemonLogger } from "../observability/logger.js";
import { loadReceiverConfigFile } from "../receiver/config/loadReceiverConfig.js";
import { readReceiverFiles } from "../receiver/config/receiverFiles.js";
import { STDOUT_PATH } from "../receiver/jsonlStore.js";
import { ReceiverService } from "../receiver/receiverService.js";
import { packageVersion } from "../version.js";
import { releaseEarlyStopSignals } from "./earlySignals.js";
import { ExitCode } from "./exitCodes.js";

export async function runReceiver(configPath: string): Promise<number> {
  let requestStop: (reason: string) => void = () => undefined;
  let stopBeforeStart: string | undefined;
  const stopped = new Promise<string>((resolve) => {
    requestStop = resolve;
  });
  const onStop = (signal: NodeJS.Signals) => {
    stopBeforeStart ??= signal;
    requestStop(signal);
  };
  process.on("SIGTERM", onStop);
  process.on("SIGINT", onStop);
  stopBeforeStart = releaseEarlyStopSignals() ?? stopBeforeStart;
  try {
    return await receive(configPath, stopped, () => stopBeforeStart);
  } finally {
    process.off("SIGTERM", onStop);
    process.off("SIGINT", onStop);
  }
}

async function receive(
  configPath: string,
  stopRequested: Promise<string>,
  stoppedEarly: () => string | undefined,
): Promise<number> {
  const loaded = await loadReceiverConfigFile(configPath);
  if (!loaded.ok) {
    return refuse(configPath, loaded.errors);
  }
  const { config } = loaded;
  const files = await readReceiverFiles(config, loaded.locate);
  if (!files.ok) {
    return refuse(configPath, files.errors);
  }
  // With records on stdout, log lines go to stderr so the two never mix.
  const logger = createLogger({
    level: config.log.level,
    repeatWindowMs: 60_000,
    ...(config.store.jsonl?.path === STDOUT_PATH
      ? { destination: pino.destination({ fd: 2, sync: true }) }
      : {}),
  });
  installCrashHandlers(logger);
  logger.info({ version: packageVersion(), config: configPath }, "edgewarden receive starting");
  if (stoppedEarly() !== undefined) {
    logger.info({ reason: stoppedEarly() }, "stop requested before start-up began");
    return ExitCode.ok;
  }
  let fatal: unknown;
  let onFatal: () => void = () => undefined;
  const failed = new Promise<string>((resolve) => {
    onFatal = () => resolve("fatal");
  });
  const service = new ReceiverService({
    config,
    files: files.files,
    logger,
    clock: systemClock,
    onFatal: (error) => {
      fatal ??= error;
      logger.fatal({ err: error }, "receiver: storing failed; stopping without acknowledging more");
      onFatal();
    },
  });
  try {
    await service.start();
  } catch (error) {
    logger.fatal({ err: error }, "receiver: start-up failed");
    await service.stop({ fatal: true }).catch(() => undefined);
    return ExitCode.fatal;
  }
  const reason = await Promise.race([stopRequested, failed]);
  logger.info({ reason }, "receiver: stopping");
  try {
    await service.stop({ fatal: fatal !== undefined });
  } catch {
    return ExitCode.fatal;
  }
  logger.closeRepeats();
  // A handle some library leaked must not keep the process up after a complete stop.
  setTimeout(() => process.exit(fatal === undefined ? ExitCode.ok : ExitCode.fatal), 2_000).unref();
  return fatal === undefined ? ExitCode.ok : ExitCode.fatal;
}

function refuse(configPath: string, errors: readonly ConfigIssue[]): number {
  for (const issue of errors) {
    process.stderr.write(`${formatIssue(issue)}\n`);
  }
  process.stderr.write(`${configPath}: ${errors.length} error(s); not starting\n`);
  return ExitCode.usage;
}

/** An uncaught error leaves state unknown: log it and exit 1; nothing unacknowledged is lost. */
function installCrashHandlers(logger: DaemonLogger): void {
  const die = (kind: string) => (error: unknown) => {
    try {
      logger.fatal({ err: error }, kind);
    } finally {
      process.exit(ExitCode.fatal);
    }
  };
  process.on("uncaughtException", die("uncaught exception"));
  process.on("unhandledRejection", die("unhandled promise rejection"));
}
