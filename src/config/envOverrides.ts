/**
 * Environment overrides, for systemd drop-ins and containers (issue #2):
 *
 *   EDGEWARDEN_UPLINK__URL=mqtts://broker:8883         -> uplink.url
 *   EDGEWARDEN_DEVICES__PRESS_2__HOST=10.0.4.22       -> the device named press-2, host
 *   EDGEWARDEN_DEVICES__0__TIMEOUT=2s                 -> devices[0].timeout
 *   EDGEWARDEN_LOG_LEVEL=debug                        -> observability.log.level
 *
 * Levels are separated by "__"; names match keys case-insensitively with "_" standing for
 * camelCase humps or "-". Values are read as YAML scalars (core schema), so 5, true and 1s work.
 * An override that names no key is an error, like an unknown key in the file.
 */
import { parse } from "yaml";
import type * as z from "zod";
import type { ConfigIssue, ConfigPath } from "./configIssue.js";
import { knownKeys, schemaTypeAt } from "./schemaIssues.js";
import { closestMatch } from "./suggest.js";
import { normaliseIntegers } from "./yamlDocument.js";

export const ENV_PREFIX = "EDGEWARDEN_";
/**
 * Variables with our prefix that are not overrides. EDGEWARDEN_REPORT_DURABLE turns on the crash
 * test's hook (src/daemon/durableReport.ts, issue #5).
 */
export const ENV_RESERVED = new Set(["EDGEWARDEN_CONFIG", "EDGEWARDEN_REPORT_DURABLE"]);
const SHORTCUTS: Readonly<Record<string, ConfigPath>> = {
  EDGEWARDEN_LOG_LEVEL: ["observability", "log", "level"],
};

export interface EnvOverrideResult {
  readonly value: unknown;
  readonly issues: ConfigIssue[];
  /** Overridden paths, so that schema errors under them name the variable instead of a file line. */
  readonly overrides: readonly { readonly path: ConfigPath; readonly variable: string }[];
}

const normalise = (name: string) => name.toLowerCase().replace(/[_-]/g, "");

export function applyEnvOverrides(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  schema: z.ZodType,
): EnvOverrideResult {
  const issues: ConfigIssue[] = [];
  const overrides: { path: ConfigPath; variable: string }[] = [];
  const root = structuredClone(value) as Record<string, unknown>;
  const variables = Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && !ENV_RESERVED.has(name))
    .sort();
  for (const variable of variables) {
    const raw = env[variable] ?? "";
    const fail = (path: ConfigPath, message: string) =>
      issues.push({ severity: "error", source: `$${variable}`, path, message });
    const shortcut = SHORTCUTS[variable];
    const segments = variable.slice(ENV_PREFIX.length).split("__");
    if (shortcut === undefined && (segments.length < 2 || segments.some((s) => s === ""))) {
      fail([], `not an override: use ${ENV_PREFIX}<SECTION>__<KEY>, e.g. ${ENV_PREFIX}UPLINK__URL`);
      continue;
    }
    const path = shortcut ?? resolvePath(root, segments, schema, fail);
    if (path === undefined) {
      continue;
    }
    // A key that takes text takes the variable's text as it is: USERNAME=4711 is the text "4711".
    // Durations and sizes are parsed, so that TIMEOUT=1000 gets the "needs a unit" hint.
    const wantsText = ["string", "enum", "literal"].includes(schemaTypeAt(schema, root, path) ?? "");
    setIn(root, path, wantsText ? raw : parseScalar(raw));
    overrides.push({ path, variable });
  }
  return { value: root, issues, overrides };
}

function resolvePath(
  root: Record<string, unknown>,
  segments: readonly string[],
  schema: z.ZodType,
  fail: (path: ConfigPath, message: string) => void,
): ConfigPath | undefined {
  const path: (string | number)[] = [];
  let node: unknown = root;
  for (const segment of segments) {
    if (node === undefined && schemaTypeAt(schema, root, path) === "array") {
      fail(path, `no entry "${segment}" here: the list is empty`);
      return undefined;
    }
    if (Array.isArray(node)) {
      const index = /^\d+$/.test(segment)
        ? Number(segment)
        : node.findIndex(
            (item) => normalise(String((item as { name?: unknown })?.name ?? "")) === normalise(segment),
          );
      if (index < 0 || index >= node.length) {
        const names = node.map((item) => String((item as { name?: unknown })?.name ?? "")).filter(Boolean);
        fail(
          path,
          `no entry "${segment}" here; use an index 0-${node.length - 1} or a name: ${names.join(", ")}`,
        );
        return undefined;
      }
      path.push(index);
      node = node[index];
      continue;
    }
    const existing = node !== null && typeof node === "object" ? Object.keys(node) : [];
    const candidates = [...new Set([...existing, ...knownKeys(schema, root, path)])];
    const key = candidates.find((candidate) => normalise(candidate) === normalise(segment));
    if (key === undefined) {
      const hint = closestMatch(normalise(segment), candidates.map(normalise));
      const suggestion = candidates.find((candidate) => normalise(candidate) === hint);
      fail(
        path,
        `no key "${segment}" here${suggestion === undefined ? "" : `; did you mean ${suggestion.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase()}?`}`,
      );
      return undefined;
    }
    path.push(key);
    node = (node as Record<string, unknown> | undefined)?.[key];
  }
  return path;
}

function parseScalar(raw: string): unknown {
  try {
    // As in the file: integers as bigint, so that values beyond 2^53 are refused, not rounded.
    const parsed: unknown = normaliseIntegers(
      parse(raw, { version: "1.2", schema: "core", intAsBigInt: true }),
    );
    return parsed ?? raw;
  } catch {
    return raw;
  }
}

function setIn(root: Record<string, unknown>, path: ConfigPath, value: unknown): void {
  let node: Record<string | number, unknown> = root;
  path.forEach((segment, i) => {
    if (i === path.length - 1) {
      node[segment] = value;
      return;
    }
    const next = node[segment];
    if (next === null || typeof next !== "object") {
      node[segment] = {};
    }
    node = node[segment] as Record<string | number, unknown>;
  });
}
