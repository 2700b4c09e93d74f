/**
 * RFC 4180 records for the CSV history source (issue #6 items 5 and 6: `train --from-csv`,
 * `backtest --csv`): physical lines of a stream with a length cap, and fields fed one line at a
 * time so a quoted field may span lines. Small on purpose: a history export is a header and rows
 * of numbers; what it must get right is quotes, "" escapes, CRLF and bounded memory.
 */

/** A place in the file that could not be read: 1-based line and character column. */
export interface CsvRowError {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export interface Cell {
  readonly text: string;
  readonly line: number;
  /** 1-based column of the field's first character; endCol: after its last, on the record's last line. */
  readonly col: number;
  readonly endCol: number;
}

/** Stands for a line longer than the cap, whose characters were dropped unread. */
export const OVERLONG = Symbol("overlong line");

/** The separator the header uses most outside quotes; a one-column header gets "," (and is refused). */
export function detectSeparator(text: string): string {
  const counts = new Map<string, number>([
    [",", 0],
    [";", 0],
    ["\t", 0],
  ]);
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') {
      quoted = !quoted;
    } else if (!quoted && counts.has(ch)) {
      counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
  }
  let best = ",";
  for (const [separator, count] of counts) {
    if (count > (counts.get(best) ?? 0)) {
      best = separator;
    }
  }
  return best;
}

/**
 * RFC 4180 fields, fed one physical line at a time so a quoted field may span lines. Lenient in
 * one way only: blanks around a quoted field are ignored (`a, "b" ,c`).
 */
export class RecordParser {
  private cells: Cell[] = [];
  private text = "";
  private startLine = 0;
  private startCol = 1;
  private state: "plain" | "quoted" | "closed" = "plain";
  private length = 0;

  constructor(
    private readonly separator: string,
    private readonly maxLength: number,
  ) {}

  /** True while a quoted field goes on to the next line. */
  get continuing(): boolean {
    return this.state === "quoted";
  }

  reset(): void {
    this.cells = [];
    this.text = "";
    this.state = "plain";
    this.length = 0;
  }

  /** The record's fields when it ends on this line, "open" when a quoted field goes on, or an error. */
  feed(line: string, lineNumber: number): Cell[] | "open" | CsvRowError {
    if (this.state === "quoted") {
      this.text += "\n";
      this.length += line.length + 1;
      if (this.length > this.maxLength) {
        const error = {
          line: this.startLine,
          column: this.startCol,
          message: `a quoted field is not closed within ${this.maxLength} characters`,
        };
        this.reset();
        return error;
      }
    } else {
      this.reset();
      this.length = line.length;
      if (!line.includes('"')) {
        // The common case: no quotes, so a plain split (the cells keep their columns).
        let col = 1;
        const cells = line.split(this.separator).map((text) => {
          const cell = { text, line: lineNumber, col, endCol: col + text.length };
          col += text.length + 1;
          return cell;
        });
        return cells;
      }
      this.begin(lineNumber, 1);
    }
    for (let i = 0; i < line.length; i++) {
      const ch = line.charAt(i);
      if (this.state === "quoted") {
        if (ch !== '"') {
          this.text += ch;
        } else if (line.charAt(i + 1) === '"') {
          this.text += '"';
          i++;
        } else {
          this.state = "closed";
        }
      } else if (ch === this.separator) {
        this.cells.push(this.cell(i + 1));
        this.begin(lineNumber, i + 2);
      } else if (this.state === "closed") {
        if (ch !== " " && ch !== "\t") {
          return { line: lineNumber, column: i + 1, message: "text after the closing quote of a field" };
        }
      } else if (ch !== '"') {
        this.text += ch;
      } else if (this.text.trim() === "") {
        this.text = "";
        this.startCol = i + 1;
        this.state = "quoted";
      } else {
        return {
          line: lineNumber,
          column: i + 1,
          message: 'a quote inside an unquoted field (quote the whole field and write " as "")',
        };
      }
    }
    if (this.state === "quoted") {
      return "open";
    }
    this.cells.push(this.cell(line.length + 1));
    return this.cells;
  }

  /** The error for a quoted field still open (at the end of the file), or undefined. */
  unclosed(): CsvRowError | undefined {
    const message = "a quoted field is not closed before the end of the file";
    return this.state === "quoted" ? { line: this.startLine, column: this.startCol, message } : undefined;
  }

  private begin(line: number, col: number): void {
    this.text = "";
    this.startLine = line;
    this.startCol = col;
    this.state = "plain";
  }

  private cell(endCol: number): Cell {
    return { text: this.text, line: this.startLine, col: this.startCol, endCol };
  }
}

/**
 * Physical lines of the stream, one batch per chunk, without their LF or CRLF. A line longer than
 * maxLength comes out as OVERLONG and its characters are dropped as they arrive.
 */
export async function* lineBatches(
  chunks: AsyncIterable<string | Buffer>,
  maxLength: number,
): AsyncGenerator<(string | typeof OVERLONG)[]> {
  let pending = "";
  let skipping = false;
  for await (const chunk of chunks) {
    const text = String(chunk);
    const batch: (string | typeof OVERLONG)[] = [];
    let start = 0;
    for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
      const line = skipping ? "" : pending + text.slice(start, end);
      batch.push(skipping || line.length > maxLength + 1 ? OVERLONG : withoutCr(line));
      pending = "";
      skipping = false;
      start = end + 1;
    }
    if (!skipping) {
      pending += text.slice(start);
      if (pending.length > maxLength + 1) {
        pending = "";
        skipping = true;
      }
    }
    yield batch;
  }
  if (skipping || pending !== "") {
    yield [skipping ? OVERLONG : withoutCr(pending)];
  }
}

function withoutCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}
