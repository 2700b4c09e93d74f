/**
 * Turns zod issues into messages a technician can act on: what was expected, what was found,
 * and a "did you mean" where a name was misspelt (issue #2).
 */
import type * as z from "zod";
import type { ConfigPath } from "./configIssue.js";
import { didYouMean } from "./suggest.js";

export interface SchemaProblem {
  readonly path: ConfigPath;
  /** Set for unknown keys: the issue belongs at that key of the mapping at `path`. */
  readonly key?: string;
  readonly message: string;
}

type Issue = z.core.$ZodIssue;
type Def = { readonly type: string } & Readonly<Record<string, unknown>>;

const defOf = (schema: unknown): Def | undefined =>
  (schema as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/** zod's own wording, which we replace; messages we wrote ourselves pass through. */
const ZOD_DEFAULT_MESSAGE =
  /^(Invalid input|Invalid option|Too (big|small)|Unrecognized key|Invalid discriminator|Invalid string|Invalid element|Invalid key)/;

export function describeIssues(issues: readonly Issue[], root: z.ZodType, value: unknown): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  for (const issue of issues) {
    const path = issue.path as (string | number)[];
    if (issue.code === "unrecognized_keys") {
      const known = knownKeys(root, value, path);
      for (const key of issue.keys) {
        problems.push({ path, key, message: `unknown key "${key}"${didYouMean(key, known)}` });
      }
      continue;
    }
    problems.push({ path, message: describe(issue, path) });
  }
  return problems;
}

function describe(issue: Issue, path: ConfigPath): string {
  const custom = !ZOD_DEFAULT_MESSAGE.test(issue.message);
  const last = path[path.length - 1];
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) {
        return typeof last === "number" ? "missing entry" : "required key is missing";
      }
      return custom ? issue.message : describeType(issue.expected, issue.input);
    case "invalid_value": {
      if (custom) {
        return issue.message;
      }
      const options = issue.values.map((v) => JSON.stringify(v));
      const hint = typeof issue.input === "string" ? didYouMean(issue.input, issue.values.map(String)) : "";
      const wantsText = issue.values.every((value) => typeof value === "string");
      const got =
        wantsText && (typeof issue.input === "number" || typeof issue.input === "boolean")
          ? quoteHint(issue.input)
          : `got ${show(issue.input)}`;
      return `expected ${options.length === 1 ? options[0] : `one of ${options.join(", ")}`} (${got})${hint}`;
    }
    case "invalid_union":
      return describeUnion(issue, custom);
    case "too_big":
    case "too_small":
      return custom ? issue.message : describeRange(issue);
    case "custom":
    case "invalid_format":
    case "not_multiple_of":
    case "invalid_key":
    case "invalid_element":
      return issue.message;
    default:
      return issue.message;
  }
}

function describeUnion(issue: z.core.$ZodIssueInvalidUnion, custom: boolean): string {
  const discriminator = (issue as { discriminator?: string }).discriminator;
  const options = (issue as { options?: unknown[] }).options;
  if (discriminator !== undefined && options !== undefined) {
    const input = issue.input as Record<string, unknown> | undefined;
    const got = input?.[discriminator];
    const names = options.map(String);
    if (got === undefined) {
      return `missing required key "${discriminator}": one of ${names.join(", ")}`;
    }
    return `unknown ${discriminator} ${JSON.stringify(got)}; expected one of ${names.join(", ")}${typeof got === "string" ? didYouMean(got, names) : ""}`;
  }
  if (custom) {
    return issue.message;
  }
  // A union of literals (dataBits: 7 | 8): list what each branch would have accepted.
  const accepted = issue.errors
    .flat()
    .flatMap((inner) => (inner.code === "invalid_value" ? inner.values.map((v) => JSON.stringify(v)) : []));
  return accepted.length > 0
    ? `expected one of ${accepted.join(", ")} (got ${show(issue.input)})`
    : `no accepted form matches ${show(issue.input)}`;
}

function describeRange(issue: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall): string {
  const bound = issue.code === "too_big" ? issue.maximum : issue.minimum;
  const inclusive = issue.inclusive !== false;
  const word =
    issue.code === "too_big" ? (inclusive ? "at most" : "less than") : inclusive ? "at least" : "more than";
  switch (issue.origin) {
    case "string":
      return `must be ${word} ${String(bound)} characters long`;
    case "array":
    case "set":
      return `needs ${word} ${String(bound)} entries`;
    default:
      return `must be ${word} ${String(bound)} (got ${show(issue.input)})`;
  }
}

const YAML11_BOOLEANS = /^(y|yes|n|no|on|off|true|false)$/i;

/** Technicians write mappings ("key: value" lines) and lists ("- " lines), not objects and arrays. */
const TYPE_NAMES: Readonly<Record<string, string>> = {
  int: "a whole number",
  object: "a mapping",
  array: "a list",
  string: "a string",
  number: "a number",
  boolean: "true or false",
};

function describeType(expected: string, input: unknown): string {
  const wanted = TYPE_NAMES[expected] ?? `a ${expected}`;
  if (typeof input === "bigint") {
    return `${input} is too large to hold exactly (beyond 2^53); quote it if it is an identifier, or use a smaller value`;
  }
  if (expected === "boolean" && typeof input === "string" && YAML11_BOOLEANS.test(input)) {
    return `expected true or false (got the text "${input}": YAML 1.2 reads yes/no/on/off as text)`;
  }
  if (
    (expected === "number" || expected === "int") &&
    typeof input === "string" &&
    /^[-+]?\d+(\.\d+)?$/.test(input)
  ) {
    return `expected ${wanted} (got the text "${input}"; remove the quotes)`;
  }
  if (expected === "string" && (typeof input === "number" || typeof input === "boolean")) {
    return `expected ${wanted} (${quoteHint(input)})`;
  }
  return `expected ${wanted} (got ${show(input)})`;
}

/** `id: 4711` is a number to YAML; the technician meant the text "4711". */
function quoteHint(input: number | boolean): string {
  return `got the ${typeof input === "number" ? "number" : "value"} ${String(input)}; write "${String(input)}" in quotes`;
}

function show(input: unknown): string {
  if (input === null) {
    return "an empty value";
  }
  if (Array.isArray(input)) {
    return "a list";
  }
  switch (typeof input) {
    case "string":
      return `the text ${JSON.stringify(input)}`;
    case "number":
    case "boolean":
    case "bigint":
      return String(input);
    case "object":
      return "a mapping";
    default:
      return typeof input;
  }
}

/** The keys a strict object at `path` accepts, found by walking the schema along the value. */
export function knownKeys(root: z.ZodType, value: unknown, path: ConfigPath): string[] {
  const def = defAt(root, value, path);
  return def?.type === "object" ? Object.keys(def.shape as Record<string, unknown>) : [];
}

/** The kind of value the schema wants at `path` ("object", "array", "string", ...), if known. */
export function schemaTypeAt(root: z.ZodType, value: unknown, path: ConfigPath): string | undefined {
  return defAt(root, value, path, true)?.type;
}

/** With `keepLastPipe`, a transformed value (duration, size) reports "pipe", not its input type. */
function defAt(root: z.ZodType, value: unknown, path: ConfigPath, keepLastPipe = false): Def | undefined {
  let schema: unknown = root;
  let current: unknown = value;
  for (const segment of [...path, undefined]) {
    schema = unwrap(schema, current, keepLastPipe && segment === undefined);
    const def = defOf(schema);
    if (segment === undefined) {
      return def;
    }
    if (def?.type === "object") {
      schema = (def.shape as Record<string, unknown>)[String(segment)];
    } else if (def?.type === "array") {
      schema = def.element;
    } else if (def?.type === "record") {
      schema = def.valueType;
    } else {
      return undefined;
    }
    current = (current as Record<string | number, unknown> | undefined)?.[segment];
  }
  return undefined;
}

/** Peels wrappers (optional, default, pipe...) and picks the union branch the value is aiming at. */
export function unwrap(schema: unknown, value: unknown, keepPipe = false): unknown {
  for (;;) {
    const def = defOf(schema);
    if (def === undefined || (keepPipe && def.type === "pipe")) {
      return schema;
    }
    switch (def.type) {
      case "optional":
      case "nullable":
      case "default":
      case "prefault":
      case "readonly":
      case "catch":
        schema = def.innerType;
        break;
      case "pipe":
        schema = def.in;
        break;
      case "union":
        schema = pickBranch(def, value);
        if (schema === undefined) {
          return undefined;
        }
        break;
      default:
        return schema;
    }
  }
}

function pickBranch(def: Def, value: unknown): unknown {
  const options = def.options as unknown[];
  const discriminator = def.discriminator as string | undefined;
  if (discriminator !== undefined && value !== null && typeof value === "object") {
    const wanted = (value as Record<string, unknown>)[discriminator];
    return options.find((option) => {
      const shape = defOf(option)?.shape as Record<string, unknown> | undefined;
      const literal = defOf(shape?.[discriminator]);
      return (literal?.values as unknown[] | undefined)?.includes(wanted);
    });
  }
  return options.find((option) => defOf(unwrap(option, value))?.type === "object") ?? options[0];
}
