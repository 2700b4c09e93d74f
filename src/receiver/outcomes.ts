/**
 * What the receiver's verification core says about one MQTT message (issue #7 item 2): records to
 * store, gaps and tampering to store as events, and rejections from one closed set of reasons, so
 * that every message ends in counted outcomes and nothing is dropped silently.
 */
import type { AnomalyBody } from "../analytics/alerts/anomalyBody.js";
import type { CheckpointBody } from "../ledger/checkpoint.js";
import type { LedgerKind } from "../ledger/ledgerEntry.js";

/** Why a message (or one entry of it) was not stored. */
export const REJECT_REASONS = [
  /** Not an envelope of this protocol version: bad JSON, fields, base64url, length, topic text. */
  "malformed",
  /** No key held for (gw, dev, kid) (docs/protocol.md §6 step 9). */
  "unknown-key",
  /** The tag does not verify on the topic it came on, nor on any sibling stream's topic. */
  "tampered",
  /** The topic does not fit the template, or disagrees with the header or the entry, or the payload opens only on another stream's topic (moved). */
  "topic-mismatch",
  /** The same envelope (same nonce, §5) was already received: a broker redelivery or a replay. */
  "replay-duplicate",
  /** The entries' seqs are not the header's seq, seq + 1, ... (§8.4 step 1, §11.2). */
  "seq-mismatch",
  /** The plaintext is not UTF-8 ledger entries, or a body is invalid for its kind (§8.1, §8.3). */
  "bad-entry",
  /** An entry's hash does not match its own text, or a batch's entries do not link (§8.2, §11.2). */
  "bad-chain",
  /** A checkpoint's MAC or its ofHash does not match (§8.5); a tamper event says which. */
  "bad-checkpoint",
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** A record's body, parsed per kind (docs/protocol.md §8.3); `text` keeps the exact bytes for storage. */
export type RecordBody =
  | { readonly kind: "sample"; readonly json: Readonly<Record<string, unknown>> }
  | { readonly kind: "anomaly"; readonly anomaly: AnomalyBody }
  | { readonly kind: "checkpoint"; readonly checkpoint: CheckpointBody }
  | { readonly kind: "gap"; readonly gap: GapBody }
  | { readonly kind: "event"; readonly json: Readonly<Record<string, unknown>> }
  | { readonly kind: "deadletter"; readonly json: Readonly<Record<string, unknown>> };

/** A gap entry's body: retention and database recovery name a seq range, a full buffer only a count. */
export interface GapBody {
  readonly reason: string;
  readonly fromSeq?: number;
  readonly toSeq?: number;
  readonly records?: number;
}

export interface AcceptedRecord {
  readonly type: "accepted";
  readonly gateway: string;
  readonly seq: number;
  readonly kind: LedgerKind;
  readonly device: string;
  /** The entry's own ts (wall-clock ms on the gateway, a label). */
  readonly ts: number;
  readonly clockSynced: boolean;
  /** The hash of the entry before (§8.1): the store keeps it so the chain auditor can check links later. */
  readonly prev: string;
  readonly hash: string;
  readonly topic: string;
  /** The topic's {site} level, when the template has one. */
  readonly site?: string;
  /** The envelope's nonce (base64url, as on the wire): a store tells a replay (same nonce) from a resend. */
  readonly nonce: string;
  readonly receivedAt: number;
  readonly body: RecordBody;
  /** The body's exact text, as hashed into the chain. */
  readonly bodyText: string;
}

export interface RejectedMessage {
  readonly type: "rejected";
  readonly reason: RejectReason;
  readonly message: string;
  readonly topic: string;
  readonly receivedAt: number;
  /** Known once the header parsed. */
  readonly gateway?: string;
  readonly seq?: number;
}

/** A record received again in a new envelope (the gateway resends what was in flight, §11.1). */
export interface DuplicateRecord {
  readonly type: "duplicate";
  readonly gateway: string;
  readonly seq: number;
}

/**
 * A missing seq range of one gateway: `open` when continuity breaks, `closed` when every seq of
 * it arrived, `lost` when the gateway's own gap entry names it lost (reason from its body) or the
 * receiver stopped waiting for it (reason "receiver-gave-up", memory bound).
 */
export interface GapEvent {
  readonly type: "gap";
  readonly gateway: string;
  readonly state: "open" | "closed" | "lost";
  readonly fromSeq: number;
  readonly toSeq: number;
  readonly reason?: string;
  readonly receivedAt: number;
}

export type TamperReason =
  /** An entry's prev is not the hash of the stored entry before it (or of the entry after it). */
  | "prev-mismatch"
  /** A seq already stored arrived again with another hash. */
  | "seq-conflict"
  /** A checkpoint's MAC is not the MAC of (ofSeq, ofHash) under its kid's checkpoint key. */
  | "checkpoint-mac"
  /** A checkpoint's ofHash is not the hash of entry ofSeq as received. */
  | "checkpoint-hash";

export interface TamperEvent {
  readonly type: "tamper";
  readonly gateway: string;
  readonly seq: number;
  readonly reason: TamperReason;
  readonly message: string;
  readonly receivedAt: number;
}

/**
 * A gateway's health snapshot (docs/protocol.md §1, "Health"), opened from its retained health
 * topic: not a record, never part of the chain; consumers keep the newest per gateway by (seq, ts).
 */
export interface HealthReport {
  readonly type: "health";
  readonly gateway: string;
  readonly site: string;
  /** The gateway's chain head seq when the snapshot was taken. */
  readonly seq: number;
  readonly ts: number;
  readonly health: Readonly<Record<string, unknown>>;
  readonly topic: string;
  readonly receivedAt: number;
}

export type ReceiverOutcome =
  | AcceptedRecord
  | RejectedMessage
  | DuplicateRecord
  | GapEvent
  | TamperEvent
  | HealthReport;
