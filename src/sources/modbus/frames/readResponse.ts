/**
 * Checks a response PDU against the read it answers (issue #4, FAULTS 8.3 "wrong unit id, wrong
 * fc, byte count != 2 x quantity: rejected as an invalid response"). Pure and total: any bytes
 * give an outcome, never an exception thrown.
 */
import { expectedByteCount, type ReadRequest, readsBits } from "./readRequest.js";

/** Exception codes, Modbus Application Protocol v1.1b3 §7. */
export const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  1: "ILLEGAL FUNCTION",
  2: "ILLEGAL DATA ADDRESS",
  3: "ILLEGAL DATA VALUE",
  4: "SERVER DEVICE FAILURE",
  5: "ACKNOWLEDGE",
  6: "SERVER DEVICE BUSY",
  8: "MEMORY PARITY ERROR",
  10: "GATEWAY PATH UNAVAILABLE",
  11: "GATEWAY TARGET DEVICE FAILED TO RESPOND",
};

export function exceptionName(code: number): string {
  return EXCEPTION_NAMES[code] ?? `UNKNOWN EXCEPTION 0x${code.toString(16).padStart(2, "0")}`;
}

export type ReadOutcome =
  | { readonly kind: "ok"; readonly registers: number[] }
  | { readonly kind: "ok"; readonly bits: boolean[] }
  | { readonly kind: "exception"; readonly code: number; readonly name: string }
  | { readonly kind: "invalid"; readonly reason: string };

const hex = (value: number): string => `0x${value.toString(16).padStart(2, "0")}`;

/**
 * Decodes `pdu` (function code onward, no unit id, CRC or MBAP) received from `unitId` as the
 * answer to `request`. An exception response is fc | 0x80 followed by one code (§7); a normal
 * one is fc, byte count, data (§6.1-6.4).
 */
export function decodeReadResponse(request: ReadRequest, unitId: number, pdu: Uint8Array): ReadOutcome {
  if (unitId !== request.unitId) {
    return { kind: "invalid", reason: `unit id ${unitId}, expected ${request.unitId}` };
  }
  const functionCode = pdu[0];
  if (functionCode === undefined) {
    return { kind: "invalid", reason: "empty PDU" };
  }
  if (functionCode === (request.functionCode | 0x80)) {
    const code = pdu[1];
    if (code === undefined || pdu.length !== 2) {
      return { kind: "invalid", reason: `exception PDU of ${pdu.length} bytes, expected 2` };
    }
    return { kind: "exception", code, name: exceptionName(code) };
  }
  if (functionCode !== request.functionCode) {
    return {
      kind: "invalid",
      reason: `function code ${hex(functionCode)}, expected ${hex(request.functionCode)}`,
    };
  }
  const byteCount = pdu[1];
  const expected = expectedByteCount(request);
  if (byteCount !== expected) {
    return { kind: "invalid", reason: `byte count ${String(byteCount)}, expected ${expected}` };
  }
  if (pdu.length !== 2 + expected) {
    return { kind: "invalid", reason: `PDU of ${pdu.length} bytes, expected ${2 + expected}` };
  }
  if (readsBits(request.functionCode)) {
    // §6.1/§6.2: the first bit is the LSB of the first data byte; the padding bits of the last
    // byte should be zero but are ignored, since some devices leave them set.
    const bits: boolean[] = [];
    for (let i = 0; i < request.quantity; i++) {
      bits.push((((pdu[2 + (i >>> 3)] ?? 0) >>> (i & 7)) & 1) === 1);
    }
    return { kind: "ok", bits };
  }
  const registers: number[] = [];
  for (let i = 0; i < request.quantity; i++) {
    registers.push(((pdu[2 + 2 * i] ?? 0) << 8) | (pdu[3 + 2 * i] ?? 0));
  }
  return { kind: "ok", registers };
}
