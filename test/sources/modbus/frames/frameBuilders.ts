/** Builds RTU and TCP reply frames for the framer tests (the device side of the wire). */
import { crc16Modbus } from "../../../../src/sources/modbus/frames/crc16.js";

export function withCrc(bytes: readonly number[]): Uint8Array {
  const crc = crc16Modbus(Uint8Array.from(bytes));
  return Uint8Array.from([...bytes, crc & 0xff, crc >>> 8]);
}

/** Unit, fc 03/04, byte count, registers big-endian, CRC. */
export function rtuRegisterReply(
  unitId: number,
  functionCode: number,
  registers: readonly number[],
): Uint8Array {
  return withCrc([
    unitId,
    functionCode,
    2 * registers.length,
    ...registers.flatMap((r) => [r >>> 8, r & 0xff]),
  ]);
}

export function rtuExceptionReply(unitId: number, functionCode: number, code: number): Uint8Array {
  return withCrc([unitId, functionCode | 0x80, code]);
}

export function tcpFrame(transactionId: number, unitId: number, pdu: readonly number[]): Uint8Array {
  const length = pdu.length + 1;
  return Uint8Array.from([
    transactionId >>> 8,
    transactionId & 0xff,
    0,
    0,
    length >>> 8,
    length & 0xff,
    unitId,
    ...pdu,
  ]);
}

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}
