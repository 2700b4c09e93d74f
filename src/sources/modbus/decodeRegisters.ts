/**
 * Registers to an unscaled value, for every register type but bool (issue #4). Byte and word
 * order are applied first (byteOrder.ts), then the big-endian value bytes are read with a
 * DataView, which decodes -0, denormals, NaN and the infinities exactly as IEEE 754 defines them.
 */
import { type ByteOrder, type RegisterType, registerCount } from "../../config/schema/tags.js";
import { valueBytes } from "./byteOrder.js";
import { bad, type DecodedValue, exactInteger, finiteOrBad, good } from "./decodeResult.js";
import { decodeRegisterString } from "./decodeString.js";

/** Types held in whole registers; bool is a bit and has its own path (decodeTag.ts). */
export type RegisterValueType = Exclude<RegisterType, "bool">;

/** Why these registers cannot hold a value of this type, or undefined when they can. */
export function registerProblem(
  type: RegisterValueType,
  registers: readonly number[],
  length?: number,
): string | undefined {
  const expected = registerCount(type, type === "string" ? (length ?? registers.length) : undefined);
  if (registers.length !== expected) {
    return `expected ${expected} register${expected === 1 ? "" : "s"} for ${type}, got ${registers.length}`;
  }
  const invalid = registers.find(
    (register) => !Number.isInteger(register) || register < 0 || register > 0xffff,
  );
  return invalid === undefined ? undefined : `register value ${invalid} is not a 16-bit word`;
}

/**
 * The value of `type` held in `registers` in `order`, before scale and offset: floats that are
 * NaN or infinite come back bad with reason "NaN" / "+Inf" / "-Inf"; 64-bit integers beyond
 * 2^53 come back as an exact bigint.
 */
export function decodeRegisters(
  type: RegisterValueType,
  registers: readonly number[],
  order: ByteOrder,
  length?: number,
): DecodedValue {
  const problem = registerProblem(type, registers, length);
  if (problem !== undefined) {
    return bad(problem);
  }
  if (type === "string") {
    return good(decodeRegisterString(registers, order));
  }
  const bytes = valueBytes(registers, order);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type) {
    case "int16":
      return good(view.getInt16(0));
    case "uint16":
      return good(view.getUint16(0));
    case "int32":
      return good(view.getInt32(0));
    case "uint32":
      return good(view.getUint32(0));
    case "int64":
      return good(exactInteger(view.getBigInt64(0)));
    case "uint64":
      return good(exactInteger(view.getBigUint64(0)));
    case "float32":
      return finiteOrBad(view.getFloat32(0));
    case "float64":
      return finiteOrBad(view.getFloat64(0));
  }
}
