/**
 * Reads a plant file (issue #7 item 1) with the config's YAML reader and issue wording, so every
 * problem is reported at once as FILE:LINE:COL.
 */
import { readFile } from "node:fs/promises";
import type { ConfigIssue } from "../config/configIssue.js";
import { sortIssues } from "../config/configIssue.js";
import { describeIssues, type SchemaProblem } from "../config/schemaIssues.js";
import { MAX_CONFIG_BYTES, parseYaml } from "../config/yamlDocument.js";
import { type PlantSpec, plantSchema } from "./plantSchema.js";
import { crossCheckPlant } from "./plantSignals.js";

export type PlantLoad =
  | { readonly ok: true; readonly plant: PlantSpec }
  | { readonly ok: false; readonly errors: readonly ConfigIssue[] };

export async function loadPlantFile(path: string): Promise<PlantLoad> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const message =
      (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
    return { ok: false, errors: [{ severity: "error", source: path, line: 1, col: 1, path: [], message }] };
  }
  return loadPlantText(text, path);
}

export function loadPlantText(text: string, source: string): PlantLoad {
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    return {
      ok: false,
      errors: [
        {
          severity: "error",
          source,
          line: 1,
          col: 1,
          path: [],
          message: "the plant file is larger than 1 MiB",
        },
      ],
    };
  }
  const yaml = parseYaml(source, text);
  const yamlErrors = yaml.issues.filter((issue) => issue.severity === "error");
  if (yaml.value === undefined) {
    return { ok: false, errors: sortIssues(yamlErrors) };
  }
  const parsed = plantSchema.safeParse(yaml.value, { reportInput: true });
  const problems: SchemaProblem[] = parsed.success
    ? crossCheckPlant(parsed.data)
    : describeIssues(parsed.error.issues, plantSchema, yaml.value);
  const errors: ConfigIssue[] = [
    ...yamlErrors,
    ...problems.map((problem): ConfigIssue => {
      const key = problem.key;
      const at = key === undefined ? yaml.locate(problem.path) : yaml.locateKey(problem.path, key);
      return {
        severity: "error",
        source,
        ...at,
        path: key === undefined ? problem.path : [...problem.path, key],
        message: problem.message,
      };
    }),
  ];
  if (!parsed.success || errors.length > 0) {
    return { ok: false, errors: sortIssues(errors) };
  }
  return { ok: true, plant: parsed.data };
}
