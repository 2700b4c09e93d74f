/**
 * A test hook (issue #5, must-show "Crash"): tells a parent process, over Node's IPC channel,
 * which records are durable, so a test that SIGKILLs the daemon can check after the restart that
 * every record whose append() had resolved is still there, unchanged.
 *
 * Off unless the daemon was spawned with an IPC channel (process.send defined) AND
 * EDGEWARDEN_REPORT_DURABLE=1; then fromProcess() returns undefined and reportingAppender() hands
 * back the ledger itself, so a production daemon pays nothing.
 *
 * The composition root wraps the appenders of samples, events and dead letters (checkpoints are
 * appended by the checkpointer through the ledger itself and are not reported).
 *
 * One message per group commit, `{durable: [[seq, hash], ...]}`: the appends of one commit resolve
 * in one loop (groupCommit.ts), so their continuations all run before the setImmediate that sends
 * them. The append path only pushes to an array; process.send is asynchronous. Lost reports only
 * make the test check less, never wrongly, so the hook drops rather than waits: when the channel
 * is gone it turns itself off, and while too many messages are still unsent it drops batches and
 * says how many records it dropped in the next message.
 */
import type { LedgerEntry } from "../ledger/ledgerEntry.js";
import type { LedgerAppender } from "../ledger/ledgerPorts.js";

export const REPORT_DURABLE_ENV = "EDGEWARDEN_REPORT_DURABLE";

export interface DurableMessage {
  /** (seq, hash) of each record whose append() resolved, in resolution order. */
  readonly durable: ReadonlyArray<readonly [number, string]>;
  /** Records resolved but not reported since the previous message (parent not reading). */
  readonly dropped?: number;
}

/**
 * Hands one message to the channel; calls back once it is written (null) or cannot be (an
 * error: the channel is closed). A callback, not an 'error' event, so a gone parent is quiet.
 */
export type SendMessage = (message: DurableMessage, callback: (error: Error | null) => void) => void;

/** Messages handed to the channel and not yet written; beyond this, batches are dropped. */
const MAX_UNSENT = 256;

export class DurableReport {
  readonly #send: SendMessage;
  #pending: Array<readonly [number, string]> = [];
  #flushScheduled = false;
  #unsent = 0;
  #dropped = 0;
  #closed = false;

  constructor(send: SendMessage) {
    this.#send = send;
  }

  /** The hook when this process was asked for it (see the header), else undefined. */
  static fromProcess(proc: NodeJS.Process = process): DurableReport | undefined {
    if (proc.send === undefined || proc.env[REPORT_DURABLE_ENV] !== "1") {
      return undefined;
    }
    return new DurableReport((message, callback) => {
      if (!proc.connected) {
        callback(new Error("the IPC channel is closed"));
        return;
      }
      proc.send?.(message, callback);
    });
  }

  /** An appender that reports each record of `ledger` whose append() resolved. */
  appender(ledger: LedgerAppender): LedgerAppender {
    return {
      append: (fields) => {
        const appended = ledger.append(fields);
        // The caller handles the rejection of `appended`; this branch only observes success.
        appended.then(
          (entry) => this.#add(entry),
          () => undefined,
        );
        return appended;
      },
    };
  }

  #add(entry: LedgerEntry): void {
    if (this.#closed) {
      return;
    }
    this.#pending.push([entry.seq, entry.hash]);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    const durable = this.#pending;
    this.#pending = [];
    if (this.#closed || durable.length === 0) {
      return;
    }
    if (this.#unsent >= MAX_UNSENT) {
      this.#dropped += durable.length;
      return;
    }
    const message: DurableMessage = this.#dropped > 0 ? { durable, dropped: this.#dropped } : { durable };
    this.#dropped = 0;
    this.#unsent++;
    this.#send(message, (error) => {
      this.#unsent--;
      if (error !== null) {
        this.#close();
      }
    });
  }

  #close(): void {
    this.#closed = true;
    this.#pending = [];
  }
}

/** `ledger` itself when no report was asked for, else an appender that reports. */
export function reportingAppender(report: DurableReport | undefined, ledger: LedgerAppender): LedgerAppender {
  return report === undefined ? ledger : report.appender(ledger);
}
