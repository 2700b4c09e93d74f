/**
 * One tag's reading to its published value and quality (issue #4): the entry point the Modbus
 * source calls after each read, and `poll --decode-all` for commissioning.
 *
 * A failed read is not decoded: the source gives each of its tags `bad(reason)` from
 * decodeResult.ts with the request's reason ("timeout", "exception 02 (illegal data address)").
 */
import {
  BYTE_ORDERS,
  type ByteOrder,
  type ModbusTable,
  type RegisterType,
} from "../../config/schema/tags.js";
import { decodeRegisters, type RegisterValueType } from "./decodeRegisters.js";
import { bad, type DecodedValue, good } from "./decodeResult.js";
import { applyScaling, type Scaling } from "./decodeScale.js";

/** The fields of a normalised Modbus tag (ModbusTagConfig) that decoding needs. */
export interface DecodableTag extends Scaling {
  readonly table: ModbusTable;
  readonly type: RegisterType;
  readonly bit?: number | undefined;
  readonly length?: number | undefined;
  readonly order?: ByteOrder | undefined;
}

/** What one tag's share of a read holds: 16-bit registers, or coil/discrete bits. */
export type RawReading = readonly number[] | readonly boolean[];

function isBitTable(table: ModbusTable): boolean {
  return table === "coil" || table === "discrete";
}

function asBit(raw: RawReading): boolean | undefined {
  const [first] = raw;
  if (raw.length !== 1) {
    return undefined;
  }
  if (typeof first === "boolean") {
    return first;
  }
  return first === 0 || first === 1 ? first === 1 : undefined;
}

function asRegisters(raw: RawReading): readonly number[] | undefined {
  const registers: number[] = [];
  for (const entry of raw) {
    if (typeof entry !== "number") {
      return undefined;
    }
    registers.push(entry);
  }
  return registers;
}

function decodeBool(tag: DecodableTag, raw: RawReading): DecodedValue {
  if (isBitTable(tag.table)) {
    const bit = asBit(raw);
    return bit === undefined ? bad(`expected one ${tag.table} bit, got ${raw.length} values`) : good(bit);
  }
  const registers = asRegisters(raw);
  const [register] = registers ?? [];
  if (registers?.length !== 1 || register === undefined || register < 0 || register > 0xffff) {
    return bad("expected one 16-bit register for a bool");
  }
  if (tag.bit === undefined) {
    return bad("bool on a register needs bit"); // the config check rejects this; never guess bit 0
  }
  // Bit 0 is the least significant bit of the register's value, whatever the byte order.
  return good(((register >>> tag.bit) & 1) === 1);
}

/**
 * The published value of `tag` from its share of a read, in the tag's order or else the
 * device's: scale and offset applied (decodeScale.ts), NaN and ±Inf as quality bad with reason
 * "NaN" / "+Inf" / "-Inf", 64-bit integers beyond 2^53 as exact bigints.
 */
export function decodeTagValue(tag: DecodableTag, raw: RawReading, deviceOrder: ByteOrder): DecodedValue {
  if (tag.type === "bool") {
    return decodeBool(tag, raw);
  }
  if (isBitTable(tag.table)) {
    return bad(`${tag.type} cannot be read from the ${tag.table} table`);
  }
  const registers = asRegisters(raw);
  if (registers === undefined) {
    return bad(`expected registers for ${tag.type}, got bits`);
  }
  const decoded = decodeRegisters(tag.type, registers, tag.order ?? deviceOrder, tag.length);
  return applyScaling(decoded, tag.type, tag);
}

/**
 * The same registers decoded in every order, unscaled, for `poll --decode-all`: the person
 * commissioning a device picks the order whose value matches its display.
 */
export function decodeAllOrders(
  type: RegisterValueType,
  registers: readonly number[],
): Readonly<Record<ByteOrder, DecodedValue>> {
  const entries = BYTE_ORDERS.map((order) => [order, decodeRegisters(type, registers, order)] as const);
  return Object.fromEntries(entries) as Record<ByteOrder, DecodedValue>;
}
