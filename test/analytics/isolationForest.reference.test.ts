/**
 * The flat-array scorer against a plain transcription of the paper (issue #6 item 1b): Algorithm 3
 * (PathLength) walked recursively over the saved nodes, Equation 2 on the mean. And the trees
 * route points as they were grown: with ψ = n every training row reaches a leaf of each tree, and
 * the leaves' recorded sizes are exactly the rows that reach them.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { IsolationForestJson } from "../../src/analytics/isolationForest/forestJson.js";
import { fitIsolationForest, IsolationForest } from "../../src/analytics/isolationForest/isolationForest.js";
import { cluster } from "./isolationForestFixtures.js";

/** c(n) written out again from ICDM 2008 Eq. 1 with TKDD's c(2) = 1, independent of pathLength.ts. */
const c = (n: number) => (n > 2 ? 2 * (Math.log(n - 1) + 0.5772156649) - (2 * (n - 1)) / n : n === 2 ? 1 : 0);

/** Algorithm 3, PathLength(x, T, e): the leaf reached and the path length, by recursion. */
function pathLength(json: IsolationForestJson, x: Float64Array, node: number, e: number): [number, number] {
  const { feature, split, child, size } = json.nodes;
  const q = feature[node] as number;
  if (q < 0) {
    return [node, e + c(size[node] as number)];
  }
  const next =
    (x[q] as number) < (split[node] as number) ? (child[node] as number) : (child[node] as number) + 1;
  return pathLength(json, x, next, e + 1);
}

function referenceScore(json: IsolationForestJson, x: Float64Array): number {
  const mean = json.nodes.roots.reduce((sum, root) => sum + pathLength(json, x, root, 0)[1], 0) / json.trees;
  return 2 ** (-mean / c(json.sampleSize));
}

describe("scoring agrees with the papers' algorithm", () => {
  it("matches a recursive Algorithm 3 + Equation 2 over the saved nodes", () => {
    const rows = cluster(700, 81);
    const forest = fitIsolationForest(rows, { trees: 50, sampleSize: 128, seed: 5 });
    const json = forest.toJSON();
    for (const x of [...cluster(200, 82), ...cluster(20, 83, 6, 6)]) {
      expect(forest.score(x)).toBeCloseTo(referenceScore(json, x), 12);
    }
  });

  it("sends a value equal to the split value right (Algorithm 2 sends q < p left)", () => {
    const forest = fitIsolationForest(cluster(300, 85), { trees: 20, sampleSize: 64, seed: 4 });
    const json = forest.toJSON();
    // Probes on each root's split value: continuous data never ties, these always do.
    for (const root of json.nodes.roots) {
      const q = json.nodes.feature[root] as number;
      const x = Float64Array.of(0.1, -0.1);
      x[q] = json.nodes.split[root] as number;
      expect(forest.score(x)).toBeCloseTo(referenceScore(json, x), 12);
    }
  });

  it("routes every training row to a leaf whose size counts exactly the rows that reach it (ψ = n)", () => {
    const rows = cluster(100, 84);
    const forest = fitIsolationForest(rows, { trees: 30, sampleSize: 100, seed: 6 });
    const json = forest.toJSON();
    const reached = new Map<number, number>();
    for (const root of json.nodes.roots) {
      for (const row of rows) {
        const [leaf] = pathLength(json, row, root, 0);
        reached.set(leaf, (reached.get(leaf) ?? 0) + 1);
      }
    }
    json.nodes.feature.forEach((f, node) => {
      if (f < 0) {
        expect(reached.get(node) ?? 0).toBe(json.nodes.size[node]);
      }
    });
  });

  it("on any finite data: scores in (0, 1] equal to the reference, and a model its own load checks accept", () => {
    // The whole finite range: max - min overflows for ±1e308, subnormals make splits tie with min.
    const value = fc.double({ noNaN: true, noDefaultInfinity: true });
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 4 })
          .chain((dims) =>
            fc.array(fc.array(value, { minLength: dims, maxLength: dims }), { minLength: 2, maxLength: 60 }),
          ),
        fc.integer({ min: 2, max: 64 }),
        fc.integer(),
        (raw, sampleSize, seed) => {
          const rows = raw.map((row) => Float64Array.from(row));
          const forest = fitIsolationForest(rows, { trees: 5, sampleSize, seed });
          const json = forest.toJSON();
          // fromJSON checks the height limit, sizes and child order of what fit grew, and the
          // model must survive JSON text (a NaN or Infinity split would come back as null).
          expect(() => IsolationForest.fromJSON(JSON.parse(JSON.stringify(json)))).not.toThrow();
          for (const x of rows) {
            const s = forest.score(x) as number;
            expect(s > 0 && s <= 1).toBe(true);
            expect(s).toBeCloseTo(referenceScore(json, x), 12);
          }
        },
      ),
      // endOnFailure: report the failing case as found; shrinking 60-row data sets takes minutes.
      { seed: 20_260_002, numRuns: 200, endOnFailure: true },
    );
  });
});
