/**
 * Derived artefacts of the config schema (issue #2: "one schema is the single source of truth"):
 * config/schema.json for editors and docs/configuration.md for people. `npm run generate` writes
 * them; a test fails when the committed copies are stale.
 */
import { configJsonSchema } from "./schema/index.js";

type JsonSchema = {
  readonly type?: string | readonly string[];
  readonly title?: string;
  readonly description?: string;
  readonly default?: unknown;
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly oneOf?: readonly JsonSchema[];
  readonly anyOf?: readonly JsonSchema[];
};

export const SCHEMA_ID = "https://edgewarden.dev/schema/config-v1.json";

export function renderConfigSchemaJson(): string {
  const schema = { $id: SCHEMA_ID, ...configJsonSchema() };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

export function renderConfigurationMarkdown(): string {
  const root = configJsonSchema() as JsonSchema;
  const out: string[] = [
    "# Configuration reference",
    "",
    "<!-- Generated from src/config/schema by `npm run generate`; do not edit by hand. A test fails when it is stale. -->",
    "",
    "edgewarden reads one YAML file (YAML 1.2 core schema), by default `/etc/edgewarden/config.yaml`.",
    "`edgewarden check -c FILE` validates it and prints every problem at once as `FILE:LINE:COL: path: message`.",
    "Editors that speak the yaml-language-server complete and check keys when the file starts with",
    "`# yaml-language-server: $schema=/opt/edgewarden/config/schema.json`.",
    "",
    "Rules that hold everywhere:",
    "",
    "- Unknown keys are errors, with a suggestion for misspelt ones.",
    "- `yes`, `no`, `on`, `off` are text, not booleans: write `true` or `false`.",
    "- Integers with a leading zero (`0755`) are refused as ambiguous; integers beyond 2^53 are refused rather than rounded.",
    "- Durations need a unit: `500ms`, `10s`, `5m`, `1h`, `7d` (combinations such as `1h30m` work). Sizes too: `512MiB`, `2GB`.",
    "- Relative paths (keys ending in `File` or `Dir`, and `dir`) are relative to the config file's directory.",
    "- Secrets are never written in the file: `passwordFile` and `keyFile` name files of mode 0600.",
    "- Any key can be overridden from the environment: `EDGEWARDEN_<SECTION>__<KEY>[__<KEY>...]`, levels separated by",
    "  `__`, names matched case-insensitively with `_` for camelCase humps (`EDGEWARDEN_UPLINK__PASSWORD_FILE`).",
    "  List entries are addressed by index or by their `name` (`EDGEWARDEN_DEVICES__PRESS_2__HOST=10.0.4.22`).",
    "  Values are read as YAML scalars. `EDGEWARDEN_LOG_LEVEL` is short for `EDGEWARDEN_OBSERVABILITY__LOG__LEVEL`.",
    "  `EDGEWARDEN_CONFIG` names the config file for commands run without `-c`.",
    "- Sections whose part is not built yet are accepted by `check` (with a note) and refused by `run`.",
    "",
    "| key | type | default | description |",
    "| --- | --- | --- | --- |",
  ];
  const sections: string[] = [];
  for (const [key, schema] of Object.entries(root.properties ?? {})) {
    const required = root.required?.includes(key) ?? false;
    out.push(row(key, schema, required));
    sections.push(...renderSection(key, schema));
  }
  out.push("", ...sections);
  return `${out.join("\n").replace(/\n{3,}/g, "\n\n")}\n`;
}

function renderSection(path: string, schema: JsonSchema): string[] {
  const object = objectOf(schema);
  if (object === undefined) {
    const variants = variantsOf(schema);
    if (variants.length === 0) {
      return [];
    }
    const lines = [`## \`${path}\``, "", schema.description ?? "", ""];
    for (const variant of variants) {
      lines.push(...renderVariant(isList(schema) ? `${path}[]` : path, variant));
    }
    return lines;
  }
  const tablePath = isList(schema) ? `${path}[]` : path;
  return [
    `## \`${path}\``,
    "",
    schema.description ?? object.description ?? "",
    "",
    ...renderTable(tablePath, object),
  ];
}

function renderVariant(path: string, variant: JsonSchema): string[] {
  const name =
    variant.title ?? String(variant.properties?.protocol?.const ?? variant.properties?.format?.const ?? "");
  return [`### \`${path}\` — ${name}`, "", variant.description ?? "", "", ...renderTable(path, variant)];
}

/** A table of the object's keys, then a sub-table for each nested object or list of objects. */
function renderTable(path: string, object: JsonSchema): string[] {
  const lines = ["| key | type | default | description |", "| --- | --- | --- | --- |"];
  const nested: string[] = [];
  for (const [key, schema] of Object.entries(object.properties ?? {})) {
    lines.push(row(key, schema, object.required?.includes(key) ?? false));
    const childPath = `${path}.${key}${isList(schema) ? "[]" : ""}`;
    const child = objectOf(schema);
    if (child !== undefined) {
      nested.push(
        "",
        `#### \`${childPath}\``,
        "",
        child.description ?? schema.description ?? "",
        "",
        ...renderTable(childPath, child),
      );
    } else if (variantsOf(schema).length > 0) {
      for (const variant of variantsOf(schema)) {
        nested.push("", ...renderVariant(childPath, variant));
      }
    }
  }
  return [...lines, ...nested, ""];
}

function row(key: string, schema: JsonSchema, required: boolean): string {
  const def =
    schema.default === undefined
      ? required
        ? "**required**"
        : "—"
      : `\`${JSON.stringify(schema.default)}\``;
  return `| \`${key}\` | ${describeType(schema)} | ${def} | ${escapeCell(schema.description ?? objectOf(schema)?.description ?? "")} |`;
}

function describeType(schema: JsonSchema): string {
  if (schema.const !== undefined) {
    return `\`${JSON.stringify(schema.const)}\``;
  }
  if (schema.enum !== undefined) {
    return schema.enum.map((value) => `\`${JSON.stringify(value)}\``).join(" \\| ");
  }
  const alternatives =
    schema.anyOf ??
    (schema.oneOf !== undefined && variantsOf(schema).length === 0 ? schema.oneOf : undefined);
  if (alternatives !== undefined) {
    return alternatives.map(describeType).join(" or ");
  }
  if (isList(schema)) {
    const items = schema.items;
    return `list of ${items === undefined ? "values" : objectOf(items) !== undefined || variantsOf(items).length > 0 ? "mappings" : describeType(items)}`;
  }
  const type = typeof schema.type === "string" ? schema.type : (schema.type ?? ["any"]).join(" or ");
  const bounds: string[] = [];
  const low = schema.minimum ?? schema.exclusiveMinimum;
  const high = schema.maximum ?? schema.exclusiveMaximum;
  if (low !== undefined || high !== undefined) {
    bounds.push(`${low ?? "…"}–${high ?? "…"}`);
  }
  if (schema.pattern !== undefined && /ms\|s\|m\|h\|d/.test(schema.pattern)) {
    return "duration";
  }
  if (schema.pattern !== undefined && /KiB/.test(schema.pattern)) {
    return "size";
  }
  return bounds.length > 0 ? `${type} (${bounds.join(", ")})` : type;
}

function objectOf(schema: JsonSchema): JsonSchema | undefined {
  if (schema.properties !== undefined) {
    return schema;
  }
  if (isList(schema) && schema.items?.properties !== undefined) {
    return schema.items;
  }
  return undefined;
}

function variantsOf(schema: JsonSchema): readonly JsonSchema[] {
  const target = isList(schema) ? schema.items : schema;
  const options = target?.oneOf ?? target?.anyOf ?? [];
  return options.every((option) => option.properties !== undefined) ? options : [];
}

function isList(schema: JsonSchema): boolean {
  return schema.type === "array";
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}
