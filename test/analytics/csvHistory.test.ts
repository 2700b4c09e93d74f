import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CsvHeaderError,
  type CsvHistoryOptions,
  csvHistory,
  formatCsvRowError,
} from "../../src/analytics/training/csvHistory.js";
import { type Cell, RecordParser } from "../../src/analytics/training/csvRecords.js";
import { CsvTimeReader } from "../../src/analytics/training/csvTime.js";
import type { Sample } from "../../src/records.js";

let dir = "";
let fileCount = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "csv-history-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fixture(text: string): Promise<string> {
  const path = join(dir, `history-${fileCount++}.csv`);
  await writeFile(path, text);
  return path;
}

async function read(text: string, options: CsvHistoryOptions = {}, fromTs = 0) {
  const path = await fixture(text);
  const history = csvHistory(path, "press-1", options);
  const samples: Sample[] = [];
  for await (const sample of history.samples("press-1", fromTs)) {
    samples.push(sample);
  }
  return { path, history, samples, stats: history.stats(), errors: history.errors() };
}

async function headerError(text: string): Promise<CsvHeaderError> {
  const path = await fixture(text);
  const iterate = async () => {
    for await (const _ of csvHistory(path, "press-1").samples("press-1", 0)) {
      // draining
    }
  };
  const error = await iterate().then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(CsvHeaderError);
  return error as CsvHeaderError;
}

const utc = (iso: string) => Date.parse(iso);
const good = (value: number | boolean) => ({ value, quality: "good" });
const bad = (text: string) => ({ value: null, quality: "bad", reason: `not a number: ${text}` });

describe("csvHistory rows", () => {
  it("reads a NAB export (timestamp,value with zone-less times) as UTC samples of the device", async () => {
    const { samples, stats, errors } = await read(
      "timestamp,value\n2014-04-10 00:00:00,69.88083514\n2014-04-10 00:05:00,71.22\n",
    );
    expect(samples).toEqual([
      {
        kind: "sample",
        device: "press-1",
        ts: utc("2014-04-10T00:00:00Z"),
        clockSynced: true,
        values: { value: good(69.88083514) },
      },
      {
        kind: "sample",
        device: "press-1",
        ts: utc("2014-04-10T00:05:00Z"),
        clockSynced: true,
        values: { value: good(71.22) },
      },
    ]);
    expect(errors).toEqual([]);
    expect(stats).toEqual({
      rows: 2,
      samples: 2,
      beforeFrom: 0,
      empty: 0,
      rejected: 0,
      outOfOrder: 0,
      badCells: 0,
    });
  });

  it("reads a SKAB export separated by ; with a datetime column", async () => {
    const { samples } = await read(
      "datetime;Accelerometer1RMS;Current;anomaly\n" +
        "2020-02-08 17:27:19;0.226518;2.44101;0.0\n" +
        "2020-02-08 17:27:20;0.228938;2.54982;1.0\n",
    );
    expect(samples.map((sample) => sample.ts)).toEqual([
      utc("2020-02-08T17:27:19Z"),
      utc("2020-02-08T17:27:20Z"),
    ]);
    expect(samples[1]?.values).toEqual({
      Accelerometer1RMS: good(0.228938),
      Current: good(2.54982),
      anomaly: good(1),
    });
  });

  it("detects a tab separator", async () => {
    const { samples } = await read("ts\tflow\ttemp\n1700000000\t1.5\t20\n");
    expect(samples[0]?.values).toEqual({ flow: good(1.5), temp: good(20) });
  });

  it("reads quoted fields with doubled quotes, separators and line breaks inside", async () => {
    const { samples, errors } = await read(
      '"time","a","note"\n' +
        '"2020-01-01T00:00:00Z","1.5","say ""hi"", then go"\n' +
        '2020-01-01T00:01:00Z, "2" ,"two\nlines"\n' +
        "2020-01-01T00:02:00Z,3,x\n" +
        '2020-01-01T00:03:00Z,4,"a"b\n',
    );
    expect(samples.map((sample) => sample.values)).toEqual([
      { a: good(1.5), note: bad('say "hi", then go') },
      { a: good(2), note: bad("two lines") },
      { a: good(3), note: bad("x") },
    ]);
    // The record that spans lines 3-4 does not shift the line numbers after it.
    expect(errors).toEqual([{ line: 6, column: 27, message: "text after the closing quote of a field" }]);
  });

  it("drops a UTF-8 BOM and reads CRLF line ends", async () => {
    const { samples, errors } = await read(
      "\uFEFFtimestamp,value\r\n2014-04-10 00:00:00,1\r\n2014-04-10 00:05:00,2\r\n",
    );
    expect(errors).toEqual([]);
    expect(samples.map((sample) => sample.values)).toEqual([{ value: good(1) }, { value: good(2) }]);
  });

  it("leaves empty cells out of the sample and skips a row with no values", async () => {
    const { samples, stats } = await read(
      "time,a,b\n2020-01-01T00:00:00Z,1,\n2020-01-01T00:01:00Z,, 2 \n2020-01-01T00:02:00Z,,\n\n2020-01-01T00:03:00Z,3,4\n",
    );
    expect(samples.map((sample) => sample.values)).toEqual([
      { a: good(1) },
      { b: good(2) },
      { a: good(3), b: good(4) },
    ]);
    expect(stats).toMatchObject({ rows: 4, samples: 3, empty: 1, rejected: 0 });
  });

  it("turns NaN, inf, overflow and text cells into bad readings and reads true/false as booleans", async () => {
    const { samples, stats } = await read(
      "time,a,b,c,d,e,f\n2020-01-01T00:00:00Z,NaN,nan,inf,1e999,TRUE,false\n2020-01-01T00:01:00Z,-Infinity,0x10,1,2,3,4\n",
    );
    expect(samples[0]?.values).toEqual({
      a: bad("NaN"),
      b: bad("nan"),
      c: bad("inf"),
      d: bad("1e999"),
      e: good(true),
      f: good(false),
    });
    expect(samples[1]?.values.a).toEqual(bad("-Infinity"));
    expect(samples[1]?.values.b).toEqual(bad("0x10"));
    expect(stats.badCells).toBe(6);
    for (const sample of samples) {
      for (const reading of Object.values(sample.values)) {
        expect(
          reading.quality === "bad" ||
            reading.value === true ||
            reading.value === false ||
            Number.isFinite(reading.value),
        ).toBe(true);
      }
    }
  });

  it("shortens a long text cell in the reason and removes control characters", async () => {
    const { samples } = await read(`time,a\n2020-01-01T00:00:00Z,"${"x".repeat(40)}\u0007"\n`);
    expect(samples[0]?.values.a).toEqual(bad(`${"x".repeat(32)}…`));
  });

  it("reads epoch seconds, fractional seconds and epoch milliseconds", async () => {
    const { samples } = await read("ts,v\n1700000000,1\n1700000000.25,2\n1700000000500,3\n");
    expect(samples.map((sample) => sample.ts)).toEqual([
      1_700_000_000_000, 1_700_000_000_250, 1_700_000_000_500,
    ]);
  });

  it("skips rows before fromTs and yields out-of-order rows as they are, counting both", async () => {
    const { samples, stats } = await read("ts,v\n1000,1\n2000,2\n4000,4\n3000,3\n5000,5\n", {}, 2_000_000);
    expect(samples.map((sample) => sample.ts / 1000)).toEqual([2000, 4000, 3000, 5000]);
    expect(stats).toMatchObject({ rows: 5, samples: 4, beforeFrom: 1, outOfOrder: 1 });
  });

  it("yields nothing when asked for another device", async () => {
    const path = await fixture("ts,v\n1000,1\n");
    const samples: Sample[] = [];
    for await (const sample of csvHistory(path, "press-1").samples("press-2", 0)) {
      samples.push(sample);
    }
    expect(samples).toEqual([]);
  });

  it("starts each pass from zero, so reading twice gives the same samples and stats", async () => {
    const { path, history, samples, stats } = await read("ts,v\n1000,1\nnope,2\n");
    const again: Sample[] = [];
    for await (const sample of history.samples("press-1", 0)) {
      again.push(sample);
    }
    expect(again).toEqual(samples);
    expect(history.stats()).toEqual(stats);
    expect(history.errors()).toHaveLength(1);
    expect(path).toContain("history-");
  });

  it("stops when the signal aborts", async () => {
    const path = await fixture("ts,v\n1000,1\n2000,2\n");
    const controller = new AbortController();
    controller.abort();
    const iterate = async () => {
      for await (const _ of csvHistory(path, "press-1").samples("press-1", 0, controller.signal)) {
        // draining
      }
    };
    await expect(iterate()).rejects.toThrow(/abort/i);
  });
});

describe("csvHistory rejected rows", () => {
  it("reports each bad row as FILE:LINE:COL and yields the good ones", async () => {
    const { path, samples, stats, errors } = await read(
      "time,a,b\n" +
        "2020-01-01T00:00:00Z,1,2\n" + // line 2: good
        "2020-01-01T00:01:00Z,1,2,3\n" + // line 3: an extra field at col 26
        "2020-01-01T00:02:00Z,1\n" + // line 4: a field short, at the end (col 23)
        "  yesterday ,1,2\n" + // line 5: not a time
        '2020-01-01T00:04:00Z,1"5,2\n' + // line 6: a quote inside an unquoted field
        "2014-02-30 00:00:00,1,2\n" + // line 7: no such date
        "2020-01-01T00:06:00Z,6,6\n" + // line 8: good
        '2020-01-01T00:07:00Z,"7,7\n', // line 9: quote never closed
    );
    expect(samples.map((sample) => sample.values.a)).toEqual([good(1), good(6)]);
    const lines = errors.map((error) => formatCsvRowError(path, error));
    expect(lines).toEqual([
      `${path}:3:26: 4 fields, but the header has 3`,
      `${path}:4:23: 2 fields, but the header has 3`,
      `${path}:5:1: cannot read the time "yesterday": expected ISO 8601 ("2014-04-10 00:00:00", "2014-04-10T00:00:00Z", "...+02:00") or epoch seconds or milliseconds`,
      `${path}:6:23: a quote inside an unquoted field (quote the whole field and write " as "")`,
      `${path}:7:1: cannot read the time "2014-02-30 00:00:00": expected ISO 8601 ("2014-04-10 00:00:00", "2014-04-10T00:00:00Z", "...+02:00") or epoch seconds or milliseconds`,
      `${path}:9:22: a quoted field is not closed before the end of the file`,
    ]);
    expect(stats).toMatchObject({ rows: 8, samples: 2, rejected: 6 });
  });

  it("keeps the first maxErrors errors and counts the rest", async () => {
    const rows = Array.from({ length: 10 }, (_, i) => `bad${i},1\n`).join("");
    const { stats, errors } = await read(`ts,v\n${rows}1000,1\n`, { maxErrors: 3 });
    expect(errors.map((error) => error.line)).toEqual([2, 3, 4]);
    expect(stats).toMatchObject({ rejected: 10, samples: 1 });
  });

  it("rejects a line over maxLineLength without reading it, and goes on after it", async () => {
    const long = `1000,${"9".repeat(300_000)}`; // spans several 64 KiB chunks
    const { samples, errors } = await read(`ts,v\n${long}\n2000,2\n`, { maxLineLength: 1000 });
    expect(errors).toEqual([{ line: 2, column: 1, message: "line longer than 1000 characters (not read)" }]);
    expect(samples.map((sample) => sample.values)).toEqual([{ v: good(2) }]);
  });

  it("rejects a quoted field that runs on past maxLineLength", async () => {
    const open = `1000,"${"a\n".repeat(20)}`;
    const { errors, samples } = await read(`ts,v\n${open}\n`, { maxLineLength: 30 });
    expect(errors[0]).toEqual({
      line: 2,
      column: 6,
      message: "a quoted field is not closed within 30 characters",
    });
    expect(samples).toEqual([]);
  });
});

describe("csvHistory header", () => {
  it("refuses duplicate, empty and non-tag column names, listing every problem", async () => {
    const error = await headerError("time,flow, flow ,,Volume Flow RateRMS,__proto__\n1000,1,2,3,4,5\n");
    expect(error.errors).toEqual([
      { line: 1, column: 11, message: 'column name "flow" repeats column 2' },
      { line: 1, column: 18, message: "column 4 has no name" },
      {
        line: 1,
        column: 19,
        message:
          'column name "Volume Flow RateRMS" is not a tag name (1-64 letters, digits, "_", "." or "-", starting with a letter or digit); rename it to the config\'s tag name',
      },
      expect.objectContaining({ line: 1, column: 39 }),
    ]);
    expect(error.message.split("\n")[0]).toBe(`${error.path}:1:11: column name "flow" repeats column 2`);
  });

  it("refuses a header with no tag columns and an empty file", async () => {
    expect((await headerError("timestamp\n1000\n")).errors[0]?.message).toMatch(/no tag columns/);
    expect((await headerError("")).errors[0]?.message).toMatch(/no header row/);
  });

  it("refuses an unknown time zone when it is built", () => {
    expect(() => csvHistory("x.csv", "d", { timeZone: "Mars/Olympus" })).toThrow(
      /unknown time zone "Mars\/Olympus"/,
    );
  });
});

describe("csvHistory time zones", () => {
  it("reads zone-less times in Europe/Berlin across the spring-forward gap", async () => {
    const { samples } = await read(
      "time,v\n2021-03-28 01:30:00,1\n2021-03-28 02:30:00,2\n2021-03-28 03:30:00,3\n2021-01-15 12:00:00,4\n2021-07-15 12:00:00,5\n",
      { timeZone: "Europe/Berlin" },
    );
    expect(samples.map((sample) => new Date(sample.ts).toISOString())).toEqual([
      "2021-03-28T00:30:00.000Z",
      // 02:30 does not exist that night: moved later by the gap, to 03:30 CEST.
      "2021-03-28T01:30:00.000Z",
      "2021-03-28T01:30:00.000Z",
      "2021-01-15T11:00:00.000Z",
      "2021-07-15T10:00:00.000Z",
    ]);
  });

  it("reads an export written in order through the fall-back night in order", async () => {
    const { samples, stats } = await read(
      "time,v\n" +
        ["01:30", "02:00", "02:30", "02:00", "02:30", "03:00"]
          .map((hm, i) => `2021-10-31 ${hm}:00,${i}`)
          .join("\n"),
      { timeZone: "Europe/Berlin" },
    );
    expect(samples.map((sample) => new Date(sample.ts).toISOString())).toEqual([
      "2021-10-30T23:30:00.000Z",
      "2021-10-31T00:00:00.000Z",
      "2021-10-31T00:30:00.000Z",
      "2021-10-31T01:00:00.000Z",
      "2021-10-31T01:30:00.000Z",
      "2021-10-31T02:00:00.000Z",
    ]);
    expect(stats.outOfOrder).toBe(0);
  });

  it("takes the first occurrence of a repeated wall time with nothing before it", () => {
    const berlin = new CsvTimeReader("Europe/Berlin");
    expect(berlin.read("2021-10-31 02:30:00")).toBe(utc("2021-10-31T00:30:00Z"));
    expect(berlin.read("2021-10-31 02:30:00", utc("2021-10-31T00:45:00Z"))).toBe(utc("2021-10-31T01:30:00Z"));
  });

  it("honours explicit offsets whatever the zone, and refuses impossible times", () => {
    const berlin = new CsvTimeReader("Europe/Berlin");
    expect(berlin.read("2021-07-15T12:00:00Z")).toBe(utc("2021-07-15T12:00:00Z"));
    expect(berlin.read("2021-07-15T12:00:00+05:30")).toBe(utc("2021-07-15T06:30:00Z"));
    expect(berlin.read("2021-07-15 12:00:00-0800")).toBe(utc("2021-07-15T20:00:00Z"));
    expect(berlin.read("2021-07-15T12:00:00,250+02")).toBe(utc("2021-07-15T10:00:00.250Z"));
    expect(berlin.read("2021-07-15")).toBe(utc("2021-07-14T22:00:00Z"));
    for (const text of [
      "2021-07-15 24:00:00",
      "2021-13-01",
      "2021-07-15T12:60",
      "2021-07-15T12:00+24:00",
      "1e400",
      "9".repeat(400),
      "-5",
      "12:00",
    ]) {
      expect(berlin.read(text)).toBeUndefined();
    }
  });
});

describe("csvHistory at scale", () => {
  it("streams a 100k-row file to the end", async () => {
    const rows: string[] = ["timestamp,value,state"];
    const start = utc("2014-04-10T00:00:00Z");
    for (let i = 0; i < 100_000; i++) {
      const when = new Date(start + i * 60_000).toISOString().replace("T", " ").slice(0, 19);
      rows.push(`${when},${(i % 97) / 7},${i % 2 === 0}`);
    }
    const path = await fixture(`${rows.join("\n")}\n`);
    const history = csvHistory(path, "press-1");
    let count = 0;
    let last: Sample | undefined;
    for await (const sample of history.samples("press-1", 0)) {
      count++;
      last = sample;
    }
    expect(count).toBe(100_000);
    expect(last?.ts).toBe(start + 99_999 * 60_000);
    expect(last?.values).toEqual({ value: good((99_999 % 97) / 7), state: good(false) });
    expect(history.stats()).toMatchObject({ rows: 100_000, samples: 100_000, rejected: 0, outOfOrder: 0 });
  });
});

describe("RecordParser", () => {
  const quoteField = (text: string) => `"${text.replaceAll('"', '""')}"`;

  it("reads back any quoted fields, whatever they hold (RFC 4180 round trip)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(",", ";", "\t"),
        fc.array(fc.string({ unit: fc.constantFrom("a", " ", '"', ",", ";", "\t", "\n", "é", "1") }), {
          minLength: 1,
          maxLength: 6,
        }),
        (separator, fields) => {
          const parser = new RecordParser(separator, 10_000);
          const lines = fields.map(quoteField).join(separator).split("\n");
          let result: Cell[] | "open" | unknown = "open";
          lines.forEach((line, i) => {
            expect(result).toBe("open");
            result = parser.feed(line, i + 1);
          });
          expect(Array.isArray(result)).toBe(true);
          expect((result as Cell[]).map((cell) => cell.text)).toEqual(fields);
        },
      ),
      { seed: 6_005, numRuns: 300 },
    );
  });
});
