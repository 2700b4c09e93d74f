/**
 * Commands of DESIGN.md whose parts come with later issues. They are registered now with their
 * final options, so `--help` documents the whole surface, and answer "not available yet" with
 * exit 2. Each issue replaces its entry with a real command file.
 */
import type { Command } from "commander";
import { ExitCode } from "./exitCodes.js";
import type { CommandRunner } from "./program.js";

interface PendingCommand {
  readonly name: string;
  readonly description: string;
  readonly issue: number;
  readonly options: readonly (readonly [flags: string, description: string])[];
  readonly exitCodes: string;
}

// Empty since `receive` arrived (issue #7); kept for the next command that is announced ahead.
const PENDING: readonly PendingCommand[] = [];

export function registerPending(program: Command, run: CommandRunner): void {
  const groups = new Map<string, Command>();
  for (const pending of PENDING) {
    const [group, sub] = pending.name.split(" ");
    let parent = program;
    if (sub !== undefined && group !== undefined) {
      let existing = groups.get(group);
      if (existing === undefined) {
        existing = program.command(group).description(`${group} subcommands`);
        groups.set(group, existing);
      }
      parent = existing;
    }
    const command = parent
      .command(sub ?? pending.name)
      .description(`${pending.description} (not available yet: issue #${pending.issue})`);
    for (const [flags, description] of pending.options) {
      command.option(flags, description);
    }
    command.addHelpText("after", `\nExit codes: ${pending.exitCodes}.`);
    command.action(() =>
      run(() => {
        process.stderr.write(
          `edgewarden ${pending.name}: not available yet (arrives with issue #${pending.issue})\n`,
        );
        return ExitCode.usage;
      }),
    );
  }
  for (const group of groups.values()) {
    group.exitOverride();
    for (const command of group.commands) {
      command.exitOverride();
    }
  }
}
