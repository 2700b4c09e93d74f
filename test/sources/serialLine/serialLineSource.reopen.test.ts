/**
 * The serial-line source losing its port and getting it back (FAULTS 8.4, issue #4 item 5
 * "unplug and replug of the device handled (reopen with backoff)"): a killed pty pair is an
 * unplug, a new pair with the same link names a replug; a link removed while the pty lives on is
 * an unplug that raises no event (serialport #2043); a port opened by someone else is locked.
 * Tags go bad "disconnected: ..." once and the loss is logged once, not per retry.
 */
import { readlink, symlink, unlink } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";
import { SerialPort } from "serialport";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startPtyPair } from "../../helpers/ptyPair.js";
import { Resources } from "../../helpers/resources.js";
import { waitUntil } from "../../helpers/waitUntil.js";
import {
  deviceConfig,
  logsWithMessage,
  type RunningSource,
  readingsOf,
  reasonsOf,
  SensorWriter,
  startSource,
  waitForConnected,
} from "./serialLineHarness.js";

const FIELDS = {
  parser: { format: "regex", pattern: "^T=(?<temp>\\d+\\.\\d+)$" },
  tags: [{ name: "temp", unit: "degC" }],
};
const LOST = "serial port unavailable; reopening with backoff";
/** Several reopen attempts at 100 ms doubling to a 1 s cap. */
const RETRIES_MS = 2_000;

let resources: Resources;
let dir: string;
let running: RunningSource | undefined;
const writers: SensorWriter[] = [];

beforeEach(async () => {
  resources = new Resources();
  dir = await resources.tempDir("ew-serial-reopen-");
});

afterEach(async () => {
  await running?.stop();
  running = undefined;
  await Promise.all(writers.splice(0).map((writer) => writer.close()));
  await resources.release();
});

async function sensorOn(path: string): Promise<SensorWriter> {
  const writer = await SensorWriter.open(path);
  writers.push(writer);
  return writer;
}

/** Writes a line and waits until it has been published with that value. */
async function expectLineThrough(
  writer: SensorWriter,
  samplesOf: RunningSource,
  value: number,
): Promise<void> {
  await writer.write(`\nT=${value.toFixed(1)}\n`);
  await waitUntil(
    () => readingsOf(samplesOf.samples, "temp").some((reading) => reading.value === value),
    `temp ${value} to be published`,
    { timeoutMs: 5_000 },
  );
}

describe("serial-line source: losing and reopening the port", () => {
  it("unplug: tags bad once, logged once; replug: reopened with backoff and samples flow again", async () => {
    const first = resources.track(await startPtyPair(dir));
    running = await startSource(deviceConfig(first.a, FIELDS));
    const { source, samples, logs } = running;
    await waitForConnected(source);
    await expectLineThrough(await sensorOn(first.b), running, 1.5);

    await first.kill();
    await waitUntil(() => reasonsOf(samples, "temp").length > 0, "a disconnected sample", {
      timeoutMs: 5_000,
    });
    await delay(RETRIES_MS);
    const reasons = reasonsOf(samples, "temp");
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^disconnected: .*\ba\b/);
    expect(logsWithMessage(logs, LOST)).toHaveLength(1);
    expect(source.stats().state).not.toBe("connected");
    expect(source.stats().lastError).toMatch(/absent/);

    const second = resources.track(await startPtyPair(dir));
    await waitForConnected(source, 5_000);
    expect(logsWithMessage(logs, "serial port reopened")).toHaveLength(1);
    await expectLineThrough(await sensorOn(second.b), running, 2.5);
    expect(readingsOf(samples, "temp").at(-1)).toEqual({ value: 2.5, quality: "good", unit: "degC" });
    expect(source.stats().reopenCount).toBe(1);
    expect(logsWithMessage(logs, LOST)).toHaveLength(1);
  });

  it("a device node that vanishes with no close event is noticed, and reopened when it is back (#2043)", async () => {
    const pair = resources.track(await startPtyPair(dir));
    running = await startSource(deviceConfig(pair.a, FIELDS));
    const { source, samples } = running;
    await waitForConnected(source);
    const sensor = await sensorOn(pair.b);
    await expectLineThrough(sensor, running, 1.5);

    // The pty lives on (socat still runs, the open fd sees no error): only the node is gone.
    const target = await readlink(pair.a);
    await unlink(pair.a);
    await waitUntil(() => reasonsOf(samples, "temp").length > 0, "a disconnected sample", {
      timeoutMs: 5_000,
    });
    expect(reasonsOf(samples, "temp")).toEqual([expect.stringMatching(/^disconnected: .* is absent/)]);

    await symlink(target, pair.a);
    await waitForConnected(source, 5_000);
    await expectLineThrough(sensor, running, 2.5);
    expect(source.stats().reopenCount).toBe(1);
  });

  it("a port locked by another process: clear reason, backoff, and recovery once it is closed", async () => {
    const pair = resources.track(await startPtyPair(dir));
    const holder = new SerialPort({ path: pair.a, baudRate: 9600, autoOpen: false, lock: true });
    await new Promise<void>((resolve, reject) => holder.open((error) => (error ? reject(error) : resolve())));
    try {
      running = await startSource(deviceConfig(pair.a, FIELDS));
      const { source, samples, logs } = running;
      await waitUntil(() => reasonsOf(samples, "temp").length > 0, "a disconnected sample", {
        timeoutMs: 5_000,
      });
      await delay(RETRIES_MS);
      expect(reasonsOf(samples, "temp")).toEqual([
        expect.stringMatching(/^disconnected: .* is locked by another process/),
      ]);
      expect(logsWithMessage(logs, LOST)).toHaveLength(1);
      expect(source.stats().state).not.toBe("connected");
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
    const { source, logs } = running;
    await waitForConnected(source, 5_000);
    expect(logsWithMessage(logs, "serial port opened")).toHaveLength(1);
    await expectLineThrough(await sensorOn(pair.b), running, 3.5);
  });
});
