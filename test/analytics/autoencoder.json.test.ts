/**
 * The autoencoder's save format (issue #6 items 1c and 5): a model survives JSON bit for bit, and
 * a corrupt or foreign file is refused with a reason.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { Autoencoder } from "../../src/analytics/autoencoder/autoencoder.js";
import {
  AUTOENCODER_FORMAT,
  AutoencoderFormatError,
  type AutoencoderJson,
} from "../../src/analytics/autoencoder/autoencoderJson.js";
import { trainAutoencoder } from "../../src/analytics/autoencoder/train.js";
import { brokenRows, DIMS, FEATURES, machineRows } from "./autoencoderFixtures.js";

let model: Autoencoder;
let text: string;
const probes = [...machineRows(200, 31), ...brokenRows(50, 32)];

beforeAll(async () => {
  model = await trainAutoencoder(machineRows(400, 30), {
    backend: "cpu",
    epochs: 10,
    batchSize: 32,
    seed: 3,
    features: FEATURES,
  });
  text = JSON.stringify(model);
});

/** A deep copy of the model's JSON, as it would come back from disk. */
const saved = (): AutoencoderJson => JSON.parse(text);

function rejects(edit: (json: AutoencoderJson) => void, reason: RegExp): void {
  const json = saved();
  edit(json);
  expect(() => Autoencoder.fromJSON(json)).toThrow(AutoencoderFormatError);
  expect(() => Autoencoder.fromJSON(json)).toThrow(reason);
}

describe("toJSON / fromJSON", () => {
  it("round-trips through JSON text to bit-identical scores, explanations, probabilities and JSON", () => {
    const loaded = Autoencoder.fromJSON(JSON.parse(text));
    expect(loaded.scoreBatch(probes)).toEqual(model.scoreBatch(probes));
    for (const row of probes.slice(0, 20)) {
      expect(loaded.explain(row)).toEqual(model.explain(row));
      const error = model.score(row) as number;
      expect(loaded.probability(error)).toBe(model.probability(error));
    }
    expect(loaded.threshold).toBe(model.threshold);
    expect(JSON.stringify(loaded)).toBe(text);
  });

  it("names its format and version and carries a model card's figures", () => {
    const json = saved();
    expect(json).toMatchObject({
      format: AUTOENCODER_FORMAT,
      version: 1,
      dims: DIMS,
      features: [...FEATURES],
      thresholdPercentile: 99.5,
    });
    expect(json.errorQuantiles).toHaveLength(1001);
    expect(json.training).toMatchObject({
      finiteRows: 400,
      fitRows: 360,
      validationRows: 40,
      backend: "cpu",
    });
    expect(Object.keys(json.validation).sort()).toEqual([
      "aboveThreshold",
      "errorPercentiles",
      "trainLoss",
      "validationLoss",
    ]);
  });
});

describe("a corrupt model file is refused with a clear reason", () => {
  it("refuses what is not a model object, or another format or version", () => {
    for (const input of [null, 42, "model", [1, 2]]) {
      expect(() => Autoencoder.fromJSON(input)).toThrow(/autoencoder model: expected a JSON object/);
    }
    expect(() =>
      Autoencoder.fromJSON(JSON.parse(JSON.stringify({ format: "edgewarden.isolation-forest" }))),
    ).toThrow(/"format" is "edgewarden.isolation-forest", expected "edgewarden.autoencoder"/);
    rejects((json) => {
      (json as { version: number }).version = 2;
    }, /format version 2 is not supported \(this build reads version 1\)/);
  });

  it("refuses a truncated layer", () => {
    rejects((json) => {
      json.layers[1]?.kernel.splice(-3);
    }, /layers\[1\]\.kernel has 29 weights, expected inputs × units = 32/);
    rejects((json) => {
      json.layers[2]?.bias.pop();
    }, /layers\[2\]\.bias has 7 entries, expected units = 8/);
    rejects((json) => {
      json.layers.splice(3);
    }, /the last layer has 8 units, expected dims 5 \(an autoencoder reconstructs its input\)/);
  });

  it("refuses a NaN or infinite weight", () => {
    rejects((json) => {
      (json.layers[0] as { kernel: number[] }).kernel[4] = Number.NaN;
    }, /layers\[0\]\.kernel\[4\]: /);
    rejects((json) => {
      (json.layers[3] as { bias: number[] }).bias[0] = Number.POSITIVE_INFINITY;
    }, /layers\[3\]\.bias\[0\]: /);
    rejects((json) => {
      json.standardisation.mean[1] = Number.NaN;
    }, /standardisation\.mean\[1\]: /);
  });

  it("refuses wrong dims, or layers that do not chain", () => {
    rejects((json) => {
      json.dims = 4;
    }, /layers\[0\]\.inputs is 5, expected dims 4/);
    rejects((json) => {
      const layer = json.layers[2] as { inputs: number; kernel: number[] };
      layer.inputs = 5;
      layer.kernel = layer.kernel.concat(new Array(8).fill(0));
    }, /layers\[2\]\.inputs is 5, expected layers\[1\]\.units 4/);
    rejects((json) => {
      json.features.pop();
    }, /features has 4 entries, expected dims 5/);
    rejects((json) => {
      json.standardisation.std.push(1);
    }, /standardisation\.std has 6 entries, expected dims 5/);
  });

  it("refuses a zero std, an unknown activation, a disordered table or a threshold off the table", () => {
    rejects((json) => {
      json.standardisation.std[0] = 0;
    }, /standardisation\.std\[0\]: /);
    rejects((json) => {
      (json.layers[0] as { activation: string }).activation = "relu";
    }, /layers\[0\]\.activation: /);
    rejects((json) => {
      json.errorQuantiles[500] = (json.errorQuantiles[501] as number) * 2;
    }, /errorQuantiles\[501\] = .* is below errorQuantiles\[500\]/);
    rejects((json) => {
      json.threshold *= 1.5;
    }, /threshold .* is not errorQuantiles at 99.5 %/);
    rejects((json) => {
      delete (json as Partial<AutoencoderJson>).validation;
    }, /validation: /);
  });
});
