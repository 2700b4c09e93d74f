/**
 * The isolation forest's save format (issue #6 items 1b and 5): a model survives JSON, and a
 * corrupt or foreign file is refused with a reason instead of crashing or looping in scoring.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  FOREST_FORMAT,
  type IsolationForestJson,
  ModelFormatError,
} from "../../src/analytics/isolationForest/forestJson.js";
import { fitIsolationForest, IsolationForest } from "../../src/analytics/isolationForest/isolationForest.js";
import { cluster, FAR_OUTLIERS } from "./isolationForestFixtures.js";

const rows = [...cluster(500, 71), ...FAR_OUTLIERS];
const forest = fitIsolationForest(rows, { trees: 20, sampleSize: 64, seed: 3 });
const probes = [...cluster(100, 72), ...FAR_OUTLIERS, Float64Array.of(40, -40)];

/** A deep copy of the model's JSON, as it would come back from disk. */
const saved = (): IsolationForestJson => JSON.parse(JSON.stringify(forest));

/** The first internal and external node of tree 0. */
const firstInternal = () => saved().nodes.feature.findIndex((f) => f >= 0);
const firstExternal = () => saved().nodes.feature.indexOf(-1);

function rejects(edit: (json: IsolationForestJson) => void, reason: RegExp): void {
  const json = saved();
  edit(json);
  expect(() => IsolationForest.fromJSON(json)).toThrow(ModelFormatError);
  expect(() => IsolationForest.fromJSON(json)).toThrow(reason);
}

describe("toJSON / fromJSON", () => {
  it("round-trips through JSON text to identical scores, thresholds and JSON", () => {
    const text = JSON.stringify(forest);
    const loaded = IsolationForest.fromJSON(JSON.parse(text));
    expect(loaded.scoreBatch(probes)).toEqual(forest.scoreBatch(probes));
    expect(loaded.scoreAtPercentile(99.5)).toBe(forest.scoreAtPercentile(99.5));
    expect(JSON.stringify(loaded)).toBe(text);
    expect(loaded.training).toEqual(forest.training);
  });

  it("names its format and version", () => {
    expect(saved()).toMatchObject({ format: FOREST_FORMAT, version: 1, dims: 2, trees: 20, sampleSize: 64 });
  });
});

describe("a corrupt model file is refused with a clear reason", () => {
  it("refuses what is not a model object", () => {
    for (const input of [null, 42, "model", [1, 2]]) {
      expect(() => IsolationForest.fromJSON(input)).toThrow(/isolation forest model: expected a JSON object/);
    }
    expect(() => IsolationForest.fromJSON({})).toThrow(
      /"format" is undefined, expected "edgewarden.isolation-forest"/,
    );
  });

  it("refuses another format version by name", () => {
    rejects((json) => {
      (json as { version: number }).version = 2;
    }, /format version 2 is not supported \(this build reads version 1\)/);
  });

  it("names a missing or mistyped field by its path", () => {
    rejects((json) => {
      delete (json as Partial<IsolationForestJson>).trees;
    }, /trees: /);
    rejects((json) => {
      (json.nodes.split as unknown[])[3] = "0.5";
    }, /nodes\.split\[3\]: Invalid input: expected number, received string/);
    rejects((json) => {
      json.scoreQuantiles.pop();
    }, /scoreQuantiles: /);
  });

  it("refuses a truncated node column", () => {
    rejects((json) => {
      json.nodes.child.length -= 5;
    }, /nodes\.child has \d+ entries, nodes\.feature has \d+/);
  });

  it("refuses a child that points back (a loop in scoring) or out of its tree", () => {
    const i = firstInternal();
    rejects(
      (json) => {
        json.nodes.child[i] = i;
      },
      new RegExp(`node ${i} has child ${i}`),
    );
    rejects(
      (json) => {
        json.nodes.child[i] = json.nodes.roots[1] as number;
      },
      new RegExp(`node ${i} has child`),
    );
  });

  it("refuses a split on a feature the model does not have", () => {
    const i = firstInternal();
    rejects(
      (json) => {
        json.nodes.feature[i] = 2;
      },
      new RegExp(`node ${i} splits on feature 2, the model has 2`),
    );
  });

  it("refuses sizes that do not add up, a wrong height limit and unsorted quantiles", () => {
    rejects((json) => {
      const i = firstExternal();
      json.nodes.size[i] = (json.nodes.size[i] as number) + 1;
    }, /has size|root size/);
    rejects((json) => {
      json.heightLimit = 7;
    }, /heightLimit 7 is not ceiling\(log2\(sampleSize 64\)\) = 6/);
    rejects((json) => {
      json.scoreQuantiles[500] = 0.99;
    }, /scoreQuantiles\[501\] = .* is below scoreQuantiles\[500\]/);
  });

  it("either refuses a randomly damaged model or loads one that scores within (0, 1]", () => {
    const columns = ["feature", "child", "size", "roots"] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...columns),
        fc.nat(),
        fc.integer({ min: -3, max: 3000 }),
        (column, at, value) => {
          const json = saved();
          const target = json.nodes[column];
          target[at % target.length] = value;
          let loaded: IsolationForest;
          try {
            loaded = IsolationForest.fromJSON(json);
          } catch (error) {
            expect(error).toBeInstanceOf(ModelFormatError);
            return;
          }
          for (const s of loaded.scoreBatch(probes)) {
            expect(s > 0 && s <= 1).toBe(true);
          }
        },
      ),
      { seed: 20_260_001, numRuns: 300, endOnFailure: true },
    );
  });
});
