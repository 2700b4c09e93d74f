// Trains an autoencoder inside a worker_threads Worker, as the daemon's retraining does (issue #6
// item 5: training off the poll path), from the built package (npm run build writes dist/).
// workerData: { values: Float64Array, dims, options }; posts { json, selection } or { error }.
import { parentPort, workerData } from "node:worker_threads";
import { loadTensorflow, trainAutoencoder } from "../../dist/analytics/autoencoder/index.js";

const { values, dims, options } = workerData;
try {
  const epochs = [];
  const model = await trainAutoencoder({ values, dims }, options, {
    onEpoch: ({ epoch }) => epochs.push(epoch),
  });
  const { selection } = await loadTensorflow(options.backend);
  parentPort.postMessage({ json: model.toJSON(), selection, epochs });
} catch (error) {
  parentPort.postMessage({ error: String(error) });
}
