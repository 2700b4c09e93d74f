/** `edgewarden keys generate|show|rotate|export` (issue #3). Placeholder until the key part lands. */
import type { Command } from "commander";
import { ExitCode } from "./exitCodes.js";
import type { CommandRunner } from "./program.js";

export function registerKeys(program: Command, run: CommandRunner): void {
  const keys = program.command("keys").description("gateway key files, key ids and derived per-device keys");
  const pending = (name: string, description: string, options: readonly (readonly [string, string])[]) => {
    const command = keys.command(name).description(`${description} (not available yet: issue #3)`);
    for (const [flags, text] of options) {
      command.option(flags, text);
    }
    command.addHelpText("after", "\nExit codes: 0 done, 2 refused or bad key file.");
    command.action(() =>
      run(() => {
        process.stderr.write(`edgewarden keys ${name}: not available yet (arrives with issue #3)\n`);
        return ExitCode.usage;
      }),
    );
    command.exitOverride();
  };
  pending("generate", "write a new 256-bit gateway master key file (mode 0600; never overwrites)", [
    ["--out <file>", "key file to create"],
  ]);
  pending("show", "print key ids and fingerprints, never key bytes", [
    ["--key-file <file>", "gateway key file"],
  ]);
  pending("rotate", "add a new key id; old ids stay for opening", [
    ["--key-file <file>", "gateway key file"],
  ]);
  pending("export", "write the derived key of one device for an upstream consumer", [
    ["--key-file <file>", "gateway key file"],
    ["--device <id>", "device id"],
    ["--out <file>", "file to create"],
  ]);
  keys.exitOverride();
}
