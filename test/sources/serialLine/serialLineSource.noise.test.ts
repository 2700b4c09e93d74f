/**
 * FAULTS 8.4 "Line noise with no delimiter (ASCII sensors)": 10 MB without a delimiter through a
 * real pty into the built source in a child process. The source stays up, counts the dropped
 * bytes, its RSS stays bounded (serialport's DelimiterParser would hold all 10 MB), and the first
 * valid line after the noise still parses.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { isRecord, type JsonRecord, LineChild } from "../../helpers/lineChild.js";
import { fixturePath, repoRoot } from "../../helpers/paths.js";
import { startPtyPair } from "../../helpers/ptyPair.js";
import { Resources } from "../../helpers/resources.js";
import { SensorWriter } from "./serialLineHarness.js";

const BUILT_SOURCE = join(repoRoot, "dist", "sources", "serialLine", "serialLineSource.js");
const MIB = 1024 * 1024;
const NOISE_BYTES = 10 * MIB;
/**
 * The framer holds at most maxLineLength (4 KiB). With a 1 MiB young generation (so read buffers
 * are collected promptly rather than whenever V8 gets round to it) the child grows by 2-4 MiB
 * here; serialport's unbounded DelimiterParser in the same harness grew by 48 MiB.
 */
const RSS_GROWTH_LIMIT = 16 * MIB;
/** Keeps garbage from inflating RSS, so the growth measured is what is retained. */
const CHILD_NODE_FLAGS = ["--expose-gc", "--max-semi-space-size=1"];

let resources: Resources;
let sensor: SensorWriter | undefined;

beforeEach(() => {
  resources = new Resources();
});

afterEach(async () => {
  await sensor?.close();
  sensor = undefined;
  await resources.release();
});

interface StatsLine {
  readonly stats: Record<string, unknown>;
  readonly rss: number;
  readonly maxRss: number;
  readonly baselineRss: number | undefined;
}

function statsLine(line: JsonRecord): StatsLine | undefined {
  return isRecord(line.stats) ? (line as unknown as StatsLine) : undefined;
}

/** One MiB of random bytes with every "\n" (the delimiter) replaced. */
function noiseChunk(): Buffer {
  const chunk = randomBytes(MIB);
  for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) {
    chunk[i] = 0x0b;
  }
  return chunk;
}

it("10 MB of noise without a delimiter: bytes dropped and counted, RSS bounded, the next line parses", async () => {
  if (!existsSync(BUILT_SOURCE)) {
    throw new Error(`${BUILT_SOURCE} is missing: build first with npm run build`);
  }
  const pair = resources.track(await startPtyPair(await resources.tempDir("ew-serial-noise-")));
  const child = resources.track(
    new LineChild(
      "serial-line-noise",
      process.execPath,
      [...CHILD_NODE_FLAGS, fixturePath("serial-line-noise.mjs"), pair.a],
      {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      },
    ),
  );
  const ready = await child.waitForIndex(
    (line) => statsLine(line)?.baselineRss !== undefined,
    "the source to open its port",
  );

  sensor = await SensorWriter.open(pair.b);
  // The first delimiter ends the partial line skipped at open, so the noise is one overlong line.
  await sensor.write("\n");
  const chunk = noiseChunk();
  for (let sent = 0; sent < NOISE_BYTES; sent += chunk.length) {
    await sensor.write(chunk);
  }
  const received = await child.waitForIndex(
    (line) => Number(statsLine(line)?.stats.bytesIn) >= 1 + NOISE_BYTES,
    "all noise to be read",
    { from: ready, timeoutMs: 60_000 },
  );
  const afterNoise = statsLine(child.lines[received] as JsonRecord) as StatsLine;
  expect(afterNoise.stats).toMatchObject({
    state: "connected",
    bytesIn: 1 + NOISE_BYTES,
    bytesDropped: NOISE_BYTES,
    overlongLines: 1,
    linesIn: 0,
    garbageLines: 0,
  });
  const growth = afterNoise.maxRss - (afterNoise.baselineRss as number);
  expect(growth, `RSS grew by ${(growth / MIB).toFixed(1)} MiB`).toBeLessThan(RSS_GROWTH_LIMIT);

  await sensor.write("\nT=21.5\n");
  const sample = await child.waitFor((line) => isRecord(line.sample), "a sample after the noise", {
    from: received,
  });
  expect(sample.sample).toMatchObject({
    device: "noisy",
    values: { temp: { value: 21.5, quality: "good" } },
  });
  expect(child.exitResult).toBeUndefined();
});
