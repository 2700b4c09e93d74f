/**
 * What the receiver remembers per gateway between messages (issue #7 item 2): the chain head
 * (every seq up to it is stored or known lost) and the links (seq, prev, hash) of stored entries
 * the chain check and dedup need. Behind an interface so that a PostgreSQL implementation can
 * load the heads at start and write each mark in the transaction that stores its record; the
 * in-memory one is bounded: links above the head (out of order) up to `maxAhead` per gateway,
 * links at or below it only the most recent `maxRecent` (older duplicates are recognised by seq alone).
 */

export interface ChainHead {
  /** Every seq from 1 to `seq` is stored or known lost; 0 before the first entry. */
  readonly seq: number;
  /** The hash of entry `seq`; undefined when it was lost (the next link cannot be checked). */
  readonly hash: string | undefined;
}

export interface StoredLink {
  readonly seq: number;
  readonly prev: string;
  readonly hash: string;
}

export interface ReceiverState {
  head(gateway: string): ChainHead;
  setHead(gateway: string, head: ChainHead): void;
  /** The link of a stored seq, when it is still remembered (always, above the head). */
  link(gateway: string, seq: number): StoredLink | undefined;
  markStored(gateway: string, link: StoredLink): void;
  /** How many stored seqs lie above the head (out of order), for the memory bound. */
  aheadCount(gateway: string): number;
  /** The highest stored seq above the head and below `seq`, if any. */
  aheadBelow(gateway: string, seq: number): number | undefined;
}

export const DEFAULT_MAX_RECENT = 4_096;

interface GatewayMarks {
  head: ChainHead;
  readonly ahead: Map<number, StoredLink>;
  /** Insertion-ordered, oldest evicted first. */
  readonly recent: Map<number, StoredLink>;
}

const START: ChainHead = { seq: 0, hash: undefined };

export class MemoryReceiverState implements ReceiverState {
  readonly #gateways = new Map<string, GatewayMarks>();
  readonly #maxRecent: number;

  constructor(options: { readonly maxRecent?: number } = {}) {
    this.#maxRecent = options.maxRecent ?? DEFAULT_MAX_RECENT;
  }

  head(gateway: string): ChainHead {
    return this.#gateways.get(gateway)?.head ?? START;
  }

  setHead(gateway: string, head: ChainHead): void {
    const marks = this.#marks(gateway);
    marks.head = head;
    for (const [seq, link] of marks.ahead) {
      if (seq <= head.seq) {
        marks.ahead.delete(seq);
        this.#remember(marks, link);
      }
    }
  }

  link(gateway: string, seq: number): StoredLink | undefined {
    const marks = this.#gateways.get(gateway);
    return marks?.ahead.get(seq) ?? marks?.recent.get(seq);
  }

  markStored(gateway: string, link: StoredLink): void {
    const marks = this.#marks(gateway);
    if (link.seq > marks.head.seq) {
      marks.ahead.set(link.seq, link);
    } else {
      this.#remember(marks, link);
    }
  }

  aheadCount(gateway: string): number {
    return this.#gateways.get(gateway)?.ahead.size ?? 0;
  }

  aheadBelow(gateway: string, seq: number): number | undefined {
    let best: number | undefined;
    for (const stored of this.#gateways.get(gateway)?.ahead.keys() ?? []) {
      if (stored < seq && (best === undefined || stored > best)) {
        best = stored;
      }
    }
    return best;
  }

  #marks(gateway: string): GatewayMarks {
    let marks = this.#gateways.get(gateway);
    if (marks === undefined) {
      marks = { head: START, ahead: new Map(), recent: new Map() };
      this.#gateways.set(gateway, marks);
    }
    return marks;
  }

  #remember(marks: GatewayMarks, link: StoredLink): void {
    marks.recent.delete(link.seq);
    marks.recent.set(link.seq, link);
    if (marks.recent.size > this.#maxRecent) {
      const oldest = marks.recent.keys().next();
      if (oldest.done !== true) {
        marks.recent.delete(oldest.value);
      }
    }
  }
}
