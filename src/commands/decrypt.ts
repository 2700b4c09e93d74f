/** `edgewarden decrypt --key-file F` (issue #3). Placeholder until the envelope part lands. */
import type { Command } from "commander";
import { ExitCode } from "./exitCodes.js";
import type { CommandRunner } from "./program.js";

export function registerDecrypt(program: Command, run: CommandRunner): void {
  program
    .command("decrypt")
    .description(
      "open envelopes (JSON lines of topic and payload on stdin) into plaintext JSON lines (not available yet: issue #3)",
    )
    .option("--key-file <file>", "gateway or exported device key file")
    .addHelpText("after", "\nExit codes: 0 all opened, 3 any rejected.")
    .action(() =>
      run(() => {
        process.stderr.write("edgewarden decrypt: not available yet (arrives with issue #3)\n");
        return ExitCode.usage;
      }),
    );
}
