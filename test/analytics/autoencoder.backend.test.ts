/**
 * Choosing the TensorFlow.js backend (issue #6 item 1c): tfjs-node only when it loads (it is never
 * a dependency), else wasm, else cpu, saying which and why; chosen once per process.
 */
import { createRequire } from "node:module";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type BackendImports,
  loadTensorflow,
  selectBackend,
  type Tensorflow,
} from "../../src/analytics/autoencoder/backend.js";

const tfjsNodeInstalled = (() => {
  try {
    createRequire(import.meta.url).resolve("@tensorflow/tfjs-node");
    return true;
  } catch {
    return false;
  }
})();

const realWasm: BackendImports["wasm"] = () => import("@tensorflow/tfjs-backend-wasm");
const missing = (name: string) => () =>
  Promise.reject(new Error(`Cannot find package '${name}' imported from /somewhere\nDid you mean ...`));

let tf: Tensorflow;

beforeAll(async () => {
  ({ tf } = await loadTensorflow("auto"));
});

describe("loadTensorflow", () => {
  it.skipIf(tfjsNodeInstalled)(
    "under auto, falls back from a missing tfjs-node to wasm and says so",
    async () => {
      const { selection } = await loadTensorflow("auto");
      expect(selection).toEqual({
        backend: "wasm",
        fellBackFrom: "tfjs-node",
        reason: expect.stringMatching(/^tfjs-node: Cannot find package '@tensorflow\/tfjs-node'/),
      });
    },
  );

  it("initialises once per process: the same runtime again, another backend refused", async () => {
    expect(await loadTensorflow("auto")).toBe(await loadTensorflow("auto"));
    await expect(loadTensorflow("cpu")).rejects.toThrow(
      /TensorFlow.js is already initialised for backend "auto" in this process; cannot switch to "cpu"/,
    );
  });
});

describe("selectBackend", () => {
  it("uses tfjs-node when it loads and registers its backend", async () => {
    const cpu = tf.findBackend("cpu");
    const imports: BackendImports = {
      tfjsNode: () => {
        // What importing @tensorflow/tfjs-node does: register a "tensorflow" backend.
        tf.registerBackend("tensorflow", () => new (cpu.constructor as new () => typeof cpu)());
        return Promise.resolve({});
      },
      wasm: realWasm,
    };
    try {
      expect(await selectBackend(tf, "auto", imports)).toEqual({ backend: "tfjs-node" });
      expect(tf.getBackend()).toBe("tensorflow");
    } finally {
      await selectBackend(tf, "cpu");
      tf.removeBackend("tensorflow");
    }
  });

  it("falls back when tfjs-node loads but registers with another copy of tfjs-core", async () => {
    const selection = await selectBackend(tf, "tfjs-node", {
      tfjsNode: () => Promise.resolve({}),
      wasm: realWasm,
    });
    expect(selection).toMatchObject({ backend: "wasm", fellBackFrom: "tfjs-node" });
    expect(selection.reason).toMatch(/registered no "tensorflow" backend .*\(its version must be 4\.22\.0\)/);
  });

  it("falls back from an explicit tfjs-node, and from wasm, down to cpu, naming each failure", async () => {
    const broken: BackendImports = { tfjsNode: missing("@tensorflow/tfjs-node"), wasm: missing("wasm") };
    const selection = await selectBackend(tf, "tfjs-node", broken);
    expect(selection).toEqual({
      backend: "cpu",
      fellBackFrom: "tfjs-node",
      reason:
        "tfjs-node: Cannot find package '@tensorflow/tfjs-node' imported from /somewhere; wasm: Cannot find package 'wasm' imported from /somewhere",
    });
    expect(tf.getBackend()).toBe("cpu");
    expect(await selectBackend(tf, "wasm", broken)).toMatchObject({ backend: "cpu", fellBackFrom: "wasm" });
  });

  it("takes cpu and wasm as asked, with no fallback", async () => {
    expect(await selectBackend(tf, "cpu")).toEqual({ backend: "cpu" });
    expect(tf.getBackend()).toBe("cpu");
    expect(await selectBackend(tf, "wasm")).toEqual({ backend: "wasm" });
    expect(tf.getBackend()).toBe("wasm");
  });
});
