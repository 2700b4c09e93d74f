/**
 * Byte and word order of multi-register values (issue #4, FAULTS 8.7 "word and byte order").
 *
 * A Modbus register is a 16-bit word sent high byte first. Devices disagree on how a wider value
 * is spread over consecutive registers, so the order is named by where each byte of the value
 * lands, A being the most significant byte of the value and the letters read in register order,
 * high byte of each register first:
 *
 * | order | name                         | 32-bit: reg[0] reg[1] | 64-bit: reg[0..3]   | 16-bit |
 * |-------|------------------------------|-----------------------|---------------------|--------|
 * | ABCD  | big-endian                   | AB CD                 | AB CD EF GH         | AB     |
 * | CDAB  | word swap (low word first)   | CD AB                 | GH EF CD AB         | AB     |
 * | BADC  | byte swap within each word   | BA DC                 | BA DC FE HG         | BA     |
 * | DCBA  | little-endian                | DC BA                 | HG FE DC BA         | BA     |
 *
 * The 64-bit column extends the names as Telegraf's modbus input does (ABCDEFGH, GHEFCDAB,
 * BADCFEHG, HGFEDCBA): CDAB reverses the 16-bit words, BADC swaps the bytes of each word, DCBA
 * reverses all bytes. The 32-bit column is libmodbus's modbus_get_float_{abcd,cdab,badc,dcba}
 * (its TEST FLOATS: 123456.0 = 0x47F12000 is [0x47F1, 0x2000] in ABCD, [0x2000, 0x47F1] in
 * CDAB, [0xF147, 0x0020] in BADC, [0x0020, 0xF147] in DCBA). For one register the same rules give
 * the 16-bit column: reversing one word changes nothing, swapping or reversing its bytes swaps them.
 *
 * Every one of these permutations is its own inverse, so one function both decodes (wire to
 * value bytes) and encodes (value bytes to wire).
 */
import type { ByteOrder } from "../../config/schema/tags.js";

/** Applies `order` to `bytes` (even length): wire order to big-endian value order, or back. */
export function reorderBytes(bytes: Uint8Array, order: ByteOrder): Uint8Array {
  const out = new Uint8Array(bytes.length);
  const words = bytes.length / 2;
  for (let word = 0; word < words; word++) {
    const high = bytes[2 * word] ?? 0;
    const low = bytes[2 * word + 1] ?? 0;
    switch (order) {
      case "ABCD":
        out[2 * word] = high;
        out[2 * word + 1] = low;
        break;
      case "CDAB": {
        const target = words - 1 - word;
        out[2 * target] = high;
        out[2 * target + 1] = low;
        break;
      }
      case "BADC":
        out[2 * word] = low;
        out[2 * word + 1] = high;
        break;
      case "DCBA": {
        const target = words - 1 - word;
        out[2 * target] = low;
        out[2 * target + 1] = high;
        break;
      }
    }
  }
  return out;
}

/** The registers' bytes as they were on the wire: each register high byte first. */
export function wireBytes(registers: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(registers.length * 2);
  registers.forEach((register, index) => {
    bytes[2 * index] = (register >>> 8) & 0xff;
    bytes[2 * index + 1] = register & 0xff;
  });
  return bytes;
}

/** Big-endian bytes of the value the registers hold in `order` (A first). */
export function valueBytes(registers: readonly number[], order: ByteOrder): Uint8Array {
  return reorderBytes(wireBytes(registers), order);
}

/** The registers a device using `order` sends for these big-endian value bytes (the inverse). */
export function registersFor(bigEndianValue: Uint8Array, order: ByteOrder): number[] {
  const wire = reorderBytes(bigEndianValue, order);
  const registers: number[] = [];
  for (let index = 0; index < wire.length; index += 2) {
    registers.push(((wire[index] ?? 0) << 8) | (wire[index + 1] ?? 0));
  }
  return registers;
}

/**
 * Bytes of a string held in registers. Characters follow register order whatever the order (a
 * string has no "most significant word"); the order only says which byte of each register comes
 * first: the high byte for ABCD and CDAB, the low byte for BADC and DCBA.
 */
export function stringBytes(registers: readonly number[], order: ByteOrder): Uint8Array {
  const lowFirst = order === "BADC" || order === "DCBA";
  const bytes = new Uint8Array(registers.length * 2);
  registers.forEach((register, index) => {
    const high = (register >>> 8) & 0xff;
    const low = register & 0xff;
    bytes[2 * index] = lowFirst ? low : high;
    bytes[2 * index + 1] = lowFirst ? high : low;
  });
  return bytes;
}
