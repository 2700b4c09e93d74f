// Loads a saved autoencoder in a fresh process from the built package and scores with it, then
// says whether TensorFlow.js was loaded on the way (issue #6 item 1c: the daemon loads and scores
// models without initialising a backend). Usage: node autoencoderLoad.mjs MODEL.json ROWS.json
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
// The whole public surface, training included: importing it must not load TensorFlow.js either.
import { Autoencoder } from "../../dist/analytics/autoencoder/index.js";

const [modelFile, rowsFile] = process.argv.slice(2);
const model = Autoencoder.fromJSON(JSON.parse(readFileSync(modelFile, "utf8")));
const rows = JSON.parse(readFileSync(rowsFile, "utf8")).map((row) => Float64Array.from(row));
const errors = Array.from(model.scoreBatch(rows));
// tfjs is CommonJS: anything of it that was imported sits in the require cache.
const tensorflowModules = Object.keys(createRequire(import.meta.url).cache).filter((path) =>
  path.includes("@tensorflow"),
);
process.stdout.write(`${JSON.stringify({ errors, tensorflowModules, engine: "_tfengine" in globalThis })}\n`);
