import { describe, expect, it } from "vitest";
import { createProgress, type ProgressStream } from "../../src/commands/progressDisplay.js";

interface FakeStream extends ProgressStream {
  readonly writes: string[];
}

function fakeStream(isTTY: boolean, columns?: number): FakeStream {
  const writes: string[] = [];
  return {
    isTTY,
    ...(columns === undefined ? {} : { columns }),
    writes,
    write: (chunk: string) => writes.push(chunk),
  };
}

/** A clock the test moves by hand. */
function manualClock() {
  let time = 0;
  return {
    now: () => time,
    advance: (ms: number) => {
      time += ms;
    },
  };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: checking that none are written
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe("progress on a TTY", () => {
  it("redraws one line in place with \\r, the bar, the percentage and the status, clearing the rest", () => {
    const stream = fakeStream(true, 80);
    const progress = createProgress(stream, { now: manualClock().now });
    progress.update("training", 0.42, "4,200 / 10,000 rows");
    expect(stream.writes).toEqual([
      `\rtraining [############..................]  42%  4,200 / 10,000 rows\x1b[K`,
    ]);
  });

  it("redraws at most once per 100 ms for one label, but at once for a new label or 100 %", () => {
    const stream = fakeStream(true, 80);
    const clock = manualClock();
    const progress = createProgress(stream, { now: clock.now });
    progress.update("reading", 0.1, "");
    clock.advance(50);
    progress.update("reading", 0.2, "");
    clock.advance(49);
    progress.update("reading", 0.3, "");
    expect(stream.writes).toHaveLength(1);
    clock.advance(1);
    progress.update("reading", 0.4, "");
    expect(stream.writes).toHaveLength(2);
    expect(stream.writes[1]).toContain(" 40%");
    progress.update("reading", 1, "");
    progress.update("fitting", 0, "");
    expect(stream.writes.slice(2)).toEqual([
      `\rreading [${"#".repeat(30)}] 100%\x1b[K`,
      `\rfitting [${".".repeat(30)}]   0%\x1b[K`,
    ]);
  });

  it("fits the line into the terminal width, shortening the status first and then the label", () => {
    for (const columns of [20, 30, 40, 60, 200]) {
      const stream = fakeStream(true, columns);
      const progress = createProgress(stream, { now: manualClock().now });
      progress.update("isolation forest for press-1", 0.5, "fitting 100 trees on 120,000 feature vectors");
      const line = (stream.writes[0] ?? "").replace("\r", "").replace("\x1b[K", "");
      expect(line.length).toBeLessThanOrEqual(Math.max(columns, 20) - 1);
      expect(line).toMatch(/\[#+\.+\] {2}50%/);
    }
    const narrow = fakeStream(true, 40);
    createProgress(narrow, { now: manualClock().now }).update(
      "training",
      0.5,
      "a long status that cannot fit",
    );
    expect(narrow.writes[0]).toBe("\rtraining [#####.....]  50%  a long sta…\x1b[K");
    const wide = fakeStream(true, 200);
    createProgress(wide, { now: manualClock().now }).update("training", 1, "");
    expect(wide.writes[0]).toBe(`\rtraining [${"#".repeat(30)}] 100%\x1b[K`);
  });

  it("replaces the bar with the done line and starts the next task at once", () => {
    const stream = fakeStream(true, 80);
    const progress = createProgress(stream, { now: manualClock().now });
    progress.update("training", 0.5, "");
    progress.done("trained press-1 in 3.2 s");
    progress.update("training", 0.1, "");
    expect(stream.writes.slice(1)).toEqual([
      "\rtrained press-1 in 3.2 s\x1b[K\n",
      `\rtraining [###...........................]  10%\x1b[K`,
    ]);
  });

  it("on failure leaves the bar at its latest state, even a throttled one, and writes the error below", () => {
    const stream = fakeStream(true, 80);
    const progress = createProgress(stream, { now: manualClock().now });
    progress.update("training", 0.5, "");
    progress.update("training", 0.7, "row 7,000"); // throttled
    progress.fail("training failed: out of memory");
    expect(stream.writes.slice(1)).toEqual([
      `\rtraining [#####################.........]  70%  row 7,000\x1b[K`,
      "\ntraining failed: out of memory\n",
    ]);
  });

  it("clamps the fraction and removes control characters from what it draws", () => {
    const stream = fakeStream(true, 80);
    const progress = createProgress(stream, { now: manualClock().now });
    progress.update("a\rb", Number.NaN, "x\x1b[2Jy");
    progress.update("c", 7, "");
    expect(stream.writes[0]).toBe(`\ra b [${".".repeat(30)}]   0%  x [2Jy\x1b[K`);
    expect(stream.writes[1]).toContain("100%");
  });
});

describe("progress in a log", () => {
  it("writes one plain line per 10 % step and one at 100 %, with no control characters", () => {
    const stream = fakeStream(false);
    const progress = createProgress(stream);
    for (let i = 0; i <= 200; i++) {
      progress.update("reading history", i / 200, `${i * 50} rows`);
    }
    progress.done("read 10,000 rows");
    expect(stream.writes).toEqual([
      "reading history   0%  0 rows\n",
      "reading history  10%  1000 rows\n",
      "reading history  20%  2000 rows\n",
      "reading history  30%  3000 rows\n",
      "reading history  40%  4000 rows\n",
      "reading history  50%  5000 rows\n",
      "reading history  60%  6000 rows\n",
      "reading history  70%  7000 rows\n",
      "reading history  80%  8000 rows\n",
      "reading history  90%  9000 rows\n",
      "reading history 100%  10000 rows\n",
      "read 10,000 rows\n",
    ]);
    expect(stream.writes.some((line) => CONTROL.test(line))).toBe(false);
  });

  it("keeps the steps of each label apart and logs a jump once", () => {
    const stream = fakeStream(false);
    const progress = createProgress(stream);
    progress.update("reading", 0.05, "");
    progress.update("fitting", 0.05, "");
    progress.update("reading", 0.55, "");
    progress.update("fitting", 0.08, "");
    expect(stream.writes).toEqual(["reading   5%\n", "fitting   5%\n", "reading  55%\n"]);
  });

  it("logs the latest state before a failure, so the log shows where it stopped", () => {
    const stream = fakeStream(false);
    const progress = createProgress(stream);
    progress.update("fitting", 0.3, "tree 30");
    progress.update("fitting", 0.37, "tree 37");
    progress.fail("fitting failed: aborted");
    progress.update("fitting", 0, "again");
    expect(stream.writes).toEqual([
      "fitting  30%  tree 30\n",
      "fitting  37%  tree 37\n",
      "fitting failed: aborted\n",
      "fitting   0%  again\n",
    ]);
  });

  it("writes no control characters whatever the label, status or line hold", () => {
    const stream = fakeStream(false);
    const progress = createProgress(stream);
    progress.update("a\x1b[31mb", 0.5, "c\rd\ne");
    progress.done("done\x07");
    expect(stream.writes).toEqual(["a [31mb  50%  c d e\n", "done \n"]);
  });
});
