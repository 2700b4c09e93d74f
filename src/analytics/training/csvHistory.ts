/**
 * A CSV export as training history (issue #6 item 5: `train --from-csv FILE`; item 6: `backtest
 * --csv DATA`). The first column is the time, the others are tag names; each data row becomes one
 * Sample of the device, so the detectors see exported history exactly as they would see it live.
 *
 * Rules, decided here:
 * - The separator is `,`, `;` or a tab, whichever the header holds most of (outside quotes).
 *   Fields follow RFC 4180 (quotes, "" escapes, line breaks inside quotes); a UTF-8 BOM is
 *   dropped; lines end in LF or CRLF.
 * - A header that names a column twice, leaves one empty or uses a name that is not a tag name
 *   refuses the whole file (CsvHeaderError, every problem listed): guessing which column the
 *   config meant would train the wrong model.
 * - Cells: a decimal number or true/false is a good reading; an empty cell leaves the tag out of
 *   that sample (the analytics hold keeps its last value); anything else ("NaN", "inf", text) is a
 *   bad reading "not a number: TEXT", as a live source would send it, so no non-finite value
 *   reaches a model. A row whose tag cells are all empty yields nothing (a Sample always has values).
 * - A row with the wrong number of fields, an unreadable time, a quoting mistake or over
 *   maxLineLength characters is not yielded: it becomes a CsvRowError (FILE:LINE:COL, the first
 *   maxErrors kept, all counted). Rows before fromTs are skipped and counted; rows older than an
 *   earlier row are yielded as they are (the detectors count and skip them) and counted.
 * - Memory stays bounded whatever the file: it is streamed in 64 KiB chunks, a line or quoted
 *   record longer than maxLineLength is dropped unread, and the error list is capped. Lines are
 *   split by csvRecords.ts, not readline: readline buffers a whole line before it can be measured,
 *   so one line without a newline could exhaust memory.
 */
import { createReadStream } from "node:fs";
import { NAME_PATTERN } from "../../config/schema/primitives.js";
import type { Sample, TagReading } from "../../records.js";
import {
  type Cell,
  type CsvRowError,
  detectSeparator,
  lineBatches,
  OVERLONG,
  RecordParser,
} from "./csvRecords.js";
import { CsvTimeReader } from "./csvTime.js";
import type { HistorySource } from "./historySource.js";

export type { CsvRowError } from "./csvRecords.js";

export interface CsvHistoryOptions {
  /** IANA zone in which times without an offset are read; default "UTC". */
  readonly timeZone?: string;
  /** Longest line (or quoted record) read, in characters; default 1 Mi. */
  readonly maxLineLength?: number;
  /** Row errors kept for errors(); the rest are only counted; default 100. */
  readonly maxErrors?: number;
}

/** What the last (or current) pass over the file saw; each samples() call starts from zero. */
export interface CsvStats {
  /** Data rows read (blank lines and the header not counted). */
  rows: number;
  /** Samples yielded. */
  samples: number;
  /** Rows with a time before fromTs, skipped. */
  beforeFrom: number;
  /** Rows whose tag cells were all empty, skipped. */
  empty: number;
  /** Rows not yielded because of an error (errors() holds the first maxErrors of them). */
  rejected: number;
  /** Rows yielded with a time older than an earlier row's. */
  outOfOrder: number;
  /** Cells read as bad readings ("not a number: ..."). */
  badCells: number;
}

export type CsvHistory = HistorySource & {
  stats(): CsvStats;
  errors(): CsvRowError[];
};

/** The header cannot be used, so no row can be: every problem found in it, as FILE:LINE:COL lines. */
export class CsvHeaderError extends Error {
  constructor(
    readonly path: string,
    readonly errors: readonly CsvRowError[],
  ) {
    super(errors.map((error) => formatCsvRowError(path, error)).join("\n"));
    this.name = "CsvHeaderError";
  }
}

/** `FILE:LINE:COL: message`, the form of config issues (src/config/configIssue.ts). */
export function formatCsvRowError(path: string, error: CsvRowError): string {
  return `${path}:${error.line}:${error.column}: ${error.message}`;
}

const TAG_NAME = new RegExp(NAME_PATTERN);
const DECIMAL_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const CHUNK_BYTES = 64 * 1024;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

export function csvHistory(path: string, device: string, options: CsvHistoryOptions = {}): CsvHistory {
  const timeZone = options.timeZone ?? "UTC";
  const maxLineLength = options.maxLineLength ?? 1024 * 1024;
  const maxErrors = options.maxErrors ?? 100;
  const times = new CsvTimeReader(timeZone);
  let stats = emptyStats();
  let errors: CsvRowError[] = [];
  const reject = (error: CsvRowError) => {
    stats.rejected++;
    if (errors.length < maxErrors) {
      errors.push(error);
    }
  };

  async function* samples(
    wanted: string | ReadonlySet<string>,
    fromTs: number,
    signal?: AbortSignal,
  ): AsyncIterable<Sample> {
    stats = emptyStats();
    errors = [];
    // The file holds one device's history: asked for another device, it has none (as the ledger).
    if (typeof wanted === "string" ? wanted !== device : !wanted.has(device)) {
      return;
    }
    const stream = createReadStream(path, { encoding: "utf8", highWaterMark: CHUNK_BYTES });
    let line = 0;
    let header: Header | undefined;
    let parser: RecordParser | undefined;
    let newest = Number.NEGATIVE_INFINITY;
    try {
      for await (const batch of lineBatches(stream, maxLineLength)) {
        signal?.throwIfAborted();
        for (const raw of batch) {
          line++;
          if (header === undefined || parser === undefined) {
            if (raw === OVERLONG) {
              throw new CsvHeaderError(path, [{ line, column: 1, message: overlong(maxLineLength) }]);
            }
            const text = line === 1 && raw.startsWith("\uFEFF") ? raw.slice(1) : raw;
            if (text.trim() !== "") {
              header = readHeader(path, text, line, maxLineLength);
              parser = new RecordParser(header.separator, maxLineLength);
            }
            continue;
          }
          if (raw === OVERLONG) {
            parser.reset();
            stats.rows++;
            reject({ line, column: 1, message: overlong(maxLineLength) });
            continue;
          }
          if (!parser.continuing && raw.trim() === "") {
            continue;
          }
          const record = parser.feed(raw, line);
          if (record === "open") {
            continue;
          }
          stats.rows++;
          if (!Array.isArray(record)) {
            reject(record);
            continue;
          }
          const sample = toSample(record, header, line, newest);
          if (sample === undefined) {
            continue;
          }
          if (sample.ts < fromTs) {
            stats.beforeFrom++;
            continue;
          }
          if (sample.ts < newest) {
            stats.outOfOrder++;
          }
          newest = Math.max(newest, sample.ts);
          stats.samples++;
          yield sample;
        }
      }
    } finally {
      stream.destroy();
    }
    if (header === undefined) {
      throw new CsvHeaderError(path, [{ line: 1, column: 1, message: "no header row (the file is empty)" }]);
    }
    const unclosed = parser?.unclosed();
    if (unclosed !== undefined) {
      stats.rows++;
      reject(unclosed);
    }
  }

  /** A row's Sample, or undefined when the row was rejected or empty (counted). */
  function toSample(cells: readonly Cell[], header: Header, end: number, newest: number): Sample | undefined {
    const [time] = cells;
    if (cells.length !== header.tags.length + 1 || time === undefined) {
      // Too many: point at the first extra field; too few: at the end of the record.
      const expected = header.tags.length + 1;
      const extra = cells[expected];
      reject({
        line: extra?.line ?? end,
        column: extra?.col ?? cells.at(-1)?.endCol ?? 1,
        message: `${cells.length} fields, but the header has ${expected}`,
      });
      return undefined;
    }
    const ts = times.read(time.text.trim(), newest);
    if (ts === undefined) {
      reject({
        line: time.line,
        column: time.col,
        message: `cannot read the time ${quote(time.text.trim())}: expected ISO 8601 ("2014-04-10 00:00:00", "2014-04-10T00:00:00Z", "...+02:00") or epoch seconds or milliseconds`,
      });
      return undefined;
    }
    const values: Record<string, TagReading> = {};
    let count = 0;
    header.tags.forEach((tag, i) => {
      const text = cells[i + 1]?.text.trim() ?? "";
      if (text !== "") {
        const reading = readCell(text);
        if (reading.quality === "bad") {
          stats.badCells++;
        }
        values[tag] = reading;
        count++;
      }
    });
    if (count === 0) {
      stats.empty++;
      return undefined;
    }
    return { kind: "sample", device, ts, clockSynced: true, values };
  }

  return { samples, stats: () => ({ ...stats }), errors: () => [...errors] };
}

function emptyStats(): CsvStats {
  return { rows: 0, samples: 0, beforeFrom: 0, empty: 0, rejected: 0, outOfOrder: 0, badCells: 0 };
}

function readCell(text: string): TagReading {
  if (DECIMAL_NUMBER.test(text)) {
    const value = Number(text);
    if (Number.isFinite(value)) {
      return { value, quality: "good" };
    }
  }
  const word = text.toLowerCase();
  if (word === "true" || word === "false") {
    return { value: word === "true", quality: "good" };
  }
  return { value: null, quality: "bad", reason: `not a number: ${shorten(text)}` };
}

interface Header {
  readonly separator: string;
  readonly tags: readonly string[];
}

function readHeader(path: string, text: string, line: number, maxLineLength: number): Header {
  const separator = detectSeparator(text);
  const cells = new RecordParser(separator, maxLineLength).feed(text, line);
  if (cells === "open") {
    throw new CsvHeaderError(path, [{ line, column: 1, message: "a quoted header name runs past the line" }]);
  }
  if (!Array.isArray(cells)) {
    throw new CsvHeaderError(path, [cells]);
  }
  const problems: CsvRowError[] = [];
  if (cells.length < 2) {
    problems.push({
      line,
      column: 1,
      message:
        "the header has no tag columns: expected the time, then one column per tag, separated by , ; or a tab",
    });
  }
  const seen = new Map<string, number>();
  const tags = cells.slice(1).map((cell, i) => {
    const name = cell.text.trim();
    const where = { line: cell.line, column: cell.col };
    const first = seen.get(name);
    if (name === "") {
      problems.push({ ...where, message: `column ${i + 2} has no name` });
    } else if (!TAG_NAME.test(name)) {
      problems.push({
        ...where,
        message: `column name ${quote(name)} is not a tag name (1-64 letters, digits, "_", "." or "-", starting with a letter or digit); rename it to the config's tag name`,
      });
    } else if (first !== undefined) {
      problems.push({ ...where, message: `column name ${quote(name)} repeats column ${first}` });
    }
    seen.set(name, first ?? i + 2);
    return name;
  });
  if (problems.length > 0) {
    throw new CsvHeaderError(path, problems);
  }
  return { separator, tags };
}

function shorten(text: string): string {
  const clean = text.replace(CONTROL_CHARACTERS, " ");
  return clean.length > 32 ? `${clean.slice(0, 32)}…` : clean;
}

function quote(text: string): string {
  return JSON.stringify(shorten(text));
}

function overlong(maxLength: number): string {
  return `line longer than ${maxLength} characters (not read)`;
}
