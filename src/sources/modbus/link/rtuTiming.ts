/**
 * RTU line timing (Modbus over serial line v1.02 §2.5.1.1): frames are separated by at least
 * 3.5 character times of silence (t3.5); a character is 1 start bit, the data bits, 0 or 1
 * parity bit and the stop bits. Above 19200 baud the clause fixes t3.5 at 1.75 ms: at high rates
 * the character timers would cost receivers a heavy interrupt load (the clause's own reason).
 */
import type { SerialParity } from "../../link/serialConnector.js";

export interface RtuLineSettings {
  /** Line speed for t3.5; undefined (RTU over TCP, serial-server baud unknown): 1.75 ms. */
  readonly baudRate?: number | undefined;
  readonly dataBits?: 7 | 8;
  readonly parity?: SerialParity;
  readonly stopBits?: 1 | 2;
}

/** Above this rate t3.5 is the fixed 1.75 ms of serial line v1.02 §2.5.1.1. */
const FIXED_TIMING_ABOVE_BAUD = 19_200;
const FIXED_T35_MS = 1.75;

/** Bits per character on the wire: start, data, parity (if any), stop. */
export function bitsPerCharacter(line: RtuLineSettings): number {
  return 1 + (line.dataBits ?? 8) + ((line.parity ?? "even") === "none" ? 0 : 1) + (line.stopBits ?? 1);
}

/** t3.5 in milliseconds at the configured frame size (serial line v1.02 §2.5.1.1). */
export function t35Ms(line: RtuLineSettings): number {
  const baud = line.baudRate;
  if (baud === undefined || baud > FIXED_TIMING_ABOVE_BAUD) {
    return FIXED_T35_MS;
  }
  return (3.5 * bitsPerCharacter(line) * 1000) / baud;
}

/** "configured 19200 baud 8E1" for messages; RTU over TCP without a baud: the serial server's. */
export function describeLine(line: RtuLineSettings): string {
  if (line.baudRate === undefined) {
    return "set on the serial server";
  }
  const parity = (line.parity ?? "even").charAt(0).toUpperCase();
  return `configured ${line.baudRate} baud ${line.dataBits ?? 8}${parity}${line.stopBits ?? 1}`;
}
