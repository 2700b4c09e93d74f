/**
 * `poll --decode-all TAG` (issue #4 item 8): the raw registers of one tag and every decoding of
 * them side by side, for the most common commissioning complaint, "the value is wrong" (a
 * vendor's register list rarely says its word order). The technician reads the panel display,
 * finds the row and column that match, and writes that type and order into the tag.
 *
 * Rows: every numeric type of the tag's width (1 register: int16, uint16; 2: int32, uint32,
 * float32; 4: int64, uint64, float64) and, for strings, the string; columns: the four orders.
 * Values are unscaled; the configured scale and offset are shown under the table.
 */
import type { ByteOrder, RegisterType } from "../../config/schema/tags.js";
import { BYTE_ORDERS } from "../../config/schema/tags.js";
import type { RegisterValueType } from "./decodeRegisters.js";
import type { DecodedValue } from "./decodeResult.js";
import { decodeAllOrders } from "./decodeTag.js";

const TYPES_BY_WIDTH: Readonly<Record<number, readonly RegisterValueType[]>> = {
  1: ["int16", "uint16"],
  2: ["int32", "uint32", "float32"],
  4: ["int64", "uint64", "float64"],
};

export interface DecodeAllRow {
  readonly type: RegisterValueType;
  readonly configured: boolean;
  readonly byOrder: Readonly<Record<ByteOrder, DecodedValue>>;
}

export function decodeAllRows(type: RegisterType, registers: readonly number[]): DecodeAllRow[] {
  const types: readonly RegisterValueType[] =
    type === "string" ? ["string"] : (TYPES_BY_WIDTH[registers.length] ?? []);
  return types.map((candidate) => ({
    type: candidate,
    configured: candidate === type,
    byOrder: decodeAllOrders(candidate, registers),
  }));
}

function show(value: DecodedValue): string {
  if (value.quality === "bad") {
    return `(${value.reason})`;
  }
  return typeof value.value === "string" ? JSON.stringify(value.value) : String(value.value);
}

/** The table as text, e.g. for a float32 at 100 whose device sends CDAB. */
export function formatDecodeAll(
  heading: string,
  type: RegisterType,
  configuredOrder: ByteOrder,
  registers: readonly number[],
): string[] {
  const hex = registers.map((r) => `0x${r.toString(16).padStart(4, "0")}`).join(" ");
  const lines = [heading, `raw registers: ${hex}  (decimal ${registers.join(" ")})`];
  const rows = decodeAllRows(type, registers);
  const cells = rows.map((row) => BYTE_ORDERS.map((order) => show(row.byOrder[order])));
  const typeWidth = Math.max(4, ...rows.map((row) => row.type.length + 2));
  const widths = BYTE_ORDERS.map((order, i) =>
    Math.max(order.length + 1, ...cells.map((row) => (row[i] ?? "").length)),
  );
  const pad = (text: string, width: number) => text.padEnd(width);
  lines.push(
    [
      pad("type", typeWidth),
      ...BYTE_ORDERS.map((order, i) => pad(order === configuredOrder ? `${order}*` : order, widths[i] ?? 0)),
    ]
      .join("  ")
      .trimEnd(),
  );
  rows.forEach((row, r) => {
    const name = row.configured ? `${row.type}*` : row.type;
    lines.push(
      [pad(name, typeWidth), ...(cells[r] ?? []).map((cell, i) => pad(cell, widths[i] ?? 0))]
        .join("  ")
        .trimEnd(),
    );
  });
  lines.push("* = as configured now; values before scale and offset");
  return lines;
}
