/**
 * The ids that go into key files and into the HKDF info (docs/protocol.md, issue #3): key ids,
 * device ids and gateway ids. Validated here so that an id that could blur the info string (a
 * 0x00, say) never reaches the derivation.
 */
import { quoteForMessage } from "./errors.js";

/** Key ids are "k" and a positive integer; rotation adds k(max+1). */
const KEY_ID = /^k[1-9][0-9]*$/;
/** Device ids, including the reserved "_gateway" (GATEWAY_KEY_DEVICE). */
const DEVICE_ID = /^[A-Za-z0-9_.-]{1,64}$/;
/** The config's NAME_PATTERN (src/config/schema/primitives.ts), repeated because crypto/ imports nothing of ours. */
const GATEWAY_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The number of a key id ("k12" -> 12), or undefined when the text is not a key id. */
export function keyIdNumber(keyId: string): number | undefined {
  if (!KEY_ID.test(keyId)) {
    return undefined;
  }
  const n = Number(keyId.slice(1));
  return Number.isSafeInteger(n) ? n : undefined;
}

export function keyIdProblem(keyId: string): string | undefined {
  return keyIdNumber(keyId) === undefined
    ? `${quoteForMessage(keyId)} is not a key id (expected "k" and a positive integer, such as "k1")`
    : undefined;
}

export function deviceIdProblem(deviceId: string): string | undefined {
  return DEVICE_ID.test(deviceId)
    ? undefined
    : `${quoteForMessage(deviceId)} is not a device id (1 to 64 of A-Z a-z 0-9 _ . -)`;
}

export function gatewayIdProblem(gatewayId: string): string | undefined {
  return GATEWAY_ID.test(gatewayId)
    ? undefined
    : `${quoteForMessage(gatewayId)} is not a gateway id (a letter or digit, then up to 63 of A-Z a-z 0-9 _ . -)`;
}
