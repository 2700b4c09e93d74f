/**
 * Reading a config: file -> YAML with positions -> environment overrides -> relative paths ->
 * schema -> cross-field checks. Every problem is collected and reported at once, each located as
 * FILE:LINE:COL (issue #2). The only I/O is reading the one file (DESIGN.md, parts table).
 */

import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import type { ConfigIssue, ConfigPath } from "./configIssue.js";
import { sortIssues } from "./configIssue.js";
import { applyEnvOverrides } from "./envOverrides.js";
import {
  type Config,
  configObjectSchema,
  configSchema,
  configWarnings,
  crossCheckParts,
} from "./schema/index.js";
import { describeIssues } from "./schemaIssues.js";
import { MAX_CONFIG_BYTES, type ParsedYaml, parseYaml } from "./yamlDocument.js";

export type LoadResult =
  | {
      readonly ok: true;
      readonly config: Config;
      readonly warnings: readonly ConfigIssue[];
      /** SHA-256 of the file's bytes, for audit events ("which config was running"). */
      readonly sha256: string;
      /** Top-level sections written in the file or set from the environment (not just defaulted). */
      readonly sections: ReadonlySet<string>;
      /** Where each key was written, for reporting later problems (e.g. a missing key file). */
      readonly locate: (path: ConfigPath) => { source: string; line?: number; col?: number };
    }
  | {
      readonly ok: false;
      readonly errors: readonly ConfigIssue[];
      readonly warnings: readonly ConfigIssue[];
    };

export interface LoadOptions {
  /** Environment for overrides; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Name shown in messages; default the path as given. */
  readonly displayName?: string;
}

export async function loadConfigFile(path: string, options: LoadOptions = {}): Promise<LoadResult> {
  const source = options.displayName ?? path;
  let text: string;
  try {
    text = await readCapped(path);
  } catch (error) {
    const message = describeReadError(error);
    const line = (error as { line?: number }).line ?? 1;
    return {
      ok: false,
      errors: [{ severity: "error", source, line, col: 1, path: [], message }],
      warnings: [],
    };
  }
  return loadConfigText(text, { ...options, displayName: source, baseDir: dirname(resolve(path)) });
}

export function loadConfigText(
  text: string,
  options: LoadOptions & { readonly displayName: string; readonly baseDir: string },
): LoadResult {
  const source = options.displayName;
  const sha256 = createHash("sha256").update(text).digest("hex");
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    return { ok: false, errors: [tooLarge(source)], warnings: [] };
  }
  const yaml = parseYaml(source, text);
  const yamlErrors = yaml.issues.filter((issue) => issue.severity === "error");
  const yamlWarnings = yaml.issues.filter((issue) => issue.severity === "warning");
  if (yaml.value === undefined) {
    return { ok: false, errors: sortIssues(yamlErrors), warnings: yamlWarnings };
  }
  const env = applyEnvOverrides(yaml.value, options.env ?? process.env, configObjectSchema);
  const locate = locator(source, yaml, env.overrides);
  const input = resolveRelativePaths(env.value, options.baseDir);
  const parsed = configSchema.safeParse(input, { reportInput: true });
  const problems = parsed.success ? [] : describeIssues(parsed.error.issues, configObjectSchema, input);
  if (!parsed.success) {
    const seen = new Set(problems.map((p) => `${p.path.join(".")}\0${p.message}`));
    for (const extra of crossCheckParts(input)) {
      if (!seen.has(`${extra.path.join(".")}\0${extra.message}`)) {
        problems.push(extra);
      }
    }
  }
  const schemaErrors: ConfigIssue[] = problems.map((problem) => ({
    severity: "error",
    path: problem.key === undefined ? problem.path : [...problem.path, problem.key],
    message: problem.message,
    ...(problem.key === undefined
      ? locate(problem.path)
      : locateKey(source, yaml, env.overrides, problem.path, problem.key)),
  }));
  const errors = sortIssues([...yamlErrors, ...env.issues, ...schemaErrors]);
  if (!parsed.success || errors.length > 0) {
    return { ok: false, errors, warnings: yamlWarnings };
  }
  const warnings = sortIssues([
    ...yamlWarnings,
    ...configWarnings(parsed.data).map((w) => ({
      severity: "warning" as const,
      path: w.path,
      message: w.message,
      ...locate(w.path),
    })),
  ]);
  const sections = new Set(Object.keys(input as Record<string, unknown>));
  return { ok: true, config: parsed.data, warnings, sha256, sections, locate };
}

/** The file's text: a regular file, at most MAX_CONFIG_BYTES, UTF-8 (errors carry a code describeReadError knows). */
export async function readCapped(path: string): Promise<string> {
  const handle = await open(path, "r");
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      throw Object.assign(new Error("not a regular file"), { code: "EISDIR" });
    }
    if (stat.size > MAX_CONFIG_BYTES) {
      throw Object.assign(new Error("too large"), { code: "EFBIG" });
    }
    // Read one byte past the cap: a file that grew between stat and read is still refused.
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > MAX_CONFIG_BYTES) {
      throw Object.assign(new Error("too large"), { code: "EFBIG" });
    }
    const bytes = buffer.subarray(0, bytesRead);
    if (!isUtf8(bytes)) {
      throw Object.assign(new Error("not UTF-8"), { code: "EILSEQ", line: firstNonUtf8Line(bytes) });
    }
    return bytes.toString("utf8");
  } finally {
    await handle.close();
  }
}

/** 1-based number of the first line that is not valid UTF-8. */
function firstNonUtf8Line(bytes: Buffer): number {
  let line = 1;
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      if (!isUtf8(bytes.subarray(start, i))) {
        return line;
      }
      line++;
      start = i + 1;
    }
  }
  return 1;
}

export function describeReadError(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case "ENOENT":
      return "cannot read the config: no such file";
    case "EACCES":
      return "cannot read the config: permission denied";
    case "EISDIR":
      return "cannot read the config: it is a directory, not a file";
    case "EFBIG":
      return `the config is larger than ${MAX_CONFIG_BYTES / 1024} KiB; a hand-written config never is`;
    case "EILSEQ":
      return "the config is not valid UTF-8 text (saved as Latin-1 or Windows-1252? save it as UTF-8)";
    default:
      return `cannot read the config: ${(error as Error).message}`;
  }
}

function tooLarge(source: string): ConfigIssue {
  return {
    severity: "error",
    source,
    line: 1,
    col: 1,
    path: [],
    message: describeReadError({ code: "EFBIG" }),
  };
}

type Overrides = readonly { readonly path: ConfigPath; readonly variable: string }[];

function overrideFor(overrides: Overrides, path: ConfigPath): string | undefined {
  return overrides.find(
    (o) => o.path.length <= path.length && o.path.every((segment, i) => path[i] === segment),
  )?.variable;
}

function locator(source: string, yaml: ParsedYaml, overrides: Overrides) {
  return (path: ConfigPath): { source: string; line?: number; col?: number } => {
    // Set by a variable, or absent from the file and created by a variable below it.
    const below = yaml.contains(path)
      ? undefined
      : overrides.find((o) => path.every((segment, i) => o.path[i] === segment))?.variable;
    const variable = overrideFor(overrides, path) ?? below;
    if (variable !== undefined) {
      return { source: `$${variable}` };
    }
    return { source, ...yaml.locate(path) };
  };
}

function locateKey(source: string, yaml: ParsedYaml, overrides: Overrides, path: ConfigPath, key: string) {
  const variable = overrideFor(overrides, [...path, key]);
  return variable !== undefined ? { source: `$${variable}` } : { source, ...yaml.locateKey(path, key) };
}

/**
 * Relative paths are relative to the config file, whatever the working directory (systemd starts
 * us in /). Keys that hold paths are named "...File", "...Dir" or "dir" (see primitives.filePath).
 */
export function resolveRelativePaths(value: unknown, baseDir: string): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => resolveRelativePaths(item, baseDir));
  }
  if (value === null || typeof value !== "object") {
    return value;
  }
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      isPathKey(key) && typeof inner === "string" && inner !== "" && !isAbsolute(inner)
        ? resolve(baseDir, inner)
        : resolveRelativePaths(inner, baseDir),
    ]),
  );
}

export function isPathKey(key: string): boolean {
  return key === "dir" || /[a-z](File|Dir)$/.test(key);
}
