/**
 * The checks between "the file is valid" and "the daemon can run it": sections not built yet and
 * files the config points at. `run` (and SIGHUP) treat them as errors; `check` shows them as
 * warnings so that a config written ahead of the software still checks clean (issue #2).
 */
import type { ConfigIssue, ConfigPath } from "../config/configIssue.js";
import { sortIssues } from "../config/configIssue.js";
import { type LoadOptions, loadConfigFile } from "../config/loadConfig.js";
import type { Config } from "../config/schema/index.js";
import { checkReferencedFiles } from "./preflight.js";
import { unsupportedSections } from "./unsupported.js";

export type PreparedConfig =
  | {
      readonly ok: true;
      readonly config: Config;
      readonly sha256: string;
      readonly warnings: readonly ConfigIssue[];
    }
  | {
      readonly ok: false;
      readonly errors: readonly ConfigIssue[];
      readonly warnings: readonly ConfigIssue[];
    };

export async function prepareConfig(
  path: string,
  mode: "run" | "check",
  options: LoadOptions = {},
): Promise<PreparedConfig> {
  const loaded = await loadConfigFile(path, options);
  if (!loaded.ok) {
    return loaded;
  }
  const severity = mode === "run" ? "error" : "warning";
  const toIssue = (problem: { path: ConfigPath; message: string }): ConfigIssue => ({
    severity,
    path: problem.path,
    message: problem.message,
    ...loaded.locate(problem.path),
  });
  const extra = [
    ...unsupportedSections(loaded.config, loaded.sections).map(toIssue),
    ...(await checkReferencedFiles(loaded.config)).map(toIssue),
  ];
  const errors = extra.filter((issue) => issue.severity === "error");
  const warnings = sortIssues([...loaded.warnings, ...extra.filter((issue) => issue.severity === "warning")]);
  if (errors.length > 0) {
    return { ok: false, errors: sortIssues(errors), warnings };
  }
  return { ok: true, config: loaded.config, sha256: loaded.sha256, warnings };
}
