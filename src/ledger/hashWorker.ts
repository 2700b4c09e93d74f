/**
 * The chain-hash checks of `ledger verify` on a second thread (issue #5 item 4: >= 300,000
 * records/s on a 2-core gateway). Per record, the SHA-256 and its call overhead cost about as
 * much as everything else the walk does on the main thread together (LevelDB's conversion of each
 * record to a string, the form and link checks), so the main thread copies each entry's text into
 * shared memory and a worker checks hash == SHA-256(prev || canonical) while the main thread
 * goes on with the next entries. Two slots of about 1 MiB alternate: the main thread fills one
 * while the worker checks the other, so memory stays bounded whatever the ledger's size.
 *
 * Layout of a record in a slot: 32 bytes the worker fills with prev (decoded from the text),
 * then the entry's UTF-8 text. The worker cuts the text at `,"hash":` (75 bytes from its end,
 * ASCII), puts `}` there, hashes prev || canonical in place and compares with the stated hash.
 * Results per record: 0 sound, 1 hash mismatch, 2 prev not lowercase hex (malformed).
 *
 * The worker is an eval'd CommonJS script of a few lines, so it runs the same from the compiled
 * CLI and from the TypeScript sources under test, with no file to find.
 */
import { Worker } from "node:worker_threads";

export const HASH_SOUND = 0;
export const HASH_MISMATCH = 1;
export const HASH_PREV_NOT_HEX = 2;

/** Called with each entry whose hash check failed, in the order the entries were added. */
export type HashFailure = (seq: number, result: typeof HASH_MISMATCH | typeof HASH_PREV_NOT_HEX) => void;

const SLOTS = 2;
const SLOT_BYTES = 1024 * 1024;
const SLOT_RECORDS = 4096;
const PREV_BYTES = 32;

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { hash } = require("node:crypto");
const input = Buffer.from(workerData.input);
const spans = new Int32Array(workerData.spans);
const results = new Uint8Array(workerData.results);
const handoff = new Int32Array(workerData.handoff);
const HEX = new Uint8Array(256).fill(255);
for (let i = 0; i < 16; i++) HEX["0123456789abcdef".charCodeAt(i)] = i;
parentPort.on("message", ({ slot, count }) => {
  Atomics.load(handoff, slot);
  const first = slot * ${SLOT_RECORDS};
  for (let i = first; i < first + count; i++) {
    const start = spans[2 * i];
    const end = start + spans[2 * i + 1] - 75;
    let result = 0;
    for (let j = 0, h = end - 65; j < 32; j++, h += 2) {
      const high = HEX[input[h]], low = HEX[input[h + 1]];
      if ((high | low) > 15) { result = 2; break; }
      input[start + j] = (high << 4) | low;
    }
    if (result === 0) {
      input[end] = 0x7d;
      const digest = hash("sha256", input.subarray(start, end + 1), "hex");
      result = input.toString("latin1", end + 9, end + 73) === digest ? 0 : 1;
    }
    results[i] = result;
  }
  Atomics.add(handoff, slot, 1);
  parentPort.postMessage(slot);
});
`;

export class HashWorker {
  readonly #onFailure: HashFailure;
  readonly #input = new SharedArrayBuffer(SLOTS * SLOT_BYTES);
  readonly #bytes = Buffer.from(this.#input);
  readonly #spans = new Int32Array(new SharedArrayBuffer(SLOTS * SLOT_RECORDS * 2 * 4));
  readonly #results = new Uint8Array(new SharedArrayBuffer(SLOTS * SLOT_RECORDS));
  /**
   * One counter per slot, bumped with Atomics by whichever side hands the slot over, so that the
   * plain writes before a hand-over are visible after it (the JavaScript memory model orders
   * them through the atomic, not through postMessage).
   */
  readonly #handoff = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  /** The seq of each record in each slot, kept here: the worker needs only bytes. */
  readonly #seqs = new Float64Array(SLOTS * SLOT_RECORDS);
  readonly #worker: Worker;
  readonly #inFlight: (Promise<void> | undefined)[] = new Array<Promise<void> | undefined>(SLOTS);
  readonly #done: ((error?: Error) => void)[] = [];
  #slot = 0;
  #count = 0;
  #offset = 0;
  #failed: Error | undefined;

  constructor(onFailure: HashFailure) {
    this.#onFailure = onFailure;
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        input: this.#input,
        spans: this.#spans.buffer,
        results: this.#results.buffer,
        handoff: this.#handoff.buffer,
      },
    });
    this.#worker.on("message", (slot: number) => this.#done[slot]?.());
    this.#worker.on("error", (error: Error) => this.#fail(error));
    this.#worker.on("exit", (code) => this.#fail(new Error(`the hash worker exited (code ${code})`)));
  }

  /**
   * Whether an entry of this length fits a slot; a longer one is hashed by the caller. UTF-8 takes
   * at most 3 bytes per UTF-16 code unit.
   */
  static fits(text: string): boolean {
    return PREV_BYTES + text.length * 3 <= SLOT_BYTES;
  }

  /**
   * Queues the check of the entry at `seq` (fits() must hold). Returns a promise only when the
   * current slot is full: it resolves once the other slot is checked and free (back-pressure).
   */
  add(seq: number, text: string): Promise<void> | undefined {
    if (this.#offset + PREV_BYTES + text.length * 3 > SLOT_BYTES || this.#count === SLOT_RECORDS) {
      return this.#switchSlots().then(() => {
        this.#put(seq, text);
      });
    }
    this.#put(seq, text);
    return undefined;
  }

  /** Waits for every queued check; failures have been reported when it resolves. */
  async flush(): Promise<void> {
    if (this.#count > 0) {
      await this.#switchSlots();
    }
    await Promise.all(this.#inFlight.map((flight) => flight ?? Promise.resolve()));
  }

  async close(): Promise<void> {
    this.#worker.removeAllListeners("exit");
    await this.#worker.terminate();
  }

  #put(seq: number, text: string): void {
    const base = this.#slot * SLOT_BYTES;
    const start = base + this.#offset;
    const written = this.#bytes.write(text, start + PREV_BYTES, "utf8");
    const index = this.#slot * SLOT_RECORDS + this.#count;
    this.#spans[2 * index] = start;
    this.#spans[2 * index + 1] = PREV_BYTES + written;
    this.#seqs[index] = seq;
    this.#offset += PREV_BYTES + written;
    this.#count++;
  }

  /** Hands the filled slot to the worker and makes the other one current, once it is free. */
  async #switchSlots(): Promise<void> {
    const slot = this.#slot;
    const count = this.#count;
    this.#inFlight[slot] = this.#check(slot, count);
    this.#slot = (slot + 1) % SLOTS;
    this.#count = 0;
    this.#offset = 0;
    await this.#inFlight[this.#slot];
  }

  #check(slot: number, count: number): Promise<void> {
    if (this.#failed !== undefined) {
      return Promise.reject(this.#failed);
    }
    const done = new Promise<void>((resolve, reject) => {
      this.#done[slot] = (error) => (error === undefined ? resolve() : reject(error));
    }).then(() => {
      Atomics.load(this.#handoff, slot);
      this.#inFlight[slot] = undefined;
      const first = slot * SLOT_RECORDS;
      for (let i = first; i < first + count; i++) {
        const result = this.#results[i];
        if (result === HASH_MISMATCH || result === HASH_PREV_NOT_HEX) {
          this.#onFailure(this.#seqs[i] ?? 0, result);
        }
      }
    });
    // Awaited later (by the next slot switch or flush); marked handled now so that a worker
    // failure meanwhile is not an unhandled rejection.
    done.catch(() => undefined);
    Atomics.add(this.#handoff, slot, 1);
    this.#worker.postMessage({ slot, count });
    return done;
  }

  #fail(error: Error): void {
    this.#failed ??= error;
    for (const done of this.#done) {
      done?.(error);
    }
  }
}
