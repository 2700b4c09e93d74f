/** `edgewarden version`: what is installed, for bug reports and fleet inventories. */
import type { Command } from "commander";
import { CONFIG_FORMAT_VERSION } from "../config/schema/root.js";
import { packageVersion } from "../version.js";
import { ExitCode } from "./exitCodes.js";
import type { CommandRunner } from "./program.js";

export function registerVersion(program: Command, run: CommandRunner): void {
  program
    .command("version")
    .description("print the version of edgewarden, of Node.js and of the config format")
    .option("--json", "print as JSON")
    .action((options: { json?: boolean }) =>
      run(() => {
        const info = {
          edgewarden: packageVersion(),
          node: process.versions.node,
          platform: `${process.platform}-${process.arch}`,
          configFormat: CONFIG_FORMAT_VERSION,
        };
        process.stdout.write(
          options.json === true
            ? `${JSON.stringify(info)}\n`
            : `edgewarden ${info.edgewarden} (node ${info.node}, ${info.platform}, config format ${info.configFormat})\n`,
        );
        return ExitCode.ok;
      }),
    );
}
