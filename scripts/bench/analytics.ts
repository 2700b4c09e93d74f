/**
 * Analytics benchmark (issue #6 item 8): µs per sample per detector (single and batched), model
 * load time, and sample -> anomaly record latency through the stage (the pipeline section). Prints one JSON document; each detector adds its own section (a function in its own
 * scripts/bench/analytics*.ts file) to `sections` below.
 *
 *   npm run bench:analytics     (builds, then runs)
 */
import { availableParallelism, cpus, loadavg } from "node:os";
import { benchAutoencoder } from "./analyticsAutoencoder.js";
import { benchIsolationForest } from "./analyticsIsolationForest.js";
import { benchPipeline } from "./analyticsPipeline.js";
import { benchStreaming } from "./analyticsStreaming.js";

/** A section may be async (the autoencoder trains with TensorFlow.js, which is). */
const sections: Record<string, () => unknown | Promise<unknown>> = {
  streaming: benchStreaming,
  isolationForest: benchIsolationForest,
  autoencoder: benchAutoencoder,
  pipeline: benchPipeline,
};

async function main(): Promise<void> {
  const result: Record<string, unknown> = {
    bench: "analytics",
    machine: {
      nproc: availableParallelism(),
      cpu: cpus()[0]?.model,
      node: process.version,
      // This VM is shared: the load at the start says how much of it the run had.
      loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    },
  };
  for (const [name, run] of Object.entries(sections)) {
    result[name] = await run();
  }
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

await main();
