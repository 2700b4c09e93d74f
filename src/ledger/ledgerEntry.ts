/**
 * One ledger entry: what is appended, chained, stored and published as the envelope's plaintext
 * (DESIGN.md "Plaintext: the log entry itself, with its sequence number, previous hash and hash").
 *
 * Text form (UTF-8 JSON, fields in this order, no whitespace):
 *   {"seq":"1234","ts":1795320853847,"clockSynced":true,"kind":"sample","device":"press-2",
 *    "body":{...},"prev":"<64 hex>","hash":"<64 hex>"}
 * - seq: decimal string (an unsigned 64-bit counter on the wire; JSON numbers are doubles).
 * - body: the record as its serializer writes it (sampleJson.ts for samples: bigint values as
 *   decimal strings with valueKind); kept byte for byte, never re-serialised.
 * - canonical(entry) is the text up to and excluding `,"hash":…` with the closing brace, i.e. the
 *   entry without its own hash; hash = SHA-256(prev bytes (32) || UTF-8 canonical). So a verifier
 *   (the ledger's, the receiver's) needs no JSON canonicalisation: it cuts the last field off.
 * - The first entry's prev is 64 zeros (GENESIS_PREV); a new chain segment after a recovery
 *   starts from the last good head instead, and says so in its first entry (issue #5).
 *
 * SHA-256 is node:crypto's (native) rather than @noble/hashes: verify must reach 300,000
 * entries/s on a 2-core gateway, and the native hash is several times faster per record.
 */
import { createHash, hash as oneShotHash } from "node:crypto";

export const LEDGER_KINDS = ["sample", "anomaly", "event", "checkpoint", "gap", "deadletter"] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

/** The MQTT {device} level and envelope `dev` of records that belong to no device (docs/protocol.md §1). */
export const NO_DEVICE = "_gateway";
export const GENESIS_PREV = "0".repeat(64);
const HASH_FIELD = ',"hash":"';
const HEX64 = /^[0-9a-f]{64}$/;

/** What an appender supplies; the ledger adds seq, prev and hash. */
export interface EntryFields {
  readonly ts: number;
  readonly clockSynced: boolean;
  readonly kind: LedgerKind;
  /** Device name, or NO_DEVICE. */
  readonly device: string;
  /** The record as JSON text (an object), from its serializer. */
  readonly body: string;
}

export interface LedgerEntry extends EntryFields {
  readonly seq: number;
  readonly prev: string;
  readonly hash: string;
  /** The whole entry as stored and published. */
  readonly text: string;
}

/** The canonical text (no hash) of an entry. Throws on fields that would break the format. */
export function canonicalEntry(seq: number, fields: EntryFields, prev: string): string {
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new RangeError(`ledger seq must be a positive safe integer, got ${seq}`);
  }
  if (!Number.isFinite(fields.ts)) {
    throw new RangeError(`ledger ts must be finite, got ${fields.ts}`);
  }
  if (!(LEDGER_KINDS as readonly string[]).includes(fields.kind)) {
    throw new RangeError(`unknown ledger kind ${JSON.stringify(fields.kind)}`);
  }
  if (!fields.body.startsWith("{") || !fields.body.endsWith("}")) {
    throw new RangeError("ledger body must be a JSON object's text");
  }
  if (!HEX64.test(prev)) {
    throw new RangeError("ledger prev must be 64 lowercase hex digits");
  }
  return `{"seq":"${seq}","ts":${fields.ts},"clockSynced":${fields.clockSynced},"kind":"${fields.kind}","device":${JSON.stringify(fields.device)},"body":${fields.body},"prev":"${prev}"}`;
}

/** prev and canonical are written into this one reused buffer and hashed in one call. */
const HASH_INPUT = Buffer.allocUnsafe(64 * 1024);

export function chainHash(prev: string, canonical: string): string {
  // One-shot hash() of a reused buffer instead of a Hash object per entry: about a third less
  // time and no native object per entry for the GC (bench:ledger, #5). UTF-8 takes at most
  // 3 bytes per UTF-16 unit, so a canonical that might not fit takes the general path.
  // A prev that is not 64 hex digits writes fewer bytes; it too takes the general path.
  if (32 + canonical.length * 3 > HASH_INPUT.length || HASH_INPUT.write(prev, 0, 32, "hex") !== 32) {
    return createHash("sha256").update(Buffer.from(prev, "hex")).update(canonical, "utf8").digest("hex");
  }
  const length = 32 + HASH_INPUT.write(canonical, 32, "utf8");
  return oneShotHash("sha256", HASH_INPUT.subarray(0, length), "hex");
}

/** Seals the fields into the next entry of the chain whose head hash is `prev`. */
export function makeEntry(seq: number, fields: EntryFields, prev: string): LedgerEntry {
  const canonical = canonicalEntry(seq, fields, prev);
  const hash = chainHash(prev, canonical);
  // Fields named one by one: V8's object spread here cost as much as the hash (bench:ledger, #5).
  return {
    ts: fields.ts,
    clockSynced: fields.clockSynced,
    kind: fields.kind,
    device: fields.device,
    body: fields.body,
    seq,
    prev,
    hash,
    text: `${canonical.slice(0, -1)}${HASH_FIELD}${hash}"}`,
  };
}

/** The entry's own text split into its canonical part and its stated hash; undefined if malformed. */
export function splitEntryText(text: string): { canonical: string; hash: string } | undefined {
  const at = text.lastIndexOf(HASH_FIELD);
  if (at < 0 || !text.endsWith('"}') || text.length !== at + HASH_FIELD.length + 64 + 2) {
    return undefined;
  }
  const hash = text.slice(at + HASH_FIELD.length, -2);
  return HEX64.test(hash) ? { canonical: `${text.slice(0, at)}}`, hash } : undefined;
}

const ENTRY_HEAD =
  /^\{"seq":"([1-9][0-9]{0,15})","ts":(-?[0-9.eE+-]+),"clockSynced":(true|false),"kind":"([a-z]+)","device":("(?:[^"\\]|\\.)*"),"body":/;
const ENTRY_TAIL = /,"prev":"([0-9a-f]{64})","hash":"([0-9a-f]{64})"\}$/;

/**
 * Parses a stored or received entry text back into its fields without re-serialising anything:
 * the body is the exact slice between the fixed head and tail. Returns undefined, never throws,
 * for text that is not an entry (it may come off a disk or a wire). Does not check the hash:
 * that is chainHash's job, against the previous entry.
 */
export function parseEntryText(text: string): LedgerEntry | undefined {
  const head = ENTRY_HEAD.exec(text);
  const tail = ENTRY_TAIL.exec(text);
  if (head === null || tail === null || tail.index < head[0].length) {
    return undefined;
  }
  const [, seqText = "", tsText = "", synced, kind = "", deviceJson = ""] = head;
  const seq = Number(seqText);
  const ts = Number(tsText);
  const body = text.slice(head[0].length, tail.index);
  if (
    !Number.isSafeInteger(seq) ||
    !Number.isFinite(ts) ||
    !(LEDGER_KINDS as readonly string[]).includes(kind)
  ) {
    return undefined;
  }
  if (!body.startsWith("{") || !body.endsWith("}")) {
    return undefined;
  }
  let device: unknown;
  try {
    device = JSON.parse(deviceJson);
  } catch {
    return undefined;
  }
  if (typeof device !== "string") {
    return undefined;
  }
  return {
    seq,
    ts,
    clockSynced: synced === "true",
    kind: kind as LedgerKind,
    device,
    body,
    prev: tail[1] ?? "",
    hash: tail[2] ?? "",
    text,
  };
}

/** Which MQTT stream an entry kind goes out on (docs/protocol.md §1). */
export function streamOf(kind: LedgerKind): "data" | "alerts" | "events" | "checkpoints" {
  switch (kind) {
    case "sample":
      return "data";
    case "anomaly":
      return "alerts";
    case "checkpoint":
      return "checkpoints";
    case "event":
    case "gap":
    case "deadletter":
      return "events";
  }
}
