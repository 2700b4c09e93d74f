/**
 * The isolation forest's save format (issue #6 item 1b; item 5 stores it in the models directory).
 * A model file comes off disk and may be truncated, hand-edited or from another version, so
 * parseForestJson checks everything scoring relies on (feature indices in range, every child after
 * its parent, sizes adding up) and says what is wrong; a model it accepts cannot make scoring
 * read out of bounds or loop.
 */
import * as z from "zod";
import { parseSaved } from "../jsonProblems.js";
import { EXTERNAL, type ForestNodes } from "./buildForest.js";
import { type ForestModel, heightLimitFor } from "./forestModel.js";
import { averagePathLength } from "./pathLength.js";
import { QUANTILE_STEPS } from "./scoreQuantiles.js";

export const FOREST_FORMAT = "edgewarden.isolation-forest";
export const FOREST_FORMAT_VERSION = 1;
const SAVED_FOREST = { format: FOREST_FORMAT, version: FOREST_FORMAT_VERSION } as const;

/** A model load refused: the message says which field is wrong and how. */
export class ModelFormatError extends Error {
  override readonly name = "ModelFormatError";
  constructor(problem: string) {
    super(`isolation forest model: ${problem}`);
  }
}

const count = (min: number) => z.number().int().min(min);

const forestJsonSchema = z.strictObject({
  format: z.literal(FOREST_FORMAT),
  version: z.literal(FOREST_FORMAT_VERSION),
  dims: count(1),
  trees: count(1),
  sampleSize: count(2),
  heightLimit: count(1),
  seed: z.number().int(),
  training: z.strictObject({
    rows: count(2),
    skippedRows: count(0),
    requestedSampleSize: count(2),
  }),
  scoreQuantiles: z.array(z.number().gt(0).max(1)).length(QUANTILE_STEPS + 1),
  nodes: z.strictObject({
    roots: z.array(count(0)),
    /** Split feature, or -1 at an external node. */
    feature: z.array(count(EXTERNAL)),
    /** Split value; 0 at an external node (its path estimate c(size) is recomputed on load). */
    split: z.array(z.number()),
    /** Left child (the right one follows it); 0 at an external node. */
    child: z.array(count(0)),
    size: z.array(count(0)),
  }),
});

/** The JSON form of a model, as written by IsolationForest.toJSON(). */
export type IsolationForestJson = z.infer<typeof forestJsonSchema>;

export function forestToJson(model: ForestModel): IsolationForestJson {
  const { nodes } = model;
  return {
    format: FOREST_FORMAT,
    version: FOREST_FORMAT_VERSION,
    dims: model.dims,
    trees: model.trees,
    sampleSize: model.sampleSize,
    heightLimit: model.heightLimit,
    seed: model.seed,
    training: { ...model.training },
    scoreQuantiles: Array.from(model.scoreQuantiles),
    nodes: {
      roots: Array.from(nodes.roots),
      feature: Array.from(nodes.feature),
      split: Array.from(nodes.split, (value, i) => (nodes.feature[i] === EXTERNAL ? 0 : value)),
      child: Array.from(nodes.child),
      size: Array.from(nodes.size),
    },
  };
}

/** Tree shape: each tree's nodes are contiguous, every child follows its parent, sizes add up. */
function checkNodes(json: IsolationForestJson): void {
  const { roots, feature, split, child, size } = json.nodes;
  const n = feature.length;
  for (const [key, column] of Object.entries({ split, child, size })) {
    if (column.length !== n) {
      throw new ModelFormatError(`nodes.${key} has ${column.length} entries, nodes.feature has ${n}`);
    }
  }
  if (roots.length !== json.trees) {
    throw new ModelFormatError(`nodes.roots has ${roots.length} entries, trees is ${json.trees}`);
  }
  const parents = new Uint8Array(n);
  const depth = new Int32Array(n);
  for (let t = 0; t < roots.length; t++) {
    const start = roots[t] as number;
    const end = t + 1 < roots.length ? (roots[t + 1] as number) : n;
    // Trees are contiguous from node 0; a gap would leave nodes without a parent (caught below).
    if (t === 0 && start !== 0) {
      throw new ModelFormatError(`nodes.roots[0] is ${start}, expected 0`);
    }
    if (start >= end) {
      throw new ModelFormatError(`tree ${t} (nodes.roots[${t}] = ${start}) has no nodes`);
    }
    if (size[start] !== json.sampleSize) {
      throw new ModelFormatError(`tree ${t}: root size ${size[start]} is not sampleSize ${json.sampleSize}`);
    }
    for (let i = start; i < end; i++) {
      if (i !== start && parents[i] !== 1) {
        throw new ModelFormatError(`node ${i} (tree ${t}) is the child of ${parents[i]} nodes, expected 1`);
      }
      const f = feature[i] as number;
      const c = child[i] as number;
      const s = size[i] as number;
      if (f === EXTERNAL) {
        if (c !== 0 || split[i] !== 0) {
          throw new ModelFormatError(
            `external node ${i} has child ${c} and split ${split[i]}, expected 0 and 0`,
          );
        }
        continue;
      }
      if (f >= json.dims) {
        throw new ModelFormatError(`node ${i} splits on feature ${f}, the model has ${json.dims}`);
      }
      if (!(c > i && c + 1 < end)) {
        throw new ModelFormatError(
          `node ${i} has child ${c}, expected an index in (${i}, ${end - 1}) of tree ${t}`,
        );
      }
      if ((depth[i] as number) >= json.heightLimit) {
        throw new ModelFormatError(
          `node ${i} splits at depth ${depth[i]}, the height limit is ${json.heightLimit}`,
        );
      }
      if (s < 2 || s !== (size[c] as number) + (size[c + 1] as number)) {
        throw new ModelFormatError(`node ${i} has size ${s}, its children ${size[c]} + ${size[c + 1]}`);
      }
      parents[c] = (parents[c] as number) + 1;
      parents[c + 1] = (parents[c + 1] as number) + 1;
      depth[c] = (depth[i] as number) + 1;
      depth[c + 1] = (depth[i] as number) + 1;
    }
  }
}

function checkSummary(json: IsolationForestJson): void {
  if (json.heightLimit !== heightLimitFor(json.sampleSize)) {
    throw new ModelFormatError(
      `heightLimit ${json.heightLimit} is not ceiling(log2(sampleSize ${json.sampleSize})) = ${heightLimitFor(json.sampleSize)}`,
    );
  }
  const { rows, requestedSampleSize } = json.training;
  if (json.sampleSize > rows || json.sampleSize > requestedSampleSize) {
    throw new ModelFormatError(
      `sampleSize ${json.sampleSize} exceeds training.rows ${rows} or training.requestedSampleSize ${requestedSampleSize}`,
    );
  }
  const q = json.scoreQuantiles;
  for (let k = 1; k < q.length; k++) {
    if ((q[k] as number) < (q[k - 1] as number)) {
      throw new ModelFormatError(
        `scoreQuantiles[${k}] = ${q[k]} is below scoreQuantiles[${k - 1}] = ${q[k - 1]}`,
      );
    }
  }
}

/** Validates a parsed model file; throws ModelFormatError naming the first problem found. */
export function parseForestJson(input: unknown): ForestModel {
  const json = parseSaved(input, forestJsonSchema, SAVED_FOREST, (problem) => new ModelFormatError(problem));
  checkSummary(json);
  checkNodes(json);
  const feature = Int32Array.from(json.nodes.feature);
  const nodes: ForestNodes = {
    feature,
    split: Float64Array.from(json.nodes.split, (value, i) =>
      feature[i] === EXTERNAL ? averagePathLength(json.nodes.size[i] as number) : value,
    ),
    child: Int32Array.from(json.nodes.child),
    size: Int32Array.from(json.nodes.size),
    roots: Int32Array.from(json.nodes.roots),
  };
  return {
    dims: json.dims,
    trees: json.trees,
    sampleSize: json.sampleSize,
    heightLimit: json.heightLimit,
    seed: json.seed,
    training: { ...json.training },
    nodes,
    scoreQuantiles: Float64Array.from(json.scoreQuantiles),
  };
}
