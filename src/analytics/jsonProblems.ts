/**
 * What is wrong with a JSON document the analytics read back: a saved model (issue #6 item 5:
 * "models saved ... in the models directory", so a file may be truncated, hand-edited or from
 * another version) or an anomaly body off the wire (item 3). One wording for every reader: the
 * header first, so that a newer or foreign file gets that reason and not a list of field errors,
 * then the first schema issue with where it is and how many more there are.
 */
import type * as z from "zod";

/**
 * How an issue's path is written: "indexed" `layers[0].kernel` (detector models, anomaly bodies)
 * or "dotted" `states.0.power` (the power and gateway profiles, whose messages say it that way).
 */
export type PathStyle = "indexed" | "dotted";

/** A saved file's header as this build writes it. */
export interface SavedFormat {
  readonly format: string;
  readonly version: number;
  /** Default "indexed". */
  readonly paths?: PathStyle;
}

/** "expected a JSON object, got ..." when `input` is not a JSON object, else undefined. */
export function notAnObject(input: unknown): string | undefined {
  if (typeof input === "object" && input !== null && !Array.isArray(input)) {
    return undefined;
  }
  return `expected a JSON object, got ${Array.isArray(input) ? "an array" : typeof input}`;
}

/** The header's problem (not an object, another format, another version), or undefined. */
export function headerProblem(input: unknown, saved: SavedFormat): string | undefined {
  const notObject = notAnObject(input);
  if (notObject !== undefined) {
    return notObject;
  }
  const { format, version } = input as { format?: unknown; version?: unknown };
  if (format !== saved.format) {
    return `"format" is ${JSON.stringify(format)}, expected "${saved.format}"`;
  }
  if (version !== saved.version) {
    return `format version ${JSON.stringify(version)} is not supported (this build reads version ${saved.version})`;
  }
  return undefined;
}

/** The first issue of a failed parse: "where: what (and N more problems)". */
export function describeFirstIssue(error: z.ZodError, paths: PathStyle = "indexed"): string {
  const issue = error.issues[0];
  const where = issue?.path.length ? issuePath(issue.path, paths) : "(top level)";
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problems)` : "";
  return `${where}: ${issue?.message ?? "invalid"}${more}`;
}

function issuePath(path: readonly PropertyKey[], paths: PathStyle): string {
  if (paths === "dotted") {
    return path.map(String).join(".");
  }
  return path
    .map((key, i) => (typeof key === "number" ? `[${key}]` : `${i > 0 ? "." : ""}${String(key)}`))
    .join("");
}

/**
 * Checks the header, then the schema, and returns the parsed document (header included); throws
 * the reader's own error, made by `refuse` from the first problem.
 */
export function parseSaved<S extends z.ZodType>(
  input: unknown,
  schema: S,
  saved: SavedFormat,
  refuse: (problem: string) => Error,
): z.output<S> {
  const header = headerProblem(input, saved);
  if (header !== undefined) {
    throw refuse(header);
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw refuse(describeFirstIssue(parsed.error, saved.paths));
  }
  return parsed.data;
}
