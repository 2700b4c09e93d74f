/**
 * YAML parsing that keeps source positions, so every config error can say FILE:LINE:COL.
 * YAML 1.2 core schema: `yes`/`on` stay strings and `0755` is not octal (FAULTS 8.6); duplicate
 * keys are errors; aliases are capped against "billion laughs" documents.
 */
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
  type YAMLError,
} from "yaml";
import type { ConfigIssue, ConfigPath } from "./configIssue.js";

/** Configs are hand-written; anything larger is a mistake or an attack, refused before parsing. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** js-yaml and `yaml` both recommend a cap; 100 covers any honest use of anchors. */
export const MAX_ALIAS_COUNT = 100;

export interface Position {
  readonly line: number;
  readonly col: number;
}

export interface ParsedYaml {
  /** The plain JS value, or undefined when the document could not be turned into one. */
  readonly value: unknown;
  readonly issues: ConfigIssue[];
  /** Position of the value at `path`, or of the nearest enclosing node that exists. */
  locate(path: ConfigPath): Position;
  /** Position of the key `key` of the mapping at `path` (for unknown keys). */
  locateKey(path: ConfigPath, key: string): Position;
  /** Whether the document has a value at `path`. */
  contains(path: ConfigPath): boolean;
}

const YAML_OPTIONS = {
  version: "1.2",
  schema: "core",
  uniqueKeys: true,
  // Integers come out as bigint so that values beyond 2^53 are seen, never silently rounded.
  intAsBigInt: true,
  prettyErrors: false,
  strict: true,
} as const;

export function parseYaml(source: string, rawText: string): ParsedYaml {
  // Editors on Windows may prepend a byte-order mark; it is not a column of line 1.
  const text = rawText.startsWith("\uFEFF") ? rawText.slice(1) : rawText;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { ...YAML_OPTIONS, lineCounter });
  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, col };
  };
  const issues: ConfigIssue[] = [];
  const report = (severity: "error" | "warning", at: Position, message: string, path: ConfigPath = []) =>
    issues.push({ severity, source, line: at.line, col: at.col, path, message });

  for (const error of doc.errors) {
    report("error", position(originOf(doc, error)), describeYamlError(error), pathAt(doc, error.pos[0]));
  }
  for (const warning of doc.warnings) {
    report("warning", position(warning.pos[0]), describeYamlError(warning));
  }
  const locator = makeLocator(doc, position);
  const fatal = doc.errors.some((error) => error.code !== "DUPLICATE_KEY");
  if (fatal) {
    return { value: undefined, issues, ...locator };
  }
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    report(
      "error",
      { line: 1, col: 1 },
      "the file is empty; expected a mapping of sections, at least gateway: with id and site",
    );
    return { value: undefined, issues, ...locator };
  }
  if (!isMap(doc.contents)) {
    const kind = isSeq(doc.contents) ? "a list" : "a single value";
    report(
      "error",
      position(doc.contents.range?.[0] ?? 0),
      `expected a mapping of sections (gateway:, devices:, ...) at the top level, got ${kind}`,
    );
    return { value: undefined, issues, ...locator };
  }
  reportAmbiguousNumbers(doc, position, report);
  let value: unknown;
  try {
    value = normaliseIntegers(doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
  } catch (error) {
    const firstAlias = findFirstAlias(doc);
    report(
      "error",
      position(firstAlias?.range?.[0] ?? 0),
      /alias/i.test((error as Error).message)
        ? `too many alias expansions (more than ${MAX_ALIAS_COUNT}); the document looks like an alias bomb`
        : (error as Error).message,
    );
    return { value: undefined, issues, ...locator };
  }
  return { value, issues, ...locator };
}

function describeYamlError(error: YAMLError): string {
  // The library's message ends in " at line L, column C:" plus a source excerpt; we print our own place.
  const first = error.message.split("\n")[0] ?? error.message;
  const message = first.replace(/ at line \d+, column \d+:?$/, "");
  switch (error.code) {
    case "DUPLICATE_KEY":
      return "duplicate key: a key may appear only once in a mapping (the later one would silently win)";
    case "MULTIPLE_DOCS":
      return "the file holds more than one YAML document (a second ---); keep the whole config in one";
    case "TAB_AS_INDENT":
      return "a tab is used for indentation; YAML indents with spaces only";
    default:
      return `YAML syntax: ${message.charAt(0).toLowerCase()}${message.slice(1)}`;
  }
}

/**
 * `port: 0502` is 502 in YAML 1.2 but 322 in YAML 1.1 tools and in many technicians' heads.
 * Refuse the ambiguity instead of picking a reading.
 */
function reportAmbiguousNumbers(
  doc: Document,
  position: (offset: number) => Position,
  report: (severity: "error", at: Position, message: string, path: ConfigPath) => void,
): void {
  visit(doc, {
    Scalar(_key, node, ancestors) {
      const source = node.source ?? "";
      if (node.type === "PLAIN" && typeof node.value !== "string" && /^[-+]?0\d/.test(source)) {
        const decimal = String(Number(source));
        const octalDigits = source.replace(/^[-+]?0+/, "");
        const message = /^[-+]?[0-7]+$/.test(source)
          ? `${source} has a leading zero, which YAML 1.1 tools read as octal; write ${decimal} (or 0o${octalDigits} if you mean octal)`
          : `${source} has a leading zero, which YAML 1.1 tools read as text, not a number; write ${decimal}`;
        report("error", position(node.range?.[0] ?? 0), message, pathOf(ancestors, node));
      }
    },
  });
}

function pathOf(ancestors: readonly unknown[], node: unknown): (string | number)[] {
  const path: (string | number)[] = [];
  const chain = [...ancestors, node];
  for (let i = 0; i < chain.length - 1; i++) {
    const parent = chain[i];
    const child = chain[i + 1];
    if (isSeq(parent)) {
      path.push(parent.items.indexOf(child as never));
    } else if (isPair(child) && isScalar(child.key)) {
      path.push(String(child.key.value));
    }
  }
  return path;
}

/**
 * Where a syntax error began. The parser reports where it noticed the problem, which for an
 * unclosed quote or flow collection is the end of the file or the next line; the technician
 * needs the opening quote or bracket, so point at the innermost such node still open there.
 */
function originOf(doc: Document, error: YAMLError): number {
  const noticed = error.pos[0];
  const unclosed =
    error.code === "MISSING_CHAR" || (error.code === "BAD_INDENT" && /end with/.test(error.message));
  if (!unclosed) {
    return noticed;
  }
  let origin = noticed;
  const consider = (start: number, end: number) => {
    if (start < noticed && end >= noticed && (origin === noticed || start > origin)) {
      origin = start;
    }
  };
  visit(doc, {
    Scalar(_key, node) {
      if ((node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE") && node.range) {
        consider(node.range[0], node.range[1]);
      }
    },
    Map(_key, node) {
      if (node.flow === true && node.range) {
        consider(node.range[0], node.range[1]);
      }
    },
    Seq(_key, node) {
      if (node.flow === true && node.range) {
        consider(node.range[0], node.range[1]);
      }
    },
  });
  return origin;
}

/** The config path of the key at `offset`, so that a duplicate key names its place. */
function pathAt(doc: Document, offset: number): (string | number)[] {
  let found: (string | number)[] = [];
  visit(doc, {
    Pair(_key, pair, ancestors) {
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        found = pathOf(ancestors, pair);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/** bigint within ±2^53 becomes number; larger stays bigint for the schema to refuse by name. */
export function normaliseIntegers(value: unknown): unknown {
  if (typeof value === "bigint") {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value;
  }
  if (Array.isArray(value)) {
    return value.map(normaliseIntegers);
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, normaliseIntegers(inner)]));
  }
  return value;
}

function findFirstAlias(doc: Document): Node | undefined {
  let found: Node | undefined;
  visit(doc, {
    Alias(_key, node) {
      found = node;
      return visit.BREAK;
    },
  });
  return found;
}

function makeLocator(doc: Document, position: (offset: number) => Position) {
  const deref = (node: unknown): unknown => (isAlias(node) ? node.resolve(doc) : node);
  const pairIn = (map: unknown, key: string | number) =>
    isMap(map)
      ? map.items.find((pair) => isScalar(pair.key) && String(pair.key.value) === String(key))
      : undefined;
  /** Walks as far as the document goes; `keyNode` is the key that led to `node`, if any. */
  const walk = (path: ConfigPath) => {
    let node: unknown = deref(doc.contents);
    let keyNode: unknown;
    for (const segment of path) {
      const pair = pairIn(node, segment);
      const next =
        pair !== undefined
          ? pair.value
          : isSeq(node) && typeof segment === "number"
            ? node.items[segment]
            : undefined;
      if (next === undefined || next === null) {
        // Missing here: the mapping that lacks it is the place, named by the key that holds it.
        return { node, keyNode, complete: false };
      }
      if (isScalar(next) && next.value === null && next.range?.[0] === next.range?.[1]) {
        // `site:` with nothing after it: the key is the place, not the empty spot after the colon.
        return { node: pair?.key ?? next, keyNode: undefined, complete: true };
      }
      keyNode = pair?.key;
      node = deref(next);
    }
    return { node, keyNode, complete: true };
  };
  const start = (node: unknown): Position => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range === undefined ? { line: 1, col: 1 } : position(range[0]);
  };
  return {
    // A mapping or list is reported at its key ("storage:"), a scalar at its value ("port: 100000").
    locate: (path: ConfigPath): Position => {
      const { node, keyNode } = walk(path);
      return start((isMap(node) || isSeq(node)) && keyNode !== undefined ? keyNode : node);
    },
    contains: (path: ConfigPath): boolean => walk(path).complete,
    locateKey: (path: ConfigPath, key: string): Position => {
      const { node } = walk(path);
      const pair = pairIn(node, key);
      return start(pair !== undefined ? pair.key : node);
    },
  };
}
