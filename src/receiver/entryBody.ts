/**
 * Parsing an entry's body per kind (issue #7 item 2; docs/protocol.md §8.3). Anomaly bodies go
 * through anomalyFromJson, as the protocol requires (a receiver MUST refuse what it refuses);
 * checkpoint bodies through parseCheckpointBody; gap bodies keep their seq range. Samples, events
 * and dead letters are checked for shape only: their exact text is stored as it came.
 */
import { AnomalyBodyError, anomalyFromJson } from "../analytics/alerts/anomalyBody.js";
import { parseCheckpointBody } from "../ledger/checkpoint.js";
import { type LedgerEntry, NO_DEVICE } from "../ledger/ledgerEntry.js";
import type { GapBody, RecordBody } from "./outcomes.js";

const SEQ_TEXT = /^[1-9][0-9]{0,15}$/;

/** The parsed body, or the problem that makes the entry a bad-entry. */
export function parseEntryBody(entry: LedgerEntry): RecordBody | string {
  const ownDevice = entry.kind === "sample" || entry.kind === "anomaly";
  if (ownDevice === (entry.device === NO_DEVICE)) {
    return `a ${entry.kind} entry cannot belong to device ${JSON.stringify(entry.device)} (§8.3)`;
  }
  switch (entry.kind) {
    case "anomaly":
      try {
        const anomaly = anomalyFromJson(entry.body);
        return anomaly.device === entry.device
          ? { kind: "anomaly", anomaly }
          : `the anomaly body names device ${anomaly.device}, the entry ${entry.device}`;
      } catch (error) {
        if (error instanceof AnomalyBodyError) {
          return `anomaly body refused: ${error.message}`;
        }
        throw error;
      }
    case "checkpoint": {
      const checkpoint = parseCheckpointBody(entry.body);
      if (checkpoint === undefined) {
        return "the checkpoint body is not the canonical {ofSeq, ofHash, kid, mac} (§8.5)";
      }
      return checkpoint.ofSeq < entry.seq
        ? { kind: "checkpoint", checkpoint }
        : `a checkpoint must vouch for an earlier entry (ofSeq ${checkpoint.ofSeq} at seq ${entry.seq})`;
    }
    case "gap": {
      const json = jsonObject(entry.body);
      const gap = json === undefined ? undefined : gapBody(json);
      return gap === undefined ? "the gap body has no reason or a bad seq range" : { kind: "gap", gap };
    }
    case "sample": {
      const json = jsonObject(entry.body);
      const values = json?.values;
      return json !== undefined && typeof values === "object" && values !== null && !Array.isArray(values)
        ? { kind: "sample", json }
        : "the sample body has no values object";
    }
    case "event":
    case "deadletter": {
      const json = jsonObject(entry.body);
      return json === undefined ? `the ${entry.kind} body is not a JSON object` : { kind: entry.kind, json };
    }
  }
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const json: unknown = JSON.parse(text);
    return typeof json === "object" && json !== null && !Array.isArray(json)
      ? (json as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** retention and corrupt-database name "fromSeq".."toSeq" (toSeq null: unknown); buffer-full a count. */
function gapBody(json: Record<string, unknown>): GapBody | undefined {
  const { reason, fromSeq, toSeq, records } = json;
  if (typeof reason !== "string") {
    return undefined;
  }
  const from = seqOf(fromSeq);
  const to = seqOf(toSeq);
  if (from === null || to === null || (from !== undefined && to !== undefined && to < from)) {
    return undefined;
  }
  return {
    reason,
    ...(from === undefined ? {} : { fromSeq: from }),
    ...(to === undefined ? {} : { toSeq: to }),
    ...(typeof records === "number" && Number.isSafeInteger(records) ? { records } : {}),
  };
}

/** A decimal seq string; undefined when absent or null (unknown), null when invalid. */
function seqOf(value: unknown): number | undefined | null {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== "string" || !SEQ_TEXT.test(value)) {
    return null;
  }
  const seq = Number(value);
  return Number.isSafeInteger(seq) ? seq : null;
}
