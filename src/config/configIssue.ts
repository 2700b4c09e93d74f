/** A problem found in a config file, located as FILE:LINE:COL (issue #2, FAULTS 8.6). */

export type ConfigPath = readonly (string | number)[];

export interface ConfigIssue {
  readonly severity: "error" | "warning";
  /** Where it is: a file name, or "$EDGEWARDEN_..." for an environment override. */
  readonly source: string;
  /** 1-based; absent for issues that have no place in a file (an environment override). */
  readonly line?: number;
  readonly col?: number;
  readonly path: ConfigPath;
  readonly message: string;
}

/** devices[0].pollGroups[1].tags[2].name */
export function formatPath(path: ConfigPath): string {
  let out = "";
  for (const segment of path) {
    out += typeof segment === "number" ? `[${segment}]` : out === "" ? segment : `.${segment}`;
  }
  return out === "" ? "(top level)" : out;
}

/** `FILE:LINE:COL: path: message`, with "warning: " before the message of a warning. */
export function formatIssue(issue: ConfigIssue): string {
  const place = issue.line === undefined ? issue.source : `${issue.source}:${issue.line}:${issue.col ?? 1}`;
  const prefix = issue.severity === "warning" ? "warning: " : "";
  return `${place}: ${formatPath(issue.path)}: ${prefix}${issue.message}`;
}

/** Errors first, then warnings, each in file order. */
export function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const rank = (issue: ConfigIssue) => (issue.severity === "error" ? 0 : 1);
  return [...issues].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      a.source.localeCompare(b.source) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.col ?? 0) - (b.col ?? 0),
  );
}
