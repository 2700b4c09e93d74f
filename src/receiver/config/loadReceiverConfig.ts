/**
 * Reading the receiver's config file (issue #7 item 2): the daemon's pipeline, reused step by
 * step (file -> YAML with positions -> relative paths -> schema), so that every problem is
 * reported at once as FILE:LINE:COL: path: message (issue #2) and the command exits 2. There are
 * no environment overrides: the receiver has one small file and no systemd drop-ins of its own.
 */
import { dirname, isAbsolute, resolve } from "node:path";
import type { ConfigIssue, ConfigPath } from "../../config/configIssue.js";
import { sortIssues } from "../../config/configIssue.js";
import { describeReadError, readCapped, resolveRelativePaths } from "../../config/loadConfig.js";
import { describeIssues } from "../../config/schemaIssues.js";
import { MAX_CONFIG_BYTES, parseYaml } from "../../config/yamlDocument.js";
import { type ReceiverConfig, receiverConfigObjectSchema } from "./receiverSchema.js";

export type Locate = (path: ConfigPath) => { source: string; line?: number; col?: number };

export type ReceiverConfigResult =
  | { readonly ok: true; readonly config: ReceiverConfig; readonly locate: Locate }
  | { readonly ok: false; readonly errors: readonly ConfigIssue[] };

export async function loadReceiverConfigFile(
  path: string,
  options: { readonly displayName?: string } = {},
): Promise<ReceiverConfigResult> {
  const source = options.displayName ?? path;
  let text: string;
  try {
    text = await readCapped(path);
  } catch (error) {
    const line = (error as { line?: number }).line ?? 1;
    return {
      ok: false,
      errors: [{ severity: "error", source, line, col: 1, path: [], message: describeReadError(error) }],
    };
  }
  return loadReceiverConfigText(text, { displayName: source, baseDir: dirname(resolve(path)) });
}

export function loadReceiverConfigText(
  text: string,
  options: { readonly displayName: string; readonly baseDir: string },
): ReceiverConfigResult {
  const source = options.displayName;
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    const message = describeReadError({ code: "EFBIG" });
    return { ok: false, errors: [{ severity: "error", source, line: 1, col: 1, path: [], message }] };
  }
  const yaml = parseYaml(source, text);
  // The receiver's file has no place for a warning to matter (no sections written ahead of the
  // software): YAML warnings (a duplicate anchor...) are errors here, so nothing is silently odd.
  const yamlIssues = yaml.issues.map((issue) => ({ ...issue, severity: "error" as const }));
  if (yaml.value === undefined) {
    return { ok: false, errors: sortIssues(yamlIssues) };
  }
  const locate: Locate = (path) => ({ source, ...yaml.locate(path) });
  const input = resolveReceiverPaths(yaml.value, options.baseDir);
  const parsed = receiverConfigObjectSchema.safeParse(input, { reportInput: true });
  const schemaErrors: ConfigIssue[] = parsed.success
    ? []
    : describeIssues(parsed.error.issues, receiverConfigObjectSchema, input).map((problem) => ({
        severity: "error",
        path: problem.key === undefined ? problem.path : [...problem.path, problem.key],
        message: problem.message,
        ...(problem.key === undefined
          ? locate(problem.path)
          : { source, ...yaml.locateKey(problem.path, problem.key) }),
      }));
  const errors = sortIssues([...yamlIssues, ...schemaErrors]);
  if (!parsed.success || errors.length > 0) {
    return { ok: false, errors };
  }
  return { ok: true, config: parsed.data, locate };
}

/**
 * Relative paths are relative to the config file: the daemon's rule for "...File" keys, plus the
 * receiver's two keys that the brief names plainly, keys[].file and store.jsonl.path ("-" is stdout).
 */
function resolveReceiverPaths(value: unknown, baseDir: string): unknown {
  const resolved = resolveRelativePaths(value, baseDir);
  if (resolved === null || typeof resolved !== "object" || Array.isArray(resolved)) {
    return resolved;
  }
  const config = { ...(resolved as Record<string, unknown>) };
  const absolute = (path: unknown) =>
    typeof path === "string" && path !== "" && path !== "-" && !isAbsolute(path)
      ? resolve(baseDir, path)
      : path;
  if (Array.isArray(config.keys)) {
    config.keys = config.keys.map((key: unknown) =>
      key !== null && typeof key === "object" && !Array.isArray(key)
        ? { ...key, file: absolute((key as { file?: unknown }).file) }
        : key,
    );
  }
  const store = config.store as { jsonl?: unknown } | undefined;
  if (
    store !== null &&
    typeof store === "object" &&
    store.jsonl !== null &&
    typeof store.jsonl === "object"
  ) {
    const jsonl = store.jsonl as { path?: unknown };
    config.store = { ...store, jsonl: { ...jsonl, path: absolute(jsonl.path) } };
  }
  return config;
}
