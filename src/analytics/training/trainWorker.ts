/**
 * The worker thread that trains off the poll path (issue #6 item 5: "run off the poll path
 * (worker thread), models swapped atomically"). The main thread collects the history (it owns the
 * ledger) and posts the rows as transferred buffers; the worker fits and posts back the models
 * and progress. Fitting an autoencoder for minutes here never delays a poll.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { TrainerInput } from "./trainers.js";
import { trainMachine } from "./trainMachine.js";
import type { WorkerMessage } from "./workerProtocol.js";

async function run(): Promise<void> {
  const port = parentPort;
  if (port === null) {
    throw new Error("trainWorker.js runs as a worker thread only");
  }
  const inputs = (workerData as { inputs: TrainerInput[] }).inputs;
  const send = (message: WorkerMessage) => port.postMessage(message);
  try {
    const results = await trainMachine(inputs, (kind, fraction, status) =>
      send({ type: "progress", kind, fraction, status }),
    );
    send({ type: "done", results });
  } catch (error) {
    send({ type: "failed", reason: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
}

void run();
