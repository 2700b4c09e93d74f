/**
 * The in-flight window (issue #5: "publishes QoS 1 with a bounded in-flight window"): the
 * messages beyond the acked cursor, in seq order. A message is done when PUBACKed (or
 * dead-lettered); only the done prefix moves the cursor, so a message stuck behind the head
 * (refused, awaiting its dead-letter entry) holds the cursor, and the window counts every message
 * it holds, done or not: at most `limit` messages, whatever their state, so memory and the
 * duplicates one reconnect can cause stay bounded.
 */
import type { LedgerEntry } from "../ledger/ledgerEntry.js";

export type MessageState =
  /** Handed to the MQTT client, awaiting its PUBACK. */
  | "sent"
  /** Refused by the broker with a retryable code; goes again after the backoff. */
  | "retry"
  /** Being dead-lettered, or not yet sent. */
  | "settling"
  | "done";

export interface OutMessage {
  readonly first: number;
  readonly last: number;
  readonly entries: readonly LedgerEntry[];
  readonly topic: string;
  readonly packetBytes: number;
  state: MessageState;
  /** Monotonic ms of the last hand-over, for the PUBACK latency. */
  sentAt: number;
  attempts: number;
}

export function newMessage(
  entries: readonly LedgerEntry[],
  first: number,
  topic: string,
  packetBytes: number,
): OutMessage {
  return {
    first,
    last: first + Math.max(entries.length, 1) - 1,
    entries,
    topic,
    packetBytes,
    state: "settling",
    sentAt: 0,
    attempts: 0,
  };
}

/** A range retention removed before it was published: done at once (its gap record says so). */
export function removedRange(first: number, last: number): OutMessage {
  return { ...newMessage([], first, "", 0), last, state: "done" };
}

export class InflightWindow {
  readonly limit: number;
  readonly #messages: OutMessage[] = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  get size(): number {
    return this.#messages.length;
  }

  get full(): boolean {
    return this.#messages.length >= this.limit;
  }

  /** Messages awaiting a PUBACK. */
  get awaiting(): number {
    let count = 0;
    for (const message of this.#messages) {
      count += message.state === "sent" ? 1 : 0;
    }
    return count;
  }

  push(message: OutMessage): void {
    this.#messages.push(message);
  }

  /** Removes the done prefix; returns the last seq it covered, or undefined when the head is not done. */
  popDone(): number | undefined {
    let last: number | undefined;
    while (this.#messages[0]?.state === "done") {
      last = this.#messages.shift()?.last;
    }
    return last;
  }

  /** Messages the broker refused with a retryable code, in seq order. */
  refused(): OutMessage[] {
    return this.#messages.filter((message) => message.state === "retry");
  }
}
