/**
 * `edgewarden receive -c FILE`: the upstream receiver (issue #7 item 2; docs/receiver.md).
 * Exit 0 after a clean stop (SIGINT/SIGTERM: the batch under way is stored and acknowledged),
 * 1 on a fatal error (a store that fails: nothing more is acknowledged, the broker keeps it),
 * 2 for a bad config or a key, TLS or password file that cannot be used.
 */
import type { Command } from "commander";
import type { CommandRunner } from "./program.js";

export const DEFAULT_RECEIVER_CONFIG_PATH = "/etc/edgewarden/receiver.yaml";

export function registerReceive(program: Command, run: CommandRunner): void {
  program
    .command("receive")
    .description("the upstream receiver: subscribe, open, verify, dedup, store (docs/receiver.md)")
    .option("-c, --config <file>", "the receiver's config file", DEFAULT_RECEIVER_CONFIG_PATH)
    .addHelpText("after", "\nExit codes: 0 clean stop, 1 fatal, 2 bad config.")
    .action((options: { config: string }) =>
      run(async () => {
        // Loaded only when the command runs: the receiver and pg stay off every other command's path.
        const { runReceiver } = await import("./receiveRun.js");
        return runReceiver(options.config);
      }),
    );
}
