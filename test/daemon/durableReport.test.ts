/**
 * The crash test's hook (src/daemon/durableReport.ts, issue #5 "Crash") on a real Ledger: it
 * reports every resolved append once, one message per group commit, never slows or changes what
 * append() returns, turns itself off when the channel is gone, and is off unless asked for.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type DurableMessage,
  DurableReport,
  REPORT_DURABLE_ENV,
  reportingAppender,
  type SendMessage,
} from "../../src/daemon/durableReport.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import type { LedgerEntry } from "../../src/ledger/ledgerEntry.js";
import { Resources } from "../helpers/resources.js";
import { sampleFields, startLedger } from "../ledger/ledgerKit.js";

let resources: Resources;
let open: Ledger[];

beforeEach(() => {
  resources = new Resources();
  open = [];
});

afterEach(async () => {
  await Promise.all(open.map((ledger) => ledger.stop()));
  await resources.release();
});

/** A channel that writes at once and keeps what it was given. */
function recordingChannel(): { messages: DurableMessage[]; send: SendMessage } {
  const messages: DurableMessage[] = [];
  return {
    messages,
    send: (message, callback) => {
      messages.push(message);
      setImmediate(() => callback(null));
    },
  };
}

const flushed = () => new Promise((resolve) => setImmediate(resolve));

describe("DurableReport", () => {
  it("reports each resolved append's (seq, hash), one message per group commit", async () => {
    const { ledger } = await startLedger(open, await resources.tempDir(), { commitMaxRecords: 10 });
    const channel = recordingChannel();
    const appender = new DurableReport(channel.send).appender(ledger);

    const entries: LedgerEntry[] = await Promise.all(
      Array.from({ length: 35 }, (_unused, i) => appender.append(sampleFields(i))),
    );
    await flushed();

    const reported = channel.messages.flatMap((message) => message.durable);
    expect(reported).toEqual(entries.map((entry) => [entry.seq, entry.hash]));
    expect(channel.messages.length).toBe((await ledger.stats()).commits);
    expect(channel.messages.length).toBeGreaterThanOrEqual(4);
    expect(channel.messages.every((message) => message.dropped === undefined)).toBe(true);
  });

  it("reports nothing for a rejected append and passes the rejection on", async () => {
    const { ledger } = await startLedger(open, await resources.tempDir());
    const channel = recordingChannel();
    const appender = new DurableReport(channel.send).appender(ledger);

    await expect(appender.append(sampleFields(1, { device: "" }))).rejects.toThrow(RangeError);
    await flushed();
    expect(channel.messages).toEqual([]);
  });

  it("turns itself off once the channel is gone; appends keep resolving", async () => {
    const { ledger } = await startLedger(open, await resources.tempDir());
    let sends = 0;
    const appender = new DurableReport((_message, callback) => {
      sends++;
      callback(new Error("the IPC channel is closed"));
    }).appender(ledger);

    await appender.append(sampleFields(1));
    await flushed();
    const second = await appender.append(sampleFields(2));
    await flushed();

    expect(second.seq).toBe(2);
    expect(sends).toBe(1);
  });

  it("drops batches while too many messages are unsent, and says how many records it dropped", async () => {
    const { ledger } = await startLedger(open, await resources.tempDir(), { commitMaxRecords: 1 });
    const messages: DurableMessage[] = [];
    const callbacks: Array<(error: Error | null) => void> = [];
    const appender = new DurableReport((message, callback) => {
      messages.push(message);
      callbacks.push(callback);
    }).appender(ledger);

    // A parent that does not read: no callback comes back. One record per commit, so one
    // message each until 256 are unsent.
    await Promise.all(Array.from({ length: 300 }, (_unused, i) => appender.append(sampleFields(i))));
    await flushed();
    expect(messages.length).toBe(256);
    const sent = messages.reduce((sum, message) => sum + message.durable.length, 0);
    for (const callback of callbacks.splice(0)) {
      callback(null);
    }
    await appender.append(sampleFields(300));
    await flushed();
    expect(messages.length).toBe(257);
    expect(messages.at(-1)).toMatchObject({ dropped: 300 - sent, durable: [[301, expect.any(String)]] });
  });

  it("is off unless the process has an IPC channel and the opt-in variable", () => {
    const send = () => true;
    const processWith = (env: Record<string, string>, withSend: boolean) =>
      ({ env, ...(withSend ? { send } : {}), connected: true }) as unknown as NodeJS.Process;

    expect(DurableReport.fromProcess(processWith({ [REPORT_DURABLE_ENV]: "1" }, false))).toBeUndefined();
    expect(DurableReport.fromProcess(processWith({}, true))).toBeUndefined();
    expect(DurableReport.fromProcess(processWith({ [REPORT_DURABLE_ENV]: "0" }, true))).toBeUndefined();
    expect(DurableReport.fromProcess(processWith({ [REPORT_DURABLE_ENV]: "1" }, true))).toBeInstanceOf(
      DurableReport,
    );
  });

  it("hands back the ledger itself when no report was asked for", async () => {
    const { ledger } = await startLedger(open, await resources.tempDir());
    expect(reportingAppender(undefined, ledger)).toBe(ledger);
  });
});
