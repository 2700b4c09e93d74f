#!/usr/bin/env node
/** The `edgewarden` binary (package.json "bin"). */
import { captureEarlyStopSignals } from "./commands/earlySignals.js";

if (process.argv[2] === "run" || process.argv[2] === "receive") {
  captureEarlyStopSignals();
}
// A reader that stops early (`edgewarden poll --once | head -1`) closes the pipe: EPIPE is the end of
// our output, not a crash to print a stack for. Exit as the shell expects of a writer cut off.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") {
      throw error;
    }
    process.exit(process.exitCode ?? 0);
  });
}
// Loaded after the capture above: module loading is most of start-up time.
const { main } = await import("./commands/program.js");
process.exitCode = await main(process.argv);
