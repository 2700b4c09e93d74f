/**
 * The forwarder's drain at a clean stop (issue #7): with the broker connected, the forwarder keeps
 * publishing until every record the ledger has appended so far is acknowledged, or until its
 * budget runs out, whichever comes first. Nothing is lost without it (the ledger is the outbox);
 * it lets a stop for maintenance hand over what the gateway holds instead of leaving it for the
 * next start.
 *
 * "Appended so far" includes records not durable yet: the ledger stops after the forwarder
 * (reverse start order), so its group commit keeps writing them while the forwarder drains, and
 * each commit's onDurable lets the forwarder read and publish them. Records appended after the
 * drain began (the daemon's events while it stops) are not waited for. Not connected, or
 * disconnected meanwhile: the drain ends at once, as there is nothing to hand over to.
 */
import type { LedgerReader } from "../ledger/ledgerPorts.js";

export type DrainEnd = "acknowledged" | "budget" | "disconnected" | "not-connected";

export interface DrainOutcome {
  readonly end: DrainEnd;
  /** Records acknowledged (or dead-lettered) while the drain ran. */
  readonly drained: number;
  /** Records appended and not acknowledged when it ended: what the next start sends. */
  readonly left: number;
}

export interface DrainPorts {
  readonly reader: Pick<LedgerReader, "durableSeq" | "pendingRecords" | "onDurable">;
  /** The forwarder's acked cursor in memory (it may be ahead of the stored one). */
  readonly ackedSeq: () => number;
  readonly onAcked: (listener: () => void) => () => void;
  /** Whether the forwarder has a run on an open connection. */
  readonly connected: () => boolean;
}

export class StopDrain {
  readonly #ports: DrainPorts;
  #recheck: (() => void) | undefined;

  constructor(ports: DrainPorts) {
    this.#ports = ports;
  }

  /** The forwarder's connection went (or came): a running drain looks again now. */
  connectionChanged(): void {
    this.#recheck?.();
  }

  /** Waits at most `budgetMs` for everything appended so far to be acknowledged. */
  run(budgetMs: number): Promise<DrainOutcome> {
    const { reader } = this.#ports;
    const startAcked = this.#ports.ackedSeq();
    // The seq the last record appended so far takes: the pending ones follow durableSeq().
    const targetSeq = reader.durableSeq() + reader.pendingRecords();
    if (!this.#ports.connected()) {
      return Promise.resolve(this.#outcome("not-connected", startAcked));
    }
    return new Promise<DrainOutcome>((resolve) => {
      let finished = false;
      const finish = (end: DrainEnd) => {
        if (finished) {
          return;
        }
        finished = true;
        clearTimeout(timer);
        for (const unsubscribe of unsubscribes) {
          unsubscribe();
        }
        this.#recheck = undefined;
        resolve(this.#outcome(end, startAcked));
      };
      const check = () => {
        const end = this.#endOf(targetSeq);
        if (end !== undefined) {
          finish(end);
        }
      };
      const timer = setTimeout(() => finish("budget"), Math.max(0, budgetMs));
      const unsubscribes = [reader.onDurable(check), this.#ports.onAcked(check)];
      this.#recheck = check;
      check();
    });
  }

  #endOf(targetSeq: number): DrainEnd | undefined {
    if (!this.#ports.connected()) {
      return "disconnected";
    }
    const acked = this.#ports.ackedSeq();
    if (acked >= targetSeq) {
      return "acknowledged";
    }
    // Fewer entries came than were counted (a record shed, a failed last batch): done once
    // everything durable is acknowledged and nothing waits.
    const { reader } = this.#ports;
    return acked >= reader.durableSeq() && reader.pendingRecords() === 0 ? "acknowledged" : undefined;
  }

  #outcome(end: DrainEnd, startAcked: number): DrainOutcome {
    const { reader } = this.#ports;
    const acked = this.#ports.ackedSeq();
    return {
      end,
      drained: Math.max(0, acked - startAcked),
      left: Math.max(0, reader.durableSeq() + reader.pendingRecords() - acked),
    };
  }
}
