/**
 * The store-and-forward metrics (issue #5 item 7): backlog records and bytes, publish rate,
 * PUBACK latency, records shed. Besides the status endpoint's /metrics (when it is on), they go
 * to systemd's STATUS= line (backlog, link state) every few seconds and to the journal as one
 * `metrics` line per minute, so a technician sees with `systemctl status` whether the outbox
 * drains and `journalctl` keeps the history.
 */
import type { Ledger } from "../ledger/ledger.js";
import type { Logger } from "../observability/logger.js";
import type { Forwarder } from "../uplink/forwarder.js";
import type { Component } from "./component.js";

export const STATUS_EVERY_MS = 5_000;
export const LOG_EVERY_MS = 60_000;

export interface PipelineMetricsDeps {
  readonly ledger: Ledger;
  readonly forwarder?: Forwarder | undefined;
  readonly logger: Logger;
  readonly setStatus: (fragment: string) => void;
}

export class PipelineMetrics implements Component {
  readonly name = "pipeline-metrics";
  readonly #deps: PipelineMetricsDeps;
  #timer: NodeJS.Timeout | undefined;
  #ticks = 0;
  #busy = false;

  constructor(deps: PipelineMetricsDeps) {
    this.#deps = deps;
  }

  async start(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#timer = setInterval(() => void this.#tick(), STATUS_EVERY_MS);
    this.#timer.unref();
    await this.#tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    // The last figures at stop: what was left in the outbox.
    await this.#tick(true);
  }

  /** The metrics as one JSON-able object. */
  async snapshot(): Promise<Record<string, unknown>> {
    const ledger = await this.#deps.ledger.stats();
    const uplink = this.#deps.forwarder?.stats();
    return {
      health: this.#deps.ledger.health(),
      ledger: {
        records: ledger.records,
        lastSeq: ledger.lastSeq,
        ackedSeq: ledger.ackedSeq,
        backlogRecords: ledger.backlogRecords,
        approxBytes: ledger.approxBytes,
        oldestUnackedTs: ledger.oldestUnackedTs,
        appended: ledger.appended,
        pending: ledger.pending,
        shed: ledger.shed,
        commitFailures: ledger.commitFailures,
        retentionLostUnacked: ledger.retentionLostUnacked,
      },
      ...(uplink === undefined ? {} : { uplink }),
    };
  }

  async #tick(forceLog = false): Promise<void> {
    if (this.#busy) {
      return;
    }
    this.#busy = true;
    try {
      const health = this.#deps.ledger.health();
      if (health.state !== "ok") {
        // The disk is failing: no stats to read, and this is what the technician must see.
        this.#deps.setStatus(`ledger DEGRADED (${health.buffered} buffered, ${health.shed} shed)`);
        return;
      }
      const snapshot = await this.#deps.ledger.stats();
      const uplink = this.#deps.forwarder?.stats();
      const link = uplink === undefined ? "uplink off" : uplink.connected ? "broker up" : "broker down";
      this.#deps.setStatus(`backlog ${snapshot.backlogRecords} (${link})`);
      this.#ticks++;
      if (forceLog || this.#ticks % Math.round(LOG_EVERY_MS / STATUS_EVERY_MS) === 1) {
        this.#deps.logger.info({ metrics: await this.snapshot() }, "metrics");
      }
    } catch (error) {
      // A closing or degraded ledger: the ledger itself reports why; metrics just skip a beat.
      this.#deps.logger.debug({ err: error }, "metrics skipped");
    } finally {
      this.#busy = false;
    }
  }
}
