/**
 * Text held in registers (issue #4 type "string"), sanitised as FAULTS 8.7 asks: devices pad with
 * NULs or spaces, and some send Latin-1 or garbage where UTF-8 is expected (zigbee2mqtt strips
 * \u0000 from manufacturer names for the same reason).
 */
import type { ByteOrder } from "../../config/schema/tags.js";
import { stringBytes } from "./byteOrder.js";

const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

// C0 controls, DEL and C1 controls: never meaningful in a device name or serial number, and a
// NUL or escape in a published value breaks downstream tools. U+FFFD from invalid UTF-8 stays,
// so that a mangled string is visibly mangled rather than silently shortened.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * The string in `registers`: bytes taken per `order` (see stringBytes), cut at the first NUL,
 * decoded as UTF-8 with invalid sequences replaced by U+FFFD, control characters removed and
 * trailing whitespace trimmed. Cutting before decoding is safe: 0x00 is never part of a
 * multi-byte UTF-8 sequence.
 */
export function decodeRegisterString(registers: readonly number[], order: ByteOrder): string {
  const bytes = stringBytes(registers, order);
  const nul = bytes.indexOf(0);
  const text = utf8.decode(nul === -1 ? bytes : bytes.subarray(0, nul));
  return text.replace(CONTROL_CHARACTERS, "").trimEnd();
}
