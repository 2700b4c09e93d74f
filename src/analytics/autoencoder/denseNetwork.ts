/**
 * The autoencoder's forward pass in plain JavaScript (issue #6 item 1c; budget <= 200 µs per sample
 * single, <= 20 µs batched). TensorFlow.js trains the network, but scoring a handful of small dense
 * layers through it costs a tensor allocation and a kernel dispatch per layer (tens of µs, more on
 * wasm); here it is a few hundred multiply-adds over typed arrays, and loading a model needs no
 * backend at all, so the daemon scores without initialising TensorFlow.js.
 */

export const ACTIVATIONS = ["tanh", "linear"] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/**
 * One dense layer, y = activation(x · kernel + bias), in TensorFlow.js's layout: `kernel` is
 * inputs × units, row-major, so kernel[i * units + j] connects input i to unit j (what
 * tf.layers.dense's getWeights()[0] holds).
 */
export interface DenseLayer {
  readonly inputs: number;
  readonly units: number;
  readonly activation: Activation;
  readonly kernel: Float64Array;
  readonly bias: Float64Array;
}

/** A layer as the scoring loop wants it: the kernel transposed, so each unit reads a contiguous row. */
interface PackedLayer {
  readonly inputs: number;
  readonly units: number;
  readonly tanh: boolean;
  /** units × inputs: weights[j * inputs + i] connects input i to unit j. */
  readonly weights: Float64Array;
  readonly bias: Float64Array;
  /** This layer's output, reused by every call (scoring is synchronous, so one buffer suffices). */
  readonly output: Float64Array;
}

function pack(layer: DenseLayer): PackedLayer {
  const { inputs, units, kernel } = layer;
  const weights = new Float64Array(inputs * units);
  for (let i = 0; i < inputs; i++) {
    for (let j = 0; j < units; j++) {
      weights[j * inputs + i] = kernel[i * units + j] as number;
    }
  }
  return {
    inputs,
    units,
    tanh: layer.activation === "tanh",
    weights,
    bias: Float64Array.from(layer.bias),
    output: new Float64Array(units),
  };
}

/**
 * A stack of dense layers whose shapes were checked by the caller (train.ts builds them,
 * autoencoderJson.ts validates a loaded file): layer k's inputs equal layer k-1's units.
 */
export class DenseNetwork {
  readonly #layers: readonly PackedLayer[];
  readonly inputs: number;
  readonly outputs: number;

  constructor(layers: readonly DenseLayer[]) {
    const first = layers[0];
    const last = layers[layers.length - 1];
    if (first === undefined || last === undefined) {
      throw new RangeError("a network needs at least one layer");
    }
    this.#layers = layers.map(pack);
    this.inputs = first.inputs;
    this.outputs = last.units;
  }

  /**
   * Runs x[offset, offset + inputs) through the layers. Returns the last layer's output buffer,
   * which the next call overwrites: copy it to keep it.
   */
  forward(x: Float64Array, offset = 0): Float64Array {
    let input = x;
    let start = offset;
    let output = x;
    for (const layer of this.#layers) {
      const { inputs, units, weights, bias, tanh } = layer;
      output = layer.output;
      for (let j = 0; j < units; j++) {
        let sum = bias[j] as number;
        const row = j * inputs;
        for (let i = 0; i < inputs; i++) {
          sum += (weights[row + i] as number) * (input[start + i] as number);
        }
        output[j] = tanh ? Math.tanh(sum) : sum;
      }
      input = output;
      start = 0;
    }
    return output;
  }
}
