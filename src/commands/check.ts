/** `edgewarden check -c FILE`: every problem of a config at once, as FILE:LINE:COL: path: message. */
import type { Command } from "commander";
import { type ConfigIssue, formatIssue, formatPath } from "../config/configIssue.js";
import { prepareConfig } from "../daemon/prepareConfig.js";
import { defaultConfigPath, ExitCode } from "./exitCodes.js";
import type { CommandRunner } from "./program.js";

interface CheckOptions {
  config: string;
  strict?: boolean;
  json?: boolean;
  print?: boolean;
}

export function registerCheck(program: Command, run: CommandRunner): void {
  program
    .command("check")
    .description("validate a config file and print every problem as FILE:LINE:COL: path: message")
    .option("-c, --config <file>", "config file ($EDGEWARDEN_CONFIG)", defaultConfigPath())
    .option("--strict", "treat warnings as errors")
    .option("--json", "print the result as one JSON object")
    .option(
      "--print",
      "print the effective config (defaults and environment applied; durations in ms, sizes in bytes)",
    )
    .addHelpText("after", "\nExit codes: 0 valid, 2 invalid (or warnings with --strict).")
    .action((options: CheckOptions) => run(() => check(options)));
}

async function check(options: CheckOptions): Promise<number> {
  const result = await prepareConfig(options.config, "check");
  const errors = result.ok ? [] : result.errors;
  const failed = errors.length > 0 || (options.strict === true && result.warnings.length > 0);
  if (options.json === true) {
    const asJson = (issue: ConfigIssue) => ({
      file: issue.source,
      line: issue.line ?? null,
      col: issue.col ?? null,
      path: formatPath(issue.path),
      message: issue.message,
    });
    process.stdout.write(
      `${JSON.stringify({ ok: !failed, errors: errors.map(asJson), warnings: result.warnings.map(asJson) })}\n`,
    );
    return failed ? ExitCode.usage : ExitCode.ok;
  }
  // With --print, stdout carries only the config, so that it can be piped into jq.
  const issuesTo = options.print === true ? process.stderr : process.stdout;
  for (const issue of [...errors, ...result.warnings]) {
    issuesTo.write(`${formatIssue(issue)}\n`);
  }
  if (result.ok) {
    if (options.print === true) {
      process.stdout.write(`${JSON.stringify(result.config, bigintReplacer, 2)}\n`);
    }
    const tags = result.config.devices.reduce(
      (sum, device) =>
        sum +
        (device.protocol === "serial-line"
          ? device.tags.length
          : device.pollGroups.reduce((n, g) => n + g.tags.length, 0)),
      0,
    );
    const warningText = result.warnings.length === 0 ? "" : `, ${result.warnings.length} warning(s)`;
    process.stderr.write(
      `${options.config}: ${failed ? "not accepted (--strict)" : "OK"}: ${result.config.devices.length} device(s), ${tags} tag(s)${warningText}\n`,
    );
  } else {
    process.stderr.write(`${options.config}: ${errors.length} error(s)\n`);
  }
  return failed ? ExitCode.usage : ExitCode.ok;
}

function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
