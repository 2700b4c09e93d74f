/**
 * CRC-16/MODBUS (Modbus over serial line v1.02 §2.5.1.2 and appendix B): polynomial 0xA001
 * (0x8005 reflected), initial value 0xFFFF, no final xor. On the wire the CRC goes low byte
 * first, so a frame is valid when its last two bytes are crc & 0xFF then crc >> 8.
 * Table driven because the RTU framer checks candidate frames at many offsets of noisy input.
 */

const CRC_TABLE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
    }
    table[byte] = crc;
  }
  return table;
})();

/** CRC of bytes[start, end); defaults to the whole array. */
export function crc16Modbus(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) {
    crc = (crc >>> 8) ^ (CRC_TABLE[(crc ^ (bytes[i] ?? 0)) & 0xff] ?? 0);
  }
  return crc;
}

/** True when frame[start, end) ends with the CRC of the bytes before it, low byte first. */
export function hasValidCrc(frame: Uint8Array, start = 0, end = frame.length): boolean {
  if (end - start < 3) {
    return false;
  }
  const crc = crc16Modbus(frame, start, end - 2);
  return frame[end - 2] === (crc & 0xff) && frame[end - 1] === crc >>> 8;
}
