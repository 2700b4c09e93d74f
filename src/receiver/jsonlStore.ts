/**
 * The JSON-lines store (issue #7 item 2, "otherwise as JSON lines to a file or stdout"): one line
 * per accepted record (decrypted, its body parsed) and per gap, tamper and rejection event, in the
 * order decided. A file is appended to and fsynced before write() resolves, so that what the
 * receiver acknowledges to the broker is on disk; stdout is written and drained (a pipe has no
 * fsync: its reader owns durability).
 *
 * Dedup across restarts: at start the file is read back (jsonlRestore.ts) and each gateway's chain
 * head handed to the core (`restored`), which then recognises redelivered records below it; seqs
 * stored above a hole are recognised here and returned as duplicates, not written again. Duplicates
 * found by the core are counted, not written. One receiver per file: a shared subscription group
 * needs PostgreSQL (docs/receiver.md).
 */
import { type FileHandle, open } from "node:fs/promises";
import type { Writable } from "node:stream";
import { type RestoredFile, restoreJsonlFile } from "./jsonlRestore.js";
import type { ReceiverOutcome } from "./outcomes.js";
import type { RecordStore } from "./store/recordStore.js";

export const STDOUT_PATH = "-";

export interface JsonlStoreOptions {
  /** A file path, or "-" for stdout. */
  readonly path: string;
  /** Tests only: where "-" writes. */
  readonly stdout?: Writable;
}

export class JsonlStore implements RecordStore {
  readonly #path: string;
  readonly #stdout: Writable;
  #file: FileHandle | undefined;
  #restored: RestoredFile | undefined;
  #linesWritten = 0;

  constructor(options: JsonlStoreOptions) {
    this.#path = options.path;
    this.#stdout = options.stdout ?? process.stdout;
  }

  /** What the file held at start (empty for stdout): for the core's chain heads and the log. */
  get restored(): RestoredFile | undefined {
    return this.#restored;
  }

  get linesWritten(): number {
    return this.#linesWritten;
  }

  async start(): Promise<void> {
    if (this.#path === STDOUT_PATH) {
      this.#restored = { gateways: new Map(), lines: 0, unreadable: 0, tornBytes: 0 };
      return;
    }
    this.#restored = await restoreJsonlFile(this.#path);
    this.#file = await open(this.#path, "a", 0o640);
  }

  async write(outcomes: readonly ReceiverOutcome[]): Promise<readonly ReceiverOutcome[]> {
    const found: ReceiverOutcome[] = [];
    let text = "";
    let lines = 0;
    for (const outcome of outcomes) {
      if (outcome.type === "duplicate") {
        continue;
      }
      if (outcome.type === "accepted" && this.#storedBefore(outcome.gateway, outcome.seq)) {
        found.push({ type: "duplicate", gateway: outcome.gateway, seq: outcome.seq });
        continue;
      }
      text += `${JSON.stringify(lineOf(outcome))}\n`;
      lines++;
    }
    if (text === "") {
      return found;
    }
    if (this.#path === STDOUT_PATH) {
      await writeStream(this.#stdout, text);
    } else {
      const file = this.#file;
      if (file === undefined) {
        throw new Error("the JSONL store is not started");
      }
      await file.appendFile(text, "utf8");
      await file.datasync();
    }
    this.#linesWritten += lines;
    return found;
  }

  async stop(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    if (file !== undefined) {
      await file.datasync();
      await file.close();
    }
  }

  #storedBefore(gateway: string, seq: number): boolean {
    return this.#restored?.gateways.get(gateway)?.storedAbove.has(seq) ?? false;
  }
}

/** One line per outcome; records carry their body parsed (the gateway's own JSON), not its text. */
export function lineOf(outcome: Exclude<ReceiverOutcome, { type: "duplicate" }>): Record<string, unknown> {
  if (outcome.type === "accepted") {
    const { type: _type, body: _body, bodyText, ...record } = outcome;
    return { type: "record", ...record, body: JSON.parse(bodyText) as unknown };
  }
  return { ...outcome };
}

function writeStream(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error === null || error === undefined ? resolve() : reject(error)));
  });
}
