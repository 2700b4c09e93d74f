/**
 * What an append must satisfy, and how shed records are summed up into one gap entry (issue #5:
 * "bound every queue, count what is shed, never lose data silently").
 */
import type { Clock } from "../clock.js";
import type { Waiting } from "./commitBatch.js";
import { type EntryFields, LEDGER_KINDS, NO_DEVICE } from "./ledgerEntry.js";
import { LedgerShedError } from "./ledgerPorts.js";

const KINDS: ReadonlySet<string> = new Set(LEDGER_KINDS);

/**
 * Why fields cannot become an entry, or undefined. Checked at append time, so a bad record is
 * refused to its caller at once instead of failing its batch; at least canonicalEntry's rules,
 * plus a non-empty device (it is an MQTT topic level).
 */
export function invalidFields(fields: EntryFields): string | undefined {
  if (typeof fields.ts !== "number" || !Number.isFinite(fields.ts)) {
    return `ts must be a finite number, got ${String(fields.ts)}`;
  }
  if (typeof fields.clockSynced !== "boolean") {
    return "clockSynced must be a boolean";
  }
  if (!KINDS.has(fields.kind)) {
    return `unknown kind ${JSON.stringify(fields.kind)}`;
  }
  if (typeof fields.device !== "string" || fields.device === "") {
    return "device must be a non-empty string";
  }
  if (typeof fields.body !== "string" || !fields.body.startsWith("{") || !fields.body.endsWith("}")) {
    return "body must be a JSON object's text";
  }
  return undefined;
}

/** Records shed since the last gap entry: how many, and the span of their timestamps. */
export class ShedTally {
  records = 0;
  firstTs = Number.POSITIVE_INFINITY;
  lastTs = Number.NEGATIVE_INFINITY;

  add(ts: number): void {
    this.records++;
    this.firstTs = Math.min(this.firstTs, ts);
    this.lastTs = Math.max(this.lastTs, ts);
  }

  /** Takes in another tally (a failed batch's gap, given back). */
  merge(other: ShedTally): void {
    this.records += other.records;
    this.firstTs = Math.min(this.firstTs, other.firstTs);
    this.lastTs = Math.max(this.lastTs, other.lastTs);
  }

  /** The gap entry that says what was lost: {"reason":"buffer-full","records":N,"firstTs":..,"lastTs":..}. */
  gapFields(clock: Clock): EntryFields {
    return {
      ts: clock.wallNow(),
      clockSynced: clock.wallSynced(),
      kind: "gap",
      device: NO_DEVICE,
      body: `{"reason":"buffer-full","records":${this.records},"firstTs":${this.firstTs},"lastTs":${this.lastTs}}`,
    };
  }
}

/**
 * Sheds one waiting append (the queue is at its bound of `bufferRecords`): its append() rejects
 * with LedgerShedError and it is added to the tally that becomes the next batch's gap entry.
 */
export function shed(waiting: Waiting, tally: ShedTally | undefined, bufferRecords: number): ShedTally {
  const into = tally ?? new ShedTally();
  into.add(waiting.fields.ts);
  waiting.reject(
    new LedgerShedError(
      `ledger buffer full (${bufferRecords} records waiting): the oldest record was shed and is recorded as a gap`,
    ),
  );
  return into;
}
