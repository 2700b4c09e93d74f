/**
 * The serial-line source on a real pty (issue #4 item 5): lines of each parser format become
 * samples with units, the deadband filters them, garbage and overlong lines are counted and
 * skipped, and a sensor that falls silent is marked stale once (serial-line staleAfter).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type PtyPair, startPtyPair } from "../../helpers/ptyPair.js";
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

let resources: Resources;
let pair: PtyPair;
let running: RunningSource | undefined;
let sensor: SensorWriter | undefined;

beforeEach(async () => {
  resources = new Resources();
  pair = resources.track(await startPtyPair(await resources.tempDir("ew-serial-line-")));
});

afterEach(async () => {
  await running?.stop();
  await sensor?.close();
  running = undefined;
  sensor = undefined;
  await resources.release();
});

/** Starts the source on side a, waits for the open, and connects the sensor on side b. */
async function open(fields: Record<string, unknown>): Promise<RunningSource> {
  running = await startSource(deviceConfig(pair.a, fields));
  await waitForConnected(running.source);
  sensor = await SensorWriter.open(pair.b);
  return running;
}

async function send(text: string, linesInAfter: number): Promise<void> {
  await sensor?.write(text);
  await waitUntil(
    () => (running?.source.stats().linesIn ?? 0) >= linesInAfter,
    `${linesInAfter} lines framed`,
  );
}

const FORMATS = [
  {
    format: "regex",
    fields: {
      parser: { format: "regex", pattern: "^T=(?<temp>-?\\d+\\.\\d+) H=(?<hum>\\d+)$" },
      tags: [
        { name: "temp", unit: "degC" },
        { name: "humidity", field: "hum", unit: "%RH" },
      ],
    },
    line: "T=21.5 H=40",
  },
  {
    format: "csv",
    fields: {
      parser: { format: "csv", columns: ["id", "temp", "", "humidity"] },
      tags: [
        { name: "temp", unit: "degC", scale: 0.5 },
        { name: "humidity", unit: "%RH" },
      ],
    },
    line: "s1, 43, x, 40",
  },
  {
    format: "key-value",
    fields: {
      parser: { format: "key-value", pairSeparator: ",", keyValueSeparator: ":" },
      tags: [
        { name: "temp", field: "T", unit: "degC" },
        { name: "humidity", field: "RH", unit: "%RH", offset: -2 },
      ],
    },
    line: "ID:7,T:21.5,RH:42",
  },
  {
    format: "json",
    fields: {
      parser: { format: "json" },
      tags: [
        { name: "temp", field: "t.v", unit: "degC" },
        { name: "humidity", field: "rh", unit: "%RH" },
      ],
    },
    line: '{"t":{"v":21.5},"rh":40}',
  },
] as const;

describe("serial-line source: lines to samples", () => {
  it.each(FORMATS)("$format lines arrive as samples with values and units", async ({ fields, line }) => {
    const { source, samples } = await open(fields);
    // The leading delimiter ends the partial line the framer skips after every open.
    await send(`\n${line}\n`, 1);
    expect(samples).toHaveLength(1);
    expect(samples[0]).toMatchObject({
      kind: "sample",
      device: "sensor",
      values: {
        temp: { value: 21.5, quality: "good", unit: "degC" },
        humidity: { value: 40, quality: "good", unit: "%RH" },
      },
    });
    expect(samples[0]?.group).toBeUndefined();
    expect(source.stats()).toMatchObject({
      linesIn: 1,
      garbageLines: 0,
      overlongLines: 0,
      state: "connected",
    });
  });

  it("drops the partial line the port may have opened into", async () => {
    const { source, samples } = await open({
      parser: { format: "regex", pattern: "^T=(?<temp>\\d+\\.\\d+)$" },
      tags: [{ name: "temp" }],
    });
    await sensor?.write("T=1.5\nT=2.5\n");
    await waitUntil(() => source.stats().linesIn >= 1, "a line framed");
    expect(readingsOf(samples, "temp").map((reading) => reading.value)).toEqual([2.5]);
    expect(source.stats().bytesDropped).toBe("T=1.5".length);
  });

  it("publishes only moves beyond the deadband", async () => {
    const { samples } = await open({
      parser: { format: "regex", pattern: "^T=(?<temp>\\d+\\.\\d+)$" },
      tags: [{ name: "temp", deadband: 0.5 }],
    });
    await send("\nT=20.0\nT=20.2\nT=20.7\nT=20.9\nT=21.3\n", 5);
    expect(readingsOf(samples, "temp").map((reading) => reading.value)).toEqual([20.0, 20.7, 21.3]);
  });

  it("counts and skips garbage and overlong lines; a bad field is a bad reading, not garbage", async () => {
    const { source, samples, logs } = await open({
      maxLineLength: 16,
      parser: { format: "key-value" },
      tags: [{ name: "T" }],
    });
    const overlong = `T=${"9".repeat(40)}`;
    await send(`\nT=1.5\nhello world\n${overlong}\nT=abc\nT=2.5\n`, 4);
    expect(readingsOf(samples, "T")).toEqual([
      { value: 1.5, quality: "good" },
      { value: null, quality: "bad", reason: 'field T is not a number: "abc"' },
      { value: 2.5, quality: "good" },
    ]);
    expect(source.stats()).toMatchObject({
      linesIn: 4,
      garbageLines: 1,
      overlongLines: 1,
      bytesDropped: overlong.length,
    });
    expect(source.stats().bytesIn).toBe(`\nT=1.5\nhello world\n${overlong}\nT=abc\nT=2.5\n`.length);
    expect(logs.filter((line) => line.level === "warn")).toEqual([]);
  });

  it("warns once when a streak of lines does not parse (wrong baud or parser), and when they parse again", async () => {
    const { source, samples, logs } = await open({
      parser: { format: "regex", pattern: "^T=(?<temp>\\d+\\.\\d+)$" },
      tags: [{ name: "temp" }],
    });
    await send(`\n${"\u00fe\u00ff garbage\n".repeat(25)}T=3.5\n`, 26);
    expect(source.stats().garbageLines).toBe(25);
    expect(readingsOf(samples, "temp").map((reading) => reading.value)).toEqual([3.5]);
    const warnings = logs.filter((line) => line.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.msg)).toMatch(/lines in a row do not parse; check baud rate, parity/);
    expect(logsWithMessage(logs, "sensor lines parse again")).toHaveLength(1);
  });
});

describe("serial-line source: staleness", () => {
  it("marks every tag bad once when no line arrives for staleAfter, and good again on the next line", async () => {
    const { samples, logs } = await open({
      staleAfter: "1s",
      parser: { format: "csv", columns: ["a", "b"] },
      tags: [{ name: "a" }, { name: "b" }],
    });
    await send("\n1,2\n", 1);
    // On a loaded box the port may already have been silent for staleAfter before this line came:
    // count from the good sample on.
    const good = samples.length;
    expect(samples[good - 1]?.values.a).toEqual({ value: 1, quality: "good" });
    const warned = logsWithMessage(logs, "no line from the sensor; tags marked stale").length;
    await waitUntil(() => samples.length > good, "a stale sample", { timeoutMs: 5_000 });
    // Well past another staleAfter: still the one stale sample and the one warning.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(reasonsOf(samples.slice(good), "a")).toEqual(["stale: no line for 1 s"]);
    expect(reasonsOf(samples.slice(good), "b")).toEqual(["stale: no line for 1 s"]);
    expect(samples).toHaveLength(good + 1);
    expect(logsWithMessage(logs, "no line from the sensor; tags marked stale")).toHaveLength(warned + 1);

    await send("1,2\n", 2);
    // Same values as before the silence, but the quality changed, so the filter passes them.
    expect(samples).toHaveLength(good + 2);
    expect(samples[good + 1]?.values).toEqual({
      a: { value: 1, quality: "good" },
      b: { value: 2, quality: "good" },
    });
    expect(logsWithMessage(logs, "sensor lines arrive again")).toHaveLength(warned + 1);
  });
});
