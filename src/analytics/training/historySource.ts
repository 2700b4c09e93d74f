/**
 * Where training history comes from (issue #6 item 5): the ledger's stored samples of the device
 * (the daemon's retrain, `train -c FILE`) or a CSV export (`train --from-csv`, `backtest`).
 * analytics/ never imports the ledger (lower stages never import higher ones): the daemon and the
 * commands hand it this interface.
 */
import type { Sample } from "../../records.js";

export interface HistorySource {
  /**
   * The samples of `devices` (one name, or a set: every machine's history in one pass over the
   * log) from wall-clock `fromTs` on, in log order. Reads in batches and yields to the event loop
   * between them, so a daemon keeps polling while it reads days of history.
   */
  samples(devices: string | ReadonlySet<string>, fromTs: number, signal?: AbortSignal): AsyncIterable<Sample>;
}
