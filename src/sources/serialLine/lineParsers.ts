/**
 * A serial-line device's parser config and tags to one function from a line to tag values
 * (issue: "parsers for a regex with named groups, CSV columns, key=value and JSON lines; garbage
 * counted and skipped"). The caller counts `ok: false` lines as garbage and publishes nothing for
 * them; an `ok: true` line carries every tag, each good or bad with its own reason.
 */
import type * as z from "zod";
import type { serialLineDeviceSchema } from "../../config/schema/devices.js";
import type { DecodedValue } from "../modbus/decodeResult.js";
import { csvFields, type FieldsResult, jsonFields, keyValueFields, regexFields } from "./lineFields.js";
import { convertField } from "./lineValues.js";

type SerialLineDevice = z.output<typeof serialLineDeviceSchema>;
export type LineParserConfig = SerialLineDevice["parser"];
export type LineTag = Pick<SerialLineDevice["tags"][number], "name" | "field" | "type" | "scale" | "offset">;

export type LineParseResult =
  | { readonly ok: true; readonly values: Map<string, DecodedValue> }
  | { readonly ok: false; readonly reason: string };

export interface LineParser {
  /** Never throws, whatever the line. */
  parse(line: string): LineParseResult;
}

/**
 * Config validation (deviceChecks.ts) guarantees the regex compiles and that regex groups and CSV
 * columns cover the tags, so building never fails on a validated config; an invalid pattern given
 * directly throws here, once, not per line.
 */
export function createLineParser(config: LineParserConfig, tags: readonly LineTag[]): LineParser {
  const readFields = fieldReader(config);
  return {
    parse(line) {
      let fields: FieldsResult;
      try {
        fields = readFields(line);
      } catch (error) {
        // Belt and braces for "never throws": e.g. a pathological pattern hitting a stack limit.
        return {
          ok: false,
          reason: `parser failed: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
      if (!fields.ok) {
        return fields;
      }
      const values = new Map<string, DecodedValue>();
      for (const tag of tags) {
        const field = tag.field ?? tag.name;
        values.set(tag.name, convertField(fields.field(field), field, tag));
      }
      return { ok: true, values };
    },
  };
}

function fieldReader(config: LineParserConfig): (line: string) => FieldsResult {
  switch (config.format) {
    case "regex": {
      const pattern = new RegExp(config.pattern); // compiled once; no "g" flag, so exec keeps no state
      return (line) => regexFields(pattern, line);
    }
    case "csv":
      return (line) => csvFields(config.columns, config.separator, line);
    case "key-value":
      return (line) => keyValueFields(config.pairSeparator, config.keyValueSeparator, line);
    case "json":
      return jsonFields;
  }
}
