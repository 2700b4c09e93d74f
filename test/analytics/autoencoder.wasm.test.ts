/**
 * The autoencoder on the wasm backend (issue #6 item 1c: @tensorflow/tfjs-backend-wasm, its .wasm
 * files found in node_modules), trained in the main thread and in a worker_threads Worker (item 5:
 * retraining runs off the poll path), and a saved model loaded and scored by a process that never
 * loads TensorFlow.js. The Worker and the loader run the built package: `npm run build` first.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Autoencoder } from "../../src/analytics/autoencoder/autoencoder.js";
import { parseAutoencoderJson } from "../../src/analytics/autoencoder/autoencoderJson.js";
import {
  type BackendSelection,
  loadTensorflow,
  type Tensorflow,
} from "../../src/analytics/autoencoder/backend.js";
import { tfModelFromLayers } from "../../src/analytics/autoencoder/tfModel.js";
import { trainAutoencoder } from "../../src/analytics/autoencoder/train.js";
import { brokenRows, DIMS, FEATURES, machineRows, shareAbove } from "./autoencoderFixtures.js";

const OPTIONS = { backend: "wasm", epochs: 40, batchSize: 32, seed: 9, features: [...FEATURES] } as const;
const TRAINING = machineRows(1000, 41);

let tf: Tensorflow;
let selection: BackendSelection;
let model: Autoencoder;
const scratch = mkdtempSync(join(tmpdir(), "edgewarden-autoencoder-"));

/** The Worker and the loader import dist/: refuse to test a missing or stale build. */
function checkBuild(): void {
  const sources = "src/analytics/autoencoder";
  for (const file of readdirSync(sources).filter((f) => f.endsWith(".ts"))) {
    const built = join("dist/analytics/autoencoder", file.replace(/\.ts$/, ".js"));
    let builtAt: number;
    try {
      builtAt = statSync(built).mtimeMs;
    } catch {
      throw new Error(`${built} is missing: run npm run build before these tests`);
    }
    if (builtAt < statSync(join(sources, file)).mtimeMs) {
      throw new Error(`${built} is older than its source: run npm run build before these tests`);
    }
  }
}

beforeAll(async () => {
  ({ tf, selection } = await loadTensorflow("wasm"));
  model = await trainAutoencoder(TRAINING, OPTIONS);
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe("the wasm backend", () => {
  it("initialises from the package's own .wasm files, with no fallback", () => {
    expect(selection).toEqual({ backend: "wasm" });
    expect(tf.getBackend()).toBe("wasm");
    expect(model.training.backend).toBe("wasm");
  });

  it("trains a model that keeps false alarms low and catches broken correlations", () => {
    expect(shareAbove(model.scoreBatch(machineRows(2000, 42)), model.threshold)).toBeLessThan(0.02);
    expect(shareAbove(model.scoreBatch(brokenRows(500, 43)), model.threshold)).toBeGreaterThan(0.9);
  });

  it("scores like tfjs-wasm's model.predict within 1e-5 relative", () => {
    const json = model.toJSON();
    const tfModel = tfModelFromLayers(tf, parseAutoencoderJson(json).layers);
    const rows = [...machineRows(100, 44), ...brokenRows(20, 45)];
    const { mean, std } = json.standardisation;
    const z = rows.map((row) => Array.from(row, (v, f) => (v - (mean[f] as number)) / (std[f] as number)));
    const input = tf.tensor2d(z);
    const output = tfModel.predict(input) as ReturnType<typeof tf.tensor2d>;
    const predicted = output.arraySync();
    tf.dispose([input, output]);
    tfModel.dispose();
    rows.forEach((row, r) => {
      const viaTf =
        (predicted[r] as number[]).reduce((sum, v, f) => sum + (v - (z[r]?.[f] as number)) ** 2, 0) / DIMS;
      expect(Math.abs((model.score(row) as number) - viaTf)).toBeLessThanOrEqual(
        1e-5 * Math.max(viaTf, 1e-3),
      );
    });
  });
});

describe("from the built package", () => {
  it("trains inside a worker thread on wasm and hands back the same model as the main thread", async () => {
    checkBuild();
    const values = new Float64Array(TRAINING.length * DIMS);
    TRAINING.forEach((row, r) => {
      values.set(row, r * DIMS);
    });
    const worker = new Worker(new URL("./autoencoderWorker.mjs", import.meta.url), {
      workerData: { values, dims: DIMS, options: OPTIONS },
    });
    type Reply = { json: unknown; selection: BackendSelection; epochs: number[] } | { error: string };
    const reply = await new Promise<Reply>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    await worker.terminate();
    if ("error" in reply) {
      throw new Error(`the worker failed: ${reply.error}`);
    }
    expect(reply.selection).toEqual({ backend: "wasm" });
    expect(reply.epochs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const fromWorker = Autoencoder.fromJSON(reply.json);
    expect(fromWorker.training).toEqual(model.training);
    // Same code, rows, seed and backend: the same weights, so the same scores.
    expect(fromWorker.toJSON()).toEqual(model.toJSON());
  });

  it("loads and scores a saved model in a process that never loads TensorFlow.js", () => {
    checkBuild();
    const modelFile = join(scratch, "autoencoder.json");
    const rowsFile = join(scratch, "rows.json");
    const rows = [...machineRows(5, 46), ...brokenRows(5, 47)];
    writeFileSync(modelFile, JSON.stringify(model));
    writeFileSync(rowsFile, JSON.stringify(rows.map((row) => Array.from(row))));
    const run = spawnSync(process.execPath, ["test/analytics/autoencoderLoad.mjs", modelFile, rowsFile], {
      encoding: "utf8",
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as {
      errors: number[];
      tensorflowModules: string[];
      engine: boolean;
    };
    expect(result.tensorflowModules).toEqual([]);
    expect(result.engine).toBe(false);
    expect(result.errors).toEqual(Array.from(model.scoreBatch(rows)));
  });
});
