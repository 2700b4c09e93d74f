/**
 * Progress of long commands (issue #6 item 5: "`train` shows a progress bar on a TTY and log lines
 * otherwise"; `backtest` reads long CSVs too). On a terminal: one line redrawn in place,
 * `label [#####.....]  42%  status`, at most ~10 times a second so a fast loop does not spend its
 * time writing escape codes. Anywhere else (a pipe, journald, CI): plain log lines, one per 10 %
 * step of each label, with no control characters, so the log stays readable and small.
 *
 * Pure output: the caller owns the stream and the clock (injected for tests). A skipped redraw is
 * not replayed by a timer; the next update, done() or fail() shows the latest state.
 */

export interface ProgressStream {
  readonly isTTY?: boolean;
  /** Terminal width; 80 when unknown. */
  readonly columns?: number;
  write(chunk: string): unknown;
}

export interface ProgressOptions {
  /** Monotonic milliseconds; default performance.now(). */
  readonly now?: () => number;
  /** Least time between redraws on a TTY, in ms; default 100 (~10 redraws a second). */
  readonly redrawMs?: number;
}

export interface Progress {
  /** `fraction` is clamped to [0, 1] (NaN counts as 0). */
  update(label: string, fraction: number, status: string): void;
  /** The task finished: `line` replaces the bar (TTY) or is logged. */
  done(line: string): void;
  /** The task failed: the bar stays at its latest state (TTY) or that state is logged, then `line`. */
  fail(line: string): void;
}

interface State {
  readonly label: string;
  readonly fraction: number;
  readonly status: string;
}

const CLEAR_TO_END = "\x1b[K";
const MIN_BAR = 10;
const MAX_BAR = 30;
/** Columns around the bar: " [" + "] " + " 42%". */
const BAR_FRAME = 8;
/** Labels whose logged step is remembered; a train run has a handful. */
const MAX_LABELS = 64;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

export function createProgress(stream: ProgressStream, options: ProgressOptions = {}): Progress {
  const now = options.now ?? (() => performance.now());
  return stream.isTTY === true
    ? new BarProgress(stream, now, options.redrawMs ?? 100)
    : new LogProgress(stream);
}

class BarProgress implements Progress {
  private latest: State | undefined;
  /** What is on screen, undefined when no bar is. */
  private drawn: State | undefined;
  private lastDraw = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly stream: ProgressStream,
    private readonly now: () => number,
    private readonly redrawMs: number,
  ) {}

  update(label: string, fraction: number, status: string): void {
    const state = { label: clean(label), fraction: clamp(fraction), status: clean(status) };
    this.latest = state;
    const time = this.now();
    // A new label or the end of one shows at once; otherwise at most one redraw per redrawMs.
    const due =
      this.drawn?.label !== state.label || state.fraction >= 1 || time - this.lastDraw >= this.redrawMs;
    if (due) {
      this.draw(state, time);
    }
  }

  done(line: string): void {
    this.stream.write(`${this.drawn === undefined ? "" : "\r"}${clean(line)}${CLEAR_TO_END}\n`);
    this.finish();
  }

  fail(line: string): void {
    if (this.latest !== undefined && this.latest !== this.drawn) {
      this.draw(this.latest, this.now());
    }
    this.stream.write(`${this.drawn === undefined ? "" : "\n"}${clean(line)}\n`);
    this.finish();
  }

  private draw(state: State, time: number): void {
    this.stream.write(`\r${barLine(state, this.stream.columns ?? 80)}${CLEAR_TO_END}`);
    this.drawn = state;
    this.lastDraw = time;
  }

  private finish(): void {
    this.latest = undefined;
    this.drawn = undefined;
    this.lastDraw = Number.NEGATIVE_INFINITY;
  }
}

class LogProgress implements Progress {
  /** The last 10 % step logged per label. */
  private readonly steps = new Map<string, number>();
  private latest: State | undefined;
  private latestLogged = false;

  constructor(private readonly stream: ProgressStream) {}

  update(label: string, fraction: number, status: string): void {
    const state = { label: clean(label), fraction: clamp(fraction), status: clean(status) };
    this.latest = state;
    const step = Math.floor(state.fraction * 10);
    if (step <= (this.steps.get(state.label) ?? -1)) {
      this.latestLogged = false;
      return;
    }
    if (!this.steps.has(state.label) && this.steps.size >= MAX_LABELS) {
      const oldest = this.steps.keys().next();
      if (oldest.done !== true) {
        this.steps.delete(oldest.value);
      }
    }
    this.steps.set(state.label, step);
    this.log(state);
  }

  done(line: string): void {
    this.stream.write(`${clean(line)}\n`);
    this.finish();
  }

  fail(line: string): void {
    if (this.latest !== undefined && !this.latestLogged) {
      this.log(this.latest);
    }
    this.stream.write(`${clean(line)}\n`);
    this.finish();
  }

  private log(state: State): void {
    const status = state.status === "" ? "" : `  ${state.status}`;
    this.stream.write(`${state.label} ${percent(state.fraction)}${status}\n`);
    this.latestLogged = true;
  }

  /** The next task starts its steps from 0 again, even under the same label. */
  private finish(): void {
    this.steps.clear();
    this.latest = undefined;
    this.latestLogged = false;
  }
}

/** `label [#####.....]  42%  status`, shortened to fit in columns - 1 (the last column would wrap). */
function barLine(state: State, columns: number): string {
  const width = Math.max(MIN_BAR + BAR_FRAME + 2, Math.floor(columns)) - 1;
  let { label, status } = state;
  const statusRoom = status === "" ? 0 : status.length + 2;
  const barWidth = Math.min(MAX_BAR, Math.max(MIN_BAR, width - label.length - BAR_FRAME - statusRoom));
  // The bar keeps its minimum; the status gives way first, then the label.
  label = shorten(label, width - BAR_FRAME - barWidth);
  status = shorten(status, width - BAR_FRAME - barWidth - label.length - 2);
  const filled = Math.floor(state.fraction * barWidth);
  const bar = `${"#".repeat(filled)}${".".repeat(barWidth - filled)}`;
  return `${label} [${bar}] ${percent(state.fraction)}${status === "" ? "" : `  ${status}`}`;
}

/** " 42%": floored, so 100 % shows only when the work is done. */
function percent(fraction: number): string {
  return `${String(Math.floor(fraction * 100)).padStart(3)}%`;
}

function shorten(text: string, room: number): string {
  if (text.length <= room) {
    return text;
  }
  return room < 2 ? "" : `${text.slice(0, room - 1)}…`;
}

function clamp(fraction: number): number {
  return Number.isNaN(fraction) ? 0 : Math.min(1, Math.max(0, fraction));
}

/** Control characters would break the redrawn line or the log; a space keeps words apart. */
function clean(text: string): string {
  return text.replace(CONTROL_CHARACTERS, " ");
}
