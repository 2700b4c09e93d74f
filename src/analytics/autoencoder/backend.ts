/**
 * Choosing the TensorFlow.js backend that trains the autoencoder (issue #6 item 1c: "Backend:
 * @tensorflow/tfjs with @tensorflow/tfjs-backend-wasm; use @tensorflow/tfjs-node only when it
 * loads"). Config `analytics.backend`: "auto" | "wasm" | "cpu" | "tfjs-node".
 *
 * - tfjs-node is an optional extra, never a dependency: its install downloads libtensorflow, which
 *   fails offline and on ARM gateways. It is imported by a name TypeScript does not resolve, inside
 *   try/catch; it must be 4.22.0 like @tensorflow/tfjs, or it registers its backend with another
 *   copy of tfjs-core and we fall back.
 * - wasm finds its .wasm files in the package's own dist/ directory (resolved from node_modules,
 *   not fetched), which also works inside a worker_threads Worker (training runs in one, item 5).
 * - A backend that fails falls back to the next (tfjs-node → wasm → cpu) and the result says
 *   from what and why, so the daemon can log it; cpu always works.
 *
 * Only training uses TensorFlow.js; scoring and loading a model do not (denseNetwork.ts), so
 * @tensorflow/tfjs is imported on the first call of loadTensorflow(), never at module load.
 */
import { createRequire } from "node:module";
import { dirname, sep } from "node:path";
import type * as TensorflowModule from "@tensorflow/tfjs";

export type Tensorflow = typeof TensorflowModule;

export const BACKEND_CHOICES = ["auto", "wasm", "cpu", "tfjs-node"] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
export type BackendInUse = Exclude<BackendChoice, "auto">;

export interface BackendSelection {
  /** The backend training runs on. */
  readonly backend: BackendInUse;
  /** The backend asked for (or tried first, under "auto") when it is not the one in use. */
  readonly fellBackFrom?: BackendInUse;
  /** Why each backend before the one in use failed. */
  readonly reason?: string;
}

export interface TensorflowRuntime {
  readonly tf: Tensorflow;
  readonly selection: BackendSelection;
}

/** The optional native backend; a variable, so that TypeScript does not look for its types. */
const TFJS_NODE: string = "@tensorflow/tfjs-node";

/** TensorFlow.js's names for the backends. */
const TF_NAMES: Record<BackendInUse, string> = { "tfjs-node": "tensorflow", wasm: "wasm", cpu: "cpu" };

/** Seams for the tests: how the optional packages are imported. */
export interface BackendImports {
  readonly tfjsNode: () => Promise<unknown>;
  readonly wasm: () => Promise<{ setWasmPaths(prefix: string): void }>;
}

const defaultImports: BackendImports = {
  tfjsNode: () => import(TFJS_NODE),
  wasm: () => import("@tensorflow/tfjs-backend-wasm"),
};

/** The tfjs-backend-wasm dist/ directory, where its .wasm files sit next to its entry point. */
function wasmDirectory(): string {
  const require = createRequire(import.meta.url);
  return `${dirname(require.resolve("@tensorflow/tfjs-backend-wasm"))}${sep}`;
}

function message(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // Node's "Cannot find package ..." names every directory it searched; the first line says it.
  return text.split("\n")[0] ?? text;
}

async function activate(tf: Tensorflow, backend: BackendInUse, imports: BackendImports): Promise<void> {
  const name = TF_NAMES[backend];
  if (backend === "tfjs-node") {
    await imports.tfjsNode();
    if (tf.findBackendFactory(name) === null) {
      throw new Error(
        `${TFJS_NODE} loaded but registered no "${name}" backend with this @tensorflow/tfjs (its version must be ${tf.version_core})`,
      );
    }
  } else if (backend === "wasm") {
    // Before the backend initialises (a repeat call is harmless). Without it, tfjs looks for the
    // .wasm files next to the calling script, and a bundled or worker entry point would miss them.
    (await imports.wasm()).setWasmPaths(wasmDirectory());
  }
  if (!(await tf.setBackend(name))) {
    throw new Error(`the "${name}" backend failed to initialise`);
  }
  await tf.ready();
}

/** The backends to try for a choice, in order; cpu last because it always works. */
function candidates(choice: BackendChoice): readonly BackendInUse[] {
  switch (choice) {
    case "auto":
    case "tfjs-node":
      return ["tfjs-node", "wasm", "cpu"];
    case "wasm":
      return ["wasm", "cpu"];
    case "cpu":
      return ["cpu"];
  }
}

/** Activates the first backend of `choice` that works on `tf` and says which (exported for the tests). */
export async function selectBackend(
  tf: Tensorflow,
  choice: BackendChoice,
  imports: BackendImports = defaultImports,
): Promise<BackendSelection> {
  const failures: string[] = [];
  const tried = candidates(choice);
  for (const backend of tried) {
    try {
      await activate(tf, backend, imports);
      const first = tried[0] as BackendInUse;
      return backend === first ? { backend } : { backend, fellBackFrom: first, reason: failures.join("; ") };
    } catch (error) {
      failures.push(`${backend}: ${message(error)}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could be initialised (${failures.join("; ")})`);
}

/**
 * TensorFlow.js is one engine per process (per worker thread): its backend is global state, so
 * the first call chooses it and later calls share that choice. Held here rather than passed
 * around because tfjs itself holds it globally; a later call with another choice is refused
 * rather than silently switching the backend under a training run.
 */
let runtime: { choice: BackendChoice; promise: Promise<TensorflowRuntime> } | undefined;

/** Loads TensorFlow.js and activates the backend for `choice`, once per process or worker thread. */
export function loadTensorflow(choice: BackendChoice = "auto"): Promise<TensorflowRuntime> {
  if (runtime !== undefined) {
    // "auto" takes whatever backend this process already runs; an explicit other choice cannot
    // be honoured (tfjs has one active backend per process) and is refused, not silently ignored.
    if (runtime.choice !== choice && choice !== "auto") {
      return Promise.reject(
        new Error(
          `TensorFlow.js is already initialised for backend "${runtime.choice}" in this process; cannot switch to "${choice}"`,
        ),
      );
    }
    return runtime.promise;
  }
  const promise = (async () => {
    const tf: Tensorflow = await import("@tensorflow/tfjs");
    // Production mode: no debug checks, and no "install tfjs-node" banner on the console, where
    // the `train` command draws its progress bar.
    tf.enableProdMode();
    return { tf, selection: await selectBackend(tf, choice) };
  })();
  runtime = { choice, promise };
  // A failed import may succeed later (a package installed meanwhile): do not cache the failure.
  promise.catch(() => {
    if (runtime?.promise === promise) {
      runtime = undefined;
    }
  });
  return promise;
}
