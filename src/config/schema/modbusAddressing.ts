/**
 * Modbus addressing as technicians write it. The wire uses 0-based addresses per table; many device
 * manuals use "Modicon" numbers (40001 = holding register 0) where the leading digit names the table.
 * We accept the latter only with `addressing: modicon`, never by guessing (issue #4).
 */
import type { ModbusTable } from "./tags.js";

interface ModiconRange {
  readonly first: number;
  readonly last: number;
  readonly table: ModbusTable;
}

/** Numbers below 100000 are the 5-digit form; 100001 and up the 6-digit form. */
const MODICON_RANGES: readonly ModiconRange[] = [
  { first: 1, last: 9_999, table: "coil" },
  { first: 10_001, last: 19_999, table: "discrete" },
  { first: 30_001, last: 39_999, table: "input" },
  { first: 40_001, last: 49_999, table: "holding" },
  { first: 100_001, last: 165_536, table: "discrete" },
  { first: 300_001, last: 365_536, table: "input" },
  { first: 400_001, last: 465_536, table: "holding" },
];

export type ResolvedAddress = { table: ModbusTable; address: number } | { error: string };

export function resolveModbusAddress(
  addressing: "zero-based" | "modicon",
  table: ModbusTable | undefined,
  address: number,
): ResolvedAddress {
  if (addressing === "zero-based") {
    if (table === undefined) {
      return { error: "table is required with zero-based addressing: coil, discrete, holding or input" };
    }
    if (address > 65_535) {
      return {
        error: `address ${address} is beyond 65535; for a 40001-style number set the device's addressing: modicon`,
      };
    }
    return { table, address };
  }
  const range = MODICON_RANGES.find((r) => address >= r.first && address <= r.last);
  if (range === undefined) {
    return {
      error: `${address} is not a modicon address: use 1-9999 (coils), 10001-19999 (discrete inputs), 30001-39999 (input registers), 40001-49999 (holding registers), or the 6-digit forms 100001-165536, 300001-365536, 400001-465536`,
    };
  }
  if (table !== undefined && table !== range.table) {
    return { error: `modicon address ${address} is in the ${range.table} table, but table says ${table}` };
  }
  return { table: range.table, address: address - range.first };
}
