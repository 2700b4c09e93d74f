#!/usr/bin/env node
/** The `edgewarden` binary (package.json "bin"). */
import { captureEarlyStopSignals } from "./commands/earlySignals.js";

if (process.argv[2] === "run" || process.argv[2] === "receive") {
  captureEarlyStopSignals();
}
// Loaded after the capture above: module loading is most of start-up time.
const { main } = await import("./commands/program.js");
process.exitCode = await main(process.argv);
