/**
 * A sensor line to its named fields, one function per parser format (issue: "parsers for a regex
 * with named groups, CSV columns, key=value and JSON lines; garbage counted and skipped").
 * A line the format cannot read at all is garbage ({ ok: false }); a readable line simply lacks
 * the fields it does not carry, and the tag reports "missing field X".
 */

export type FieldsResult =
  | { readonly ok: true; readonly field: (name: string) => unknown }
  | { readonly ok: false; readonly reason: string };

export function garbage(reason: string): FieldsResult {
  return { ok: false, reason };
}

/** Named groups of a compiled pattern; a group that did not take part is a missing field. */
export function regexFields(pattern: RegExp, line: string): FieldsResult {
  const groups = pattern.exec(line)?.groups;
  if (groups === undefined) {
    return garbage("line does not match the pattern");
  }
  return { ok: true, field: (name) => (Object.hasOwn(groups, name) ? groups[name] : undefined) };
}

/**
 * CSV with minimal RFC 4180 quoting: a field that starts with a double quote runs to the closing
 * quote, "" inside it is one quote, and the separator inside it is text. Unquoted fields are
 * trimmed. The column count must match exactly: a short or long line is a torn or foreign frame.
 */
export function csvFields(columns: readonly string[], separator: string, line: string): FieldsResult {
  const values = splitCsv(line, separator);
  if (values === undefined) {
    return garbage("malformed quoted field");
  }
  if (values.length !== columns.length) {
    return garbage(`expected ${columns.length} columns, got ${values.length}`);
  }
  const byName = new Map<string, string>();
  columns.forEach((column, i) => {
    if (column !== "" && !byName.has(column)) {
      byName.set(column, values[i] as string);
    }
  });
  return { ok: true, field: (name) => byName.get(name) };
}

/** The fields of a CSV line, or undefined for an unterminated quote or text after a closing quote. */
export function splitCsv(line: string, separator: string): string[] | undefined {
  const values: string[] = [];
  let i = 0;
  for (;;) {
    while (i < line.length && isBlank(line, i, separator)) {
      i += 1;
    }
    if (line[i] === '"') {
      let text = "";
      i += 1;
      for (;;) {
        const close = line.indexOf('"', i);
        if (close < 0) {
          return undefined;
        }
        text += line.slice(i, close);
        i = close + 1;
        if (line[i] !== '"') {
          break;
        }
        text += '"';
        i += 1;
      }
      while (i < line.length && isBlank(line, i, separator)) {
        i += 1;
      }
      values.push(text);
      if (i === line.length) {
        return values;
      }
      if (!line.startsWith(separator, i)) {
        return undefined; // text after a closing quote: a torn or foreign frame, not a guess
      }
      i += separator.length;
    } else {
      const next = line.indexOf(separator, i);
      values.push((next < 0 ? line.slice(i) : line.slice(i, next)).trim());
      if (next < 0) {
        return values;
      }
      i = next + separator.length;
    }
  }
}

/** Leading whitespace of a field, unless the separator itself is whitespace (e.g. a tab). */
function isBlank(line: string, i: number, separator: string): boolean {
  const char = line[i] as string;
  return /\s/.test(char) && !line.startsWith(separator, i);
}

/**
 * "T=21.5 RH=40": pairs split by pairSeparator (runs collapse, so "T=1  RH=2" is two pairs), key
 * and value by the first keyValueSeparator (so "msg=a=b" is msg → "a=b"). Tokens without the
 * separator (a sensor id, "OK") are ignored; a line with no pair at all is garbage. The first
 * occurrence of a repeated key wins.
 */
export function keyValueFields(pairSeparator: string, keyValueSeparator: string, line: string): FieldsResult {
  const pairs = new Map<string, string>();
  for (const token of line.split(pairSeparator)) {
    const at = token.indexOf(keyValueSeparator);
    const key = at < 0 ? "" : token.slice(0, at).trim();
    if (key !== "" && !pairs.has(key)) {
      pairs.set(key, token.slice(at + keyValueSeparator.length).trim());
    }
  }
  if (pairs.size === 0) {
    return garbage(`no key${keyValueSeparator}value pairs`);
  }
  return { ok: true, field: (name) => pairs.get(name) };
}

/**
 * A JSON object per line. A field may be a dotted path (a.b.c; array indices as numbers); a key
 * that itself contains dots is tried first. Only own properties are followed, so "constructor" or
 * "__proto__" never reach Object.prototype.
 */
export function jsonFields(line: string): FieldsResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return garbage("not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return garbage("JSON line is not an object");
  }
  const root = parsed;
  return { ok: true, field: (name) => (hasOwn(root, name) ? ownValue(root, name) : followPath(root, name)) };
}

function followPath(root: object, path: string): unknown {
  let current: unknown = root;
  for (const key of path.split(".")) {
    if (typeof current !== "object" || current === null || !hasOwn(current, key)) {
      return undefined;
    }
    current = ownValue(current, key);
  }
  return current;
}

function hasOwn(target: object, key: string): boolean {
  return Object.hasOwn(target, key);
}

function ownValue(target: object, key: string): unknown {
  return (target as Record<string, unknown>)[key];
}
