/**
 * The sensor behind the pty (issue #5 must-shows): writes key-value lines such as
 * `T=21.5 P=1013.2 N=17` to the peer side of a socat pty pair at a steady rate, in one write per
 * 10 ms tick. N is the line's number from 1, so every line differs and, with no deadband, each
 * line is one sample and one ledger record.
 */
import { type FileHandle, open } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";

const TICK_MS = 10;

export class LineFeeder {
  readonly #file: FileHandle;
  #sent = 0;
  #running: Promise<void> | undefined;
  #stopRequested = false;

  private constructor(file: FileHandle) {
    this.#file = file;
  }

  /**
   * Opens the peer side and writes one line feed: the daemon's framer drops everything up to the
   * first delimiter after it opens the port (a reopen may start mid-line), so line 1 is whole.
   */
  static async open(peerPath: string): Promise<LineFeeder> {
    const file = await open(peerPath, "w");
    await file.write("\n");
    return new LineFeeder(file);
  }

  /** Lines written so far. */
  get sent(): number {
    return this.#sent;
  }

  /** Writes at `linesPerSecond` until `total` lines have been sent in all, or stop(). */
  start(linesPerSecond: number, total = Number.POSITIVE_INFINITY): void {
    if (this.#running !== undefined) {
      throw new Error("the feeder is already running");
    }
    this.#stopRequested = false;
    this.#running = this.#run(linesPerSecond, total).finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves once the current run has written its last line. */
  async finished(): Promise<void> {
    await this.#running;
  }

  async stop(): Promise<void> {
    this.#stopRequested = true;
    await this.#running;
  }

  async close(): Promise<void> {
    await this.stop();
    await this.#file.close();
  }

  /** Resources calls this at the end of a test. */
  kill(): Promise<void> {
    return this.close().catch(() => undefined);
  }

  async #run(linesPerSecond: number, total: number): Promise<void> {
    const startedAt = performance.now();
    const base = this.#sent;
    while (!this.#stopRequested && this.#sent < total) {
      const due = Math.min(
        total,
        base + Math.floor(((performance.now() - startedAt) / 1000) * linesPerSecond),
      );
      if (due > this.#sent) {
        let text = "";
        for (let n = this.#sent + 1; n <= due; n++) {
          text += `T=21.5 P=1013.2 N=${n}\n`;
        }
        await this.#file.write(text);
        this.#sent = due;
      }
      await delay(TICK_MS);
    }
  }
}
