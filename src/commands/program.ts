/**
 * The CLI: one commander program with one file per command (DESIGN.md, CLI surface). Exit codes
 * are the command's own; usage errors exit 2; nothing here holds logic a part should own.
 */
import { Command, CommanderError } from "commander";
import { packageVersion } from "../version.js";
import { registerBacktest } from "./backtest.js";
import { registerCheck } from "./check.js";
import { registerDecrypt } from "./decrypt.js";
import { registerDemo } from "./demo.js";
import { ExitCode } from "./exitCodes.js";
import { registerKeys } from "./keys.js";
import { registerLedger } from "./ledger.js";
import { registerPending } from "./pending.js";
import { registerPoll } from "./poll.js";
import { registerReceive } from "./receive.js";
import { registerRun } from "./run.js";
import { registerSimulate } from "./simulate.js";
import { registerStatus } from "./status.js";
import { registerTrain } from "./train.js";
import { registerVersion } from "./version.js";

/** Runs a command body and records its exit code; an unexpected throw is exit 1 with the message. */
export type CommandRunner = (body: () => number | Promise<number>) => Promise<void>;

export function buildProgram(setExitCode: (code: number) => void): Command {
  const run: CommandRunner = async (body) => {
    try {
      setExitCode(await body());
    } catch (error) {
      process.stderr.write(
        `edgewarden: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      setExitCode(ExitCode.fatal);
    }
  };
  const program = new Command("edgewarden")
    .description(
      "Edge gateway daemon for plants: polls Modbus and serial devices, scores readings, keeps a hash-chained log and forwards it over MQTT.",
    )
    .version(packageVersion(), "-V, --version", "print the version")
    .showHelpAfterError("(run with --help for usage)")
    .showSuggestionAfterError(true)
    .exitOverride();
  registerRun(program, run);
  registerCheck(program, run);
  registerVersion(program, run);
  registerDemo(program, run);
  registerKeys(program, run);
  registerDecrypt(program, run);
  registerPoll(program, run);
  registerLedger(program, run);
  registerTrain(program, run);
  registerBacktest(program, run);
  registerSimulate(program, run);
  registerStatus(program, run);
  registerReceive(program, run);
  registerPending(program, run);
  for (const command of program.commands) {
    command.exitOverride();
  }
  return program;
}

/** Parses argv and runs the command; returns the exit code. Commander's own errors exit 2, help exits 0. */
export async function main(argv: readonly string[]): Promise<number> {
  let code: number = ExitCode.ok;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version succeed; help shown because a subcommand is missing is a usage error.
      const informational = ["commander.helpDisplayed", "commander.version"].includes(error.code);
      return informational ? ExitCode.ok : ExitCode.usage;
    }
    throw error;
  }
  return code;
}
