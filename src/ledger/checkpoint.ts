/**
 * Keyed checkpoints (issue #5 item 4; DESIGN.md "Durability and integrity"; docs/protocol.md
 * §8.5). A checkpoint is an ordinary ledger entry of kind "checkpoint", device
 * NO_DEVICE, whose body states the seq and hash of an earlier entry and an HMAC over both:
 *
 *   body = {"ofSeq":"N","ofHash":"<64 hex>","kid":"k1","mac":"<64 hex>"}
 *   mac  = HMAC-SHA256(checkpoint key of kid, u64be(N) || the 32 bytes of ofHash)
 *
 * The chain makes every entry up to N depend on ofHash, and the MAC makes ofHash depend on a key
 * the gateway's disk does not need to hold in clear form beyond the key file, which upstream also
 * holds. Checkpoints are published on the checkpoints stream, so rewriting the whole local chain
 * consistently (every hash recomputed) still fails against what upstream received, and against
 * a verifier that holds the key (verifyChain with a key ring).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { KeyRing } from "../crypto/keys/index.js";
import { type EntryFields, NO_DEVICE } from "./ledgerEntry.js";

/** What checkpointing needs of a key ring: the active key id to sign with and the keys to verify. */
export type CheckpointKeys = Pick<KeyRing, "activeKeyId" | "checkpointKey">;

export interface CheckpointBody {
  /** The seq of the entry the checkpoint vouches for (earlier than the checkpoint itself). */
  readonly ofSeq: number;
  /** That entry's chain hash, 64 lowercase hex digits. */
  readonly ofHash: string;
  readonly kid: string;
  readonly mac: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const SEQ_TEXT = /^[1-9][0-9]{0,15}$/;
const KID_TEXT = /^k[1-9][0-9]*$/;
/** u64be(seq) || 32 hash bytes. */
export const CHECKPOINT_MAC_INPUT_BYTES = 40;

/** The MAC input: u64be(ofSeq) || the 32 bytes ofHash spells in hex. */
export function checkpointMacInput(ofSeq: number, ofHash: string): Uint8Array {
  if (!Number.isSafeInteger(ofSeq) || ofSeq < 1) {
    throw new RangeError(`a checkpoint's seq must be a positive safe integer, got ${ofSeq}`);
  }
  if (!HEX64.test(ofHash)) {
    throw new RangeError("a checkpoint's hash must be 64 lowercase hex digits");
  }
  const input = Buffer.alloc(CHECKPOINT_MAC_INPUT_BYTES);
  input.writeBigUInt64BE(BigInt(ofSeq), 0);
  input.write(ofHash, 8, "hex");
  return input;
}

/** HMAC-SHA256 over (ofSeq, ofHash) under a 32-byte checkpoint key, as 64 hex digits. */
export function checkpointMac(key: Uint8Array, ofSeq: number, ofHash: string): string {
  return createHmac("sha256", key).update(checkpointMacInput(ofSeq, ofHash)).digest("hex");
}

/** Whether `mac` (hex) is the MAC of (ofSeq, ofHash) under `key`; constant time in the MAC bytes. */
export function checkpointMacMatches(key: Uint8Array, body: CheckpointBody): boolean {
  const expected = Buffer.from(checkpointMac(key, body.ofSeq, body.ofHash), "hex");
  const stated = Buffer.from(body.mac, "hex");
  return stated.length === expected.length && timingSafeEqual(stated, expected);
}

/** The body text, fields in this order, no whitespace (it is hashed into the chain as it is). */
export function checkpointBodyText(body: CheckpointBody): string {
  return `{"ofSeq":"${body.ofSeq}","ofHash":"${body.ofHash}","kid":"${body.kid}","mac":"${body.mac}"}`;
}

/**
 * The fields of a new checkpoint entry over entry (ofSeq, ofHash), signed under the ring's active
 * key id. The key is derived for this call and wiped after it.
 */
export function checkpointFields(
  keys: CheckpointKeys,
  ofSeq: number,
  ofHash: string,
  ts: number,
  clockSynced: boolean,
): EntryFields {
  const kid = keys.activeKeyId();
  const key = keys.checkpointKey(kid);
  try {
    const mac = checkpointMac(key, ofSeq, ofHash);
    return {
      ts,
      clockSynced,
      kind: "checkpoint",
      device: NO_DEVICE,
      body: checkpointBodyText({ ofSeq, ofHash, kid, mac }),
    };
  } finally {
    key.fill(0);
  }
}

/** A checkpoint entry's body, or undefined when it is not one checkpointBodyText could have written. */
export function parseCheckpointBody(body: string): CheckpointBody | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return undefined;
  }
  const { ofSeq, ofHash, kid, mac } = json as Record<string, unknown>;
  if (
    typeof ofSeq !== "string" ||
    !SEQ_TEXT.test(ofSeq) ||
    typeof ofHash !== "string" ||
    !HEX64.test(ofHash) ||
    typeof kid !== "string" ||
    !KID_TEXT.test(kid) ||
    typeof mac !== "string" ||
    !HEX64.test(mac)
  ) {
    return undefined;
  }
  const parsed = { ofSeq: Number(ofSeq), ofHash, kid, mac };
  // Exactly the canonical text: no extra fields, no other spelling, so the body means one thing.
  return Number.isSafeInteger(parsed.ofSeq) && checkpointBodyText(parsed) === body ? parsed : undefined;
}
