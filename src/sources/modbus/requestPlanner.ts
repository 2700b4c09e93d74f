/**
 * Request planner (issue #4, FAULTS 8.3): coalesces the tags of one unit, table and poll group
 * into the fewest Modbus reads within the protocol limits (125 registers, 2000 bits), the
 * device's maxGap, and whatever the device has taught us (learntLimits.ts). Pure: no I/O.
 *
 * Model. A tag occupies [address, address + span): span is registerCount(type, length) on a
 * register table and 1 on a bit table. Tags may share or overlap addresses (two bools of one
 * register). A read [start, start + count) serves a set of tags, each lying wholly inside it
 * (a tag is never split). A read serving one tag is always allowed. A read serving several tags
 * must keep count <= max, must not leave a run of more than maxGap addresses that none of its
 * tags uses, must not touch a learnt hole, and must not straddle a learnt cut (start < cut <
 * end). A tag that cannot share any read (it touches a hole, straddles a cut or is wider than
 * a learnt max) is "forced": it is planned alone, so its own error is reported against it.
 *
 * Optimality. Sort the other tags by start. The greedy sweep opens a read at the first tag not
 * yet served and adds the following tags while the read stays allowed. Maximum ends grow
 * strictly from one greedy read to the next, so every tag before the first tag f of a greedy
 * read ends at or before M, the end of the previous read; that read was closed at f because
 * either f.end > (previous first tag).start + max, or the addresses [M, f.start) hold a gap
 * longer than maxGap, a hole or a cut. Either way no allowed read can serve f together with
 * any earlier tag, so the first tags of the greedy reads need pairwise distinct reads in any
 * plan: greedy's count is a lower bound and greedy attains it. Being allowed is monotone when a
 * read is extended to the right (its range only grows and a gap can only be filled by a tag
 * that starts inside it), so the dynamic programme below, which tries every split of the sorted
 * tags into consecutive runs, contains the greedy plan, reaches the minimum number of reads and
 * among those picks the fewest addresses read. The property test checks both against a
 * brute force over all partitions (test/sources/modbus/requestPlanner.optimality.test.ts).
 */
import type { ModbusTable, RegisterType } from "../../config/schema/tags.js";
import { registerCount } from "../../config/schema/tags.js";

/** The part of a configured tag the planner needs (a normalised ModbusTagConfig fits). */
export interface PlannableTag {
  readonly name: string;
  readonly table: ModbusTable;
  readonly address: number;
  readonly type: RegisterType;
  readonly length?: number | undefined;
}

/** The device settings that bound a read (a ModbusDeviceConfig fits). */
export interface PlanLimits {
  readonly unitId: number;
  readonly maxGap: number;
  readonly maxRegistersPerRead: number;
  readonly maxBitsPerRead: number;
}

/** Half-open address range [start, end). */
export interface AddressRange {
  readonly start: number;
  readonly end: number;
}

/** What the device taught us about one (unit, table); see learntLimits.ts. */
export interface LearntTableLimits {
  /** Largest read the device answers in time, when lower than the configured maximum. */
  readonly maxPerRead?: number | undefined;
  /** Ranges the device refuses with exception 02 when read as part of a larger read. */
  readonly holes: readonly AddressRange[];
  /** Addresses a multi-tag read must not straddle (left by bisecting on exception 02). */
  readonly cuts: readonly number[];
}

/** A tag as served by a read: the decoder finds it at registers (or bits) [offset, offset + span). */
export interface ServedTag {
  readonly name: string;
  readonly offset: number;
  readonly span: number;
}

/** One request on the wire: read `count` registers or bits of `table` from `start`. */
export interface PlannedRead {
  readonly unitId: number;
  readonly table: ModbusTable;
  readonly start: number;
  readonly count: number;
  readonly tags: readonly ServedTag[];
}

export type ReadPlan = readonly PlannedRead[];

/** A tag reduced to what planning looks at. */
export interface TagSpan {
  readonly name: string;
  readonly address: number;
  readonly span: number;
}

const LAST_ADDRESS = 65_535;
const NOTHING_LEARNT: LearntTableLimits = { holes: [], cuts: [] };

export function isBitTable(table: ModbusTable): boolean {
  return table === "coil" || table === "discrete";
}

/** Addresses a tag occupies in its table. */
export function tagSpan(tag: PlannableTag): number {
  return isBitTable(tag.table) ? 1 : registerCount(tag.type, tag.length);
}

/** The largest multi-tag read allowed on this table, the configured maximum lowered by learning. */
export function maxPerRead(table: ModbusTable, limits: PlanLimits, learnt: LearntTableLimits): number {
  const configured = isBitTable(table) ? limits.maxBitsPerRead : limits.maxRegistersPerRead;
  return Math.min(configured, learnt.maxPerRead ?? configured);
}

/**
 * Plans the reads for the tags of one unit, table and poll group. Reads come out sorted by
 * start address; every tag is served by exactly one read.
 */
export function planReads(
  tags: readonly PlannableTag[],
  limits: PlanLimits,
  learnt: LearntTableLimits = NOTHING_LEARNT,
): ReadPlan {
  const first = tags[0];
  if (first === undefined) {
    return [];
  }
  const table = first.table;
  const spans = tags.map((tag) => {
    if (tag.table !== table) {
      throw new RangeError(`planReads: tag ${tag.name} is on ${tag.table}, not ${table}`);
    }
    return { name: tag.name, address: tag.address, span: tagSpan(tag) };
  });
  return planSpans(spans, table, limits, learnt);
}

/** planReads on tags already reduced to spans (used again when re-planning a failed read). */
export function planSpans(
  tags: readonly TagSpan[],
  table: ModbusTable,
  limits: PlanLimits,
  learnt: LearntTableLimits,
): ReadPlan {
  const max = maxPerRead(table, limits, learnt);
  const forced: TagSpan[] = [];
  const sharable: TagSpan[] = [];
  for (const tag of tags) {
    if (tag.address < 0 || tag.span < 1 || tag.address + tag.span - 1 > LAST_ADDRESS) {
      // Config validation rejects these (FAULTS 8.3 "address overflow"); never put one on the wire.
      throw new RangeError(`planReads: tag ${tag.name} spans beyond address ${LAST_ADDRESS}`);
    }
    const range = { start: tag.address, end: tag.address + tag.span };
    (isForcedAlone(range, max, learnt) ? forced : sharable).push(tag);
  }
  sharable.sort(byAddress);
  const groups = [...forced.map((tag) => [tag]), ...coalesce(sharable, max, limits.maxGap, learnt)];
  return groups
    .map((group) => toRead(group, limits.unitId, table))
    .sort((a, b) => a.start - b.start || a.count - b.count);
}

function isForcedAlone(range: AddressRange, max: number, learnt: LearntTableLimits): boolean {
  return range.end - range.start > max || touchesLearnt(range, learnt);
}

/** Whether a range touches a hole or straddles a cut, which a multi-tag read must not. */
function touchesLearnt(range: AddressRange, learnt: LearntTableLimits): boolean {
  return (
    learnt.holes.some((hole) => hole.start < range.end && range.start < hole.end) ||
    learnt.cuts.some((cut) => range.start < cut && cut < range.end)
  );
}

function byAddress(a: TagSpan, b: TagSpan): number {
  return a.address - b.address || a.span - b.span || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

interface Cost {
  readonly reads: number;
  readonly addresses: number;
}

/**
 * Splits tags sorted by address into consecutive runs, each one allowed read, minimising the
 * number of reads and then the addresses read (see the optimality argument at the top).
 * O(n * w) for w tags per read window.
 */
function coalesce(
  sorted: readonly TagSpan[],
  max: number,
  maxGap: number,
  learnt: LearntTableLimits,
): TagSpan[][] {
  const n = sorted.length;
  const best: Cost[] = new Array<Cost>(n + 1);
  const runEnd: number[] = new Array<number>(n).fill(n);
  best[n] = { reads: 0, addresses: 0 };
  for (let i = n - 1; i >= 0; i--) {
    const head = at(sorted, i);
    let end = head.address + head.span;
    let chosen: Cost | undefined;
    for (let j = i; j < n; j++) {
      const tag = at(sorted, j);
      if (j > i) {
        const grown = Math.max(end, tag.address + tag.span);
        const range = { start: head.address, end: grown };
        if (tag.address - end > maxGap || grown - head.address > max || touchesLearnt(range, learnt)) {
          break; // monotone: no later tag can make this run allowed again
        }
        end = grown;
      }
      const rest = at(best, j + 1);
      const cost = { reads: rest.reads + 1, addresses: rest.addresses + (end - head.address) };
      if (
        chosen === undefined ||
        cost.reads < chosen.reads ||
        (cost.reads === chosen.reads && cost.addresses <= chosen.addresses)
      ) {
        // On a tie the longer first run wins, so equal plans fill reads left to right.

        chosen = cost;
        runEnd[i] = j + 1;
      }
    }
    best[i] = chosen ?? { reads: Number.POSITIVE_INFINITY, addresses: 0 };
  }
  const groups: TagSpan[][] = [];
  for (let i = 0; i < n; i = at(runEnd, i)) {
    groups.push(sorted.slice(i, at(runEnd, i)));
  }
  return groups;
}

function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) {
    throw new RangeError(`unreachable: index ${index} of ${items.length}`);
  }
  return item;
}

function toRead(group: readonly TagSpan[], unitId: number, table: ModbusTable): PlannedRead {
  const start = Math.min(...group.map((tag) => tag.address));
  const end = Math.max(...group.map((tag) => tag.address + tag.span));
  const tags = group.map((tag) => ({ name: tag.name, offset: tag.address - start, span: tag.span }));
  return { unitId, table, start, count: end - start, tags };
}

/**
 * One line per read for `poll --explain`, e.g.
 * "holding 100..131 (32 registers): motor_current@100, dc_bus_voltage@102".
 */
export function describePlan(plan: ReadPlan): string[] {
  return plan.map((read) => {
    const unit = isBitTable(read.table)
      ? read.count === 1
        ? "bit"
        : "bits"
      : read.count === 1
        ? "register"
        : "registers";
    const tags = read.tags.map((tag) => `${tag.name}@${read.start + tag.offset}`).join(", ");
    return `${read.table} ${read.start}..${read.start + read.count - 1} (${read.count} ${unit}): ${tags}`;
  });
}
