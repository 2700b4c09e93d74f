/**
 * The autoencoder as a TensorFlow.js model (issue #6 item 1c), for training, and the bridge between
 * it and the plain weights that scoring and the model file use (denseNetwork.ts).
 *
 * Hidden layers use tanh, not relu: the inputs are standardised (centred, unit spread), where tanh
 * is smooth and zero-centred, and the layers are tiny (a bottleneck of 4 units by default), where
 * a relu unit that dies in training takes a quarter of the model's capacity with it. The output
 * layer is linear because standardised features are not bounded.
 */
import type { LayersModel, Sequential } from "@tensorflow/tfjs";
import type { Tensorflow } from "./backend.js";
import type { Activation, DenseLayer } from "./denseNetwork.js";

export interface LayerSpec {
  readonly units: number;
  readonly activation: Activation;
}

/**
 * Encoder `hiddenUnits` (e.g. [8, 4]), then the mirrored decoder without repeating the bottleneck
 * ([8]), then a linear layer back to `dims`: 8-4-8 between input and output.
 */
export function layerSpecs(dims: number, hiddenUnits: readonly number[]): LayerSpec[] {
  const decoder = hiddenUnits.slice(0, -1).reverse();
  return [
    ...[...hiddenUnits, ...decoder].map((units) => ({ units, activation: "tanh" as const })),
    { units: dims, activation: "linear" },
  ];
}

/** A fresh model, its kernels drawn by Glorot-uniform initialisers seeded per layer (same seed, same start). */
export function buildTfModel(
  tf: Tensorflow,
  dims: number,
  specs: readonly LayerSpec[],
  seed: number,
): Sequential {
  const model = tf.sequential();
  specs.forEach((spec, k) => {
    model.add(
      tf.layers.dense({
        units: spec.units,
        activation: spec.activation,
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + k }),
        biasInitializer: "zeros",
        ...(k === 0 ? { inputShape: [dims] } : {}),
      }),
    );
  });
  return model;
}

/** Copies the trained weights out of the model, so it can be disposed and scoring can do without it. */
export function extractLayers(model: LayersModel, specs: readonly LayerSpec[]): DenseLayer[] {
  return model.layers.map((layer, k) => {
    // getWeights() hands out the layer's own variables (no copies): read them, do not dispose them.
    const [kernel, bias] = layer.getWeights();
    const spec = specs[k];
    if (kernel === undefined || bias === undefined || spec === undefined) {
      throw new Error(`layer ${k} of the trained model has no kernel and bias`);
    }
    const [inputs, units] = kernel.shape as [number, number];
    return {
      inputs,
      units,
      activation: spec.activation,
      kernel: Float64Array.from(kernel.dataSync()),
      bias: Float64Array.from(bias.dataSync()),
    };
  });
}

/**
 * A TensorFlow.js model holding `layers`' weights (for comparing the plain forward pass against
 * model.predict, and for the benchmark's tfjs figures). The caller disposes it.
 */
export function tfModelFromLayers(tf: Tensorflow, layers: readonly DenseLayer[]): Sequential {
  const dims = layers[0]?.inputs ?? 0;
  const model = buildTfModel(tf, dims, layers, 0);
  const weights = layers.flatMap((layer) => [
    tf.tensor2d(Float32Array.from(layer.kernel), [layer.inputs, layer.units]),
    tf.tensor1d(Float32Array.from(layer.bias)),
  ]);
  model.setWeights(weights);
  tf.dispose(weights);
  return model;
}
