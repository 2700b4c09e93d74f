/**
 * What a JSONL store's file already holds, read back at start (issue #7 item 2: dedup across
 * restarts). The file is append-only, so the receiver's memory of it is rebuilt by one streaming
 * pass: per gateway, the seq ranges stored (record lines) or declared lost (the gateway's own gap
 * entries), merged into ranges. From them:
 * - the chain head to resume from: the end of the first range, with that record's hash, so that
 *   records below it that the broker redelivers are duplicates and the next one links to it;
 * - the links (seq, prev, hash) of records stored above the first hole, for the core's state, so
 *   that a hole open when the receiver stopped closes when its records come, with no false gap;
 * - the ranges stored above the first hole, which the store itself recognises as duplicates
 *   should their links no longer be remembered.
 * Memory is bounded: ranges per gateway (a hole each) and the remembered links are capped, the
 * lowest ranges and oldest links going first.
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { ChainHead, StoredLink } from "./receiverState.js";

/** Holes remembered per gateway; past it the lowest ranges merge (what lies between counts as stored). */
export const MAX_RANGES_PER_GATEWAY = 65_536;
/** Record links remembered per gateway while reading: the head's, and those above it. */
const MAX_LINKS_PER_GATEWAY = 65_536;

/** Sorted, disjoint, non-adjacent inclusive seq ranges. */
export class SeqRanges {
  readonly #ranges: [number, number][] = [];

  add(from: number, to: number): void {
    const ranges = this.#ranges;
    // Fast path: appending at or just after the end (records arrive in seq order mostly).
    const last = ranges.at(-1);
    if (last !== undefined && from >= last[0] && from <= last[1] + 1) {
      last[1] = Math.max(last[1], to);
      return;
    }
    if (last === undefined || from > last[1] + 1) {
      ranges.push([from, to]);
    } else {
      let i = 0;
      while (i < ranges.length && (ranges[i] as [number, number])[1] + 1 < from) {
        i++;
      }
      let start = from;
      let end = to;
      let j = i;
      while (j < ranges.length && (ranges[j] as [number, number])[0] <= end + 1) {
        const range = ranges[j] as [number, number];
        start = Math.min(start, range[0]);
        end = Math.max(end, range[1]);
        j++;
      }
      ranges.splice(i, j - i, [start, end]);
    }
    if (ranges.length > MAX_RANGES_PER_GATEWAY) {
      const [first, second] = ranges;
      if (first !== undefined && second !== undefined) {
        ranges.splice(0, 2, [first[0], second[1]]);
      }
    }
  }

  has(seq: number): boolean {
    let low = 0;
    let high = this.#ranges.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const range = this.#ranges[mid] as [number, number];
      if (seq < range[0]) {
        high = mid - 1;
      } else if (seq > range[1]) {
        low = mid + 1;
      } else {
        return true;
      }
    }
    return false;
  }

  get list(): readonly (readonly [number, number])[] {
    return this.#ranges;
  }
}

export interface RestoredGateway {
  readonly head: ChainHead;
  /** Links of records stored above the head, lowest first (those still remembered). */
  readonly linksAbove: readonly StoredLink[];
  /** Stored seqs above the head (beyond its first hole); empty when there is no hole. */
  readonly storedAbove: SeqRanges;
  readonly records: number;
}

export interface RestoredFile {
  readonly gateways: ReadonlyMap<string, RestoredGateway>;
  readonly lines: number;
  /** Lines that were not JSON of this store (counted, skipped). */
  readonly unreadable: number;
  /** Bytes of a last line without its line feed (a write cut short), cut off before appending. */
  readonly tornBytes: number;
}

interface Reading {
  readonly stored: SeqRanges;
  readonly lost: SeqRanges;
  readonly links: Map<number, StoredLink>;
  records: number;
}

/** Reads the file (absent: nothing stored yet) and cuts a torn last line off so appends stay whole lines. */
export async function restoreJsonlFile(path: string): Promise<RestoredFile> {
  const tornBytes = await cutTornTail(path);
  const readings = new Map<string, Reading>();
  let lines = 0;
  let unreadable = 0;
  const input = createReadStream(path, { encoding: "utf8" });
  const missing = new Promise<boolean>((resolve) => {
    input.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ENOENT"));
    input.once("open", () => resolve(false));
  });
  if (await missing) {
    return { gateways: new Map(), lines: 0, unreadable: 0, tornBytes: 0 };
  }
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (line === "") {
      continue;
    }
    lines++;
    if (!readLine(line, readings)) {
      unreadable++;
    }
  }
  const gateways = new Map<string, RestoredGateway>();
  for (const [gateway, reading] of readings) {
    gateways.set(gateway, restoredOf(reading));
  }
  return { gateways, lines, unreadable, tornBytes };
}

function readLine(line: string, readings: Map<string, Reading>): boolean {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return false;
  }
  const item = value as { type?: unknown; gateway?: unknown; seq?: unknown; prev?: unknown; hash?: unknown };
  if (typeof item?.gateway !== "string") {
    return item?.type === "rejected";
  }
  let reading = readings.get(item.gateway);
  if (reading === undefined) {
    reading = { stored: new SeqRanges(), lost: new SeqRanges(), links: new Map(), records: 0 };
    readings.set(item.gateway, reading);
  }
  if (item.type === "record" && isSeq(item.seq) && typeof item.hash === "string") {
    reading.stored.add(item.seq, item.seq);
    reading.records++;
    // Without prev (a line from before it was written) the link cannot be checked: not remembered.
    if (typeof item.prev === "string") {
      reading.links.delete(item.seq);
      reading.links.set(item.seq, { seq: item.seq, prev: item.prev, hash: item.hash });
      if (reading.links.size > MAX_LINKS_PER_GATEWAY) {
        const oldest = reading.links.keys().next();
        if (oldest.done !== true) {
          reading.links.delete(oldest.value);
        }
      }
    }
    return true;
  }
  const gap = value as { state?: unknown; fromSeq?: unknown; toSeq?: unknown };
  if (item.type === "gap" && gap.state === "lost" && isSeq(gap.fromSeq) && isSeq(gap.toSeq)) {
    reading.lost.add(gap.fromSeq, gap.toSeq);
  }
  return ["gap", "tamper", "rejected"].includes(String(item.type));
}

function restoredOf(reading: Reading): RestoredGateway {
  const known = new SeqRanges();
  for (const [from, to] of [...reading.stored.list, ...reading.lost.list]) {
    known.add(from, to);
  }
  const first = known.list[0];
  const headSeq = first?.[1] ?? 0;
  const storedAbove = new SeqRanges();
  for (const [from, to] of reading.stored.list) {
    if (to > headSeq) {
      storedAbove.add(Math.max(from, headSeq + 1), to);
    }
  }
  const linksAbove = [...reading.links.values()]
    .filter((link) => link.seq > headSeq)
    .sort((a, b) => a.seq - b.seq);
  return {
    head: { seq: headSeq, hash: reading.links.get(headSeq)?.hash },
    linksAbove,
    storedAbove,
    records: reading.records,
  };
}

function isSeq(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

/** Truncates the file after its last line feed; returns the bytes cut (0 when whole or absent). */
async function cutTornTail(path: string): Promise<number> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r+");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return 0;
    }
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const chunk = Buffer.alloc(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const { bytesRead } = await handle.read(chunk, 0, end - start, start);
      const at = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (at >= 0) {
        const keep = start + at + 1;
        if (keep < size) {
          await handle.truncate(keep);
          await handle.sync();
        }
        return size - keep;
      }
      end = start;
    }
    if (size > 0) {
      await handle.truncate(0);
      await handle.sync();
    }
    return size;
  } finally {
    await handle.close();
  }
}
