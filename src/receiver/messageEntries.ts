/**
 * The ledger entries inside one opened message (issue #7 item 2; docs/protocol.md §8.4, §11.2):
 * the plaintext is one entry text or several joined by LF; their seqs must run from the header's
 * seq without a gap, each entry's hash must match its own text, each prev must be the hash of the
 * entry before it in the batch, and each entry must belong to the envelope's device and the
 * topic's stream. A message is one authenticated unit, so one bad entry rejects all of it.
 */
import type { EnvelopeHeader } from "../crypto/envelope/index.js";
import { chainHash, type LedgerEntry, parseEntryText, splitEntryText } from "../ledger/ledgerEntry.js";
import { parseEntryBody } from "./entryBody.js";
import type { RecordBody, RejectReason } from "./outcomes.js";
import { streamFits, type TopicLevels } from "./topicPattern.js";

export interface CheckedEntry {
  readonly entry: LedgerEntry;
  readonly body: RecordBody;
}

export type EntriesResult =
  | { readonly ok: true; readonly entries: readonly CheckedEntry[] }
  | { readonly ok: false; readonly reason: RejectReason; readonly message: string };

const UTF8 = new TextDecoder("utf-8", { fatal: true });

export function messageEntries(
  header: EnvelopeHeader,
  levels: TopicLevels,
  plaintext: Uint8Array,
): EntriesResult {
  let text: string;
  try {
    text = UTF8.decode(plaintext);
  } catch {
    return { ok: false, reason: "bad-entry", message: "the plaintext is not UTF-8" };
  }
  const entries = splitEntries(text);
  if (entries === undefined) {
    return { ok: false, reason: "bad-entry", message: "the plaintext is not a ledger entry (§8.1)" };
  }
  const checked: CheckedEntry[] = [];
  let previous: LedgerEntry | undefined;
  for (const entry of entries) {
    const expectedSeq = previous === undefined ? header.seq : BigInt(previous.seq) + 1n;
    if (BigInt(entry.seq) !== expectedSeq) {
      return {
        ok: false,
        reason: "seq-mismatch",
        message: `entry seq ${entry.seq} where ${expectedSeq} was due (header seq ${header.seq})`,
      };
    }
    if (entry.device !== header.device || !streamFits(entry.kind, levels.stream)) {
      return {
        ok: false,
        reason: "topic-mismatch",
        message: `a ${entry.kind} entry of ${entry.device} in an envelope of dev ${header.device} on the ${levels.stream} stream`,
      };
    }
    const split = splitEntryText(entry.text);
    if (split === undefined || chainHash(entry.prev, split.canonical) !== entry.hash) {
      return { ok: false, reason: "bad-chain", message: `entry ${entry.seq}'s hash does not match its text` };
    }
    if (previous !== undefined && entry.prev !== previous.hash) {
      return {
        ok: false,
        reason: "bad-chain",
        message: `entry ${entry.seq}'s prev is not entry ${previous.seq}'s hash`,
      };
    }
    const body = parseEntryBody(entry);
    if (typeof body === "string") {
      return { ok: false, reason: "bad-entry", message: `entry ${entry.seq}: ${body}` };
    }
    checked.push({ entry, body });
    previous = entry;
  }
  return { ok: true, entries: checked };
}

/** §11.2: split at LF; if a part does not parse, the whole plaintext is one entry. */
function splitEntries(text: string): LedgerEntry[] | undefined {
  const parts = text.split("\n");
  if (parts.length > 1) {
    const entries = parts.map(parseEntryText);
    if (entries.every((entry) => entry !== undefined)) {
      return entries;
    }
  }
  const single = parseEntryText(text);
  return single === undefined ? undefined : [single];
}
