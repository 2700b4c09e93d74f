/**
 * Read requests and their encoding (issue #4, FAULTS 8.3). Read-only toward PLCs: the only
 * function codes this module can put on the wire are 01 Read Coils, 02 Read Discrete Inputs,
 * 03 Read Holding Registers and 04 Read Input Registers (Modbus Application Protocol v1.1b3
 * §6.1-6.4). Every encoder validates at run time as well, so a value smuggled past the type
 * (a cast, a config bug) cannot become a write request.
 */
import { crc16Modbus } from "./crc16.js";

export const READ_FUNCTION_CODES = [1, 2, 3, 4] as const;
export type ReadFunctionCode = (typeof READ_FUNCTION_CODES)[number];
export type ModbusTransport = "rtu" | "tcp";

export interface ReadRequest {
  readonly unitId: number;
  readonly functionCode: ReadFunctionCode;
  /** Protocol (zero-based) address of the first coil, input or register. */
  readonly address: number;
  /** Number of bits (FC 01/02) or registers (FC 03/04). */
  readonly quantity: number;
}

/** §6.1/§6.2: 1..2000 bits per read; §6.3/§6.4: 1..125 registers per read. */
export const MAX_BITS_PER_READ = 2000;
export const MAX_REGISTERS_PER_READ = 125;

export function isReadFunctionCode(value: unknown): value is ReadFunctionCode {
  return value === 1 || value === 2 || value === 3 || value === 4;
}

/** FC 01 and 02 read bits; 03 and 04 read 16-bit registers. */
export function readsBits(functionCode: ReadFunctionCode): boolean {
  return functionCode === 1 || functionCode === 2;
}

/** Data bytes a correct response carries: ceil(quantity / 8) for bits, 2 x quantity for registers. */
export function expectedByteCount(request: ReadRequest): number {
  return readsBits(request.functionCode) ? Math.ceil(request.quantity / 8) : 2 * request.quantity;
}

function isIntegerIn(value: unknown, min: number, max: number): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

/**
 * Reasons the request cannot be sent; empty when it is valid. RTU unit ids are 1..247: 0 is the
 * broadcast address, which no server answers (serial line v1.02 §2.2), so a broadcast read
 * could only time out. TCP unit ids are 0..255 (TCP/IP v1.0b §4.4.2: 0 and 255 address the
 * device itself).
 */
export function readRequestProblems(request: ReadRequest, transport: ModbusTransport): string[] {
  const problems: string[] = [];
  if (!isReadFunctionCode(request.functionCode)) {
    problems.push(`function code ${String(request.functionCode)} is not a read (only 1, 2, 3, 4)`);
    return problems;
  }
  const [minUnit, maxUnit] = transport === "rtu" ? [1, 247] : [0, 255];
  if (!isIntegerIn(request.unitId, minUnit, maxUnit)) {
    problems.push(`unit id ${String(request.unitId)} outside ${minUnit}..${maxUnit} for ${transport}`);
  }
  if (!isIntegerIn(request.address, 0, 0xffff)) {
    problems.push(`address ${String(request.address)} outside 0..65535`);
  }
  const maxQuantity = readsBits(request.functionCode) ? MAX_BITS_PER_READ : MAX_REGISTERS_PER_READ;
  if (!isIntegerIn(request.quantity, 1, maxQuantity)) {
    problems.push(`quantity ${String(request.quantity)} outside 1..${maxQuantity}`);
  } else if (isIntegerIn(request.address, 0, 0xffff) && request.address + request.quantity > 0x10000) {
    problems.push(`address ${request.address} + quantity ${request.quantity} runs past 65535`);
  }
  return problems;
}

function assertValid(request: ReadRequest, transport: ModbusTransport): void {
  const problems = readRequestProblems(request, transport);
  if (problems.length > 0) {
    throw new RangeError(`invalid Modbus read request: ${problems.join("; ")}`);
  }
}

/** §6.1-6.4 request PDU: function code, starting address (big-endian), quantity (big-endian). */
function writeReadPdu(target: Uint8Array, offset: number, request: ReadRequest): void {
  target[offset] = request.functionCode;
  target[offset + 1] = request.address >>> 8;
  target[offset + 2] = request.address & 0xff;
  target[offset + 3] = request.quantity >>> 8;
  target[offset + 4] = request.quantity & 0xff;
}

/** RTU ADU (serial line v1.02 §2.5.1): unit, PDU, CRC low byte first. Always 8 bytes. */
export function encodeRtuRequest(request: ReadRequest): Uint8Array {
  assertValid(request, "rtu");
  const adu = new Uint8Array(8);
  adu[0] = request.unitId;
  writeReadPdu(adu, 1, request);
  const crc = crc16Modbus(adu, 0, 6);
  adu[6] = crc & 0xff;
  adu[7] = crc >>> 8;
  return adu;
}

/**
 * TCP ADU (TCP/IP v1.0b §3.1.3): MBAP header (transaction id, protocol id 0, length = unit
 * byte + PDU = 6, unit id) then the PDU. Always 12 bytes.
 */
export function encodeTcpRequest(request: ReadRequest, transactionId: number): Uint8Array {
  assertValid(request, "tcp");
  if (!isIntegerIn(transactionId, 0, 0xffff)) {
    throw new RangeError(`transaction id ${String(transactionId)} outside 0..65535`);
  }
  const adu = new Uint8Array(12);
  adu[0] = transactionId >>> 8;
  adu[1] = transactionId & 0xff;
  // adu[2..3] protocol id 0 (Modbus), already zero.
  adu[5] = 6;
  adu[6] = request.unitId;
  writeReadPdu(adu, 7, request);
  return adu;
}
