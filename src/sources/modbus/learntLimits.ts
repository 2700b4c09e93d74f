/**
 * What a Modbus device taught the planner, kept for the life of the process (issue #4,
 * FAULTS 8.3 "Exception 01/02/03/04" and "Timeout"). Pure: the poller executes the reads and
 * reports failures here; this answers what to do next and never logs (the poller logs the
 * learnt plan once, from `learntSummary()`, when a result says `learnt: true`).
 *
 * One instance per Modbus link (TCP endpoint or serial line): state is keyed by unit id and
 * table, so units behind one gateway and the four tables of one unit learn independently.
 *
 * - Exception 02 (illegal data address) on a read serving several tags: the device refuses some
 *   address in the range, not necessarily a tag's (libmodbus ILLEGAL DATA ADDRESS block). Bisect:
 *   learn a cut between the two halves of the tags by address and re-plan. A read serving one
 *   tag that still gets 02 makes that tag's range a hole, and the tag is failed with the code.
 *   Cuts whose failing read the new hole explains are dropped, so the plan merges back around
 *   the hole once it is known; cuts left by illegal addresses between tags stay. Each hole costs
 *   O(log n) failed reads; the plan is stable afterwards.
 * - Timeout on a read of more than one register serving several tags: halve the learnt maximum
 *   (floor 1) and re-plan. A single-tag read that times out is the poller's timeout to handle.
 * - Exceptions 01/03/04 and unknown codes: not a planning problem, fail the tags, no retry.
 * - Exceptions 05/06 (busy) and 0A/0B (gateway): the poller's retry policy, not the planner's.
 */
import type { ModbusTable } from "../../config/schema/tags.js";
import {
  type AddressRange,
  type LearntTableLimits,
  maxPerRead,
  type PlanLimits,
  type PlannableTag,
  type PlannedRead,
  planReads,
  planSpans,
  type ReadPlan,
  type TagSpan,
} from "./requestPlanner.js";

export type ReadFailure =
  | { readonly kind: "exception"; readonly code: number }
  | { readonly kind: "timeout" };

export type ReadFailureAction =
  /** Execute these reads instead of the failed one (they serve exactly its tags). */
  | { readonly action: "replan"; readonly reads: ReadPlan; readonly learnt: boolean }
  /** Mark these tags bad with this reason; do not retry. */
  | {
      readonly action: "fail-tags";
      readonly tags: readonly string[];
      readonly reason: string;
      readonly learnt: boolean;
    }
  /** Not a planning problem: the poller's busy/gateway retry or timeout policy applies. */
  | { readonly action: "caller-policy"; readonly reason: string; readonly learnt: false };

/** One (unit, table) with something learnt, for the once-only log line. */
export interface LearntEntry {
  readonly unitId: number;
  readonly table: ModbusTable;
  readonly maxPerRead?: number;
  readonly holes: readonly AddressRange[];
  readonly cuts: readonly number[];
}

const EXCEPTION_REASONS: ReadonlyMap<number, string> = new Map([
  [0x01, "exception 01 (illegal function)"],
  [0x02, "exception 02 (illegal data address)"],
  [0x03, "exception 03 (illegal data value)"],
  [0x04, "exception 04 (server device failure)"],
  [0x05, "exception 05 (acknowledge)"],
  [0x06, "exception 06 (server busy)"],
  [0x0a, "exception 0A (gateway path unavailable)"],
  [0x0b, "exception 0B (gateway target failed to respond)"],
]);
const CALLER_RETRIED = new Set([0x05, 0x06, 0x0a, 0x0b]);

export function exceptionReason(code: number): string {
  const hex = code.toString(16).toUpperCase().padStart(2, "0");
  return EXCEPTION_REASONS.get(code) ?? `exception ${hex}`;
}

/** A cut and the range of the read whose exception 02 made us learn it. */
interface Cut {
  readonly at: number;
  readonly failedRange: AddressRange;
}

interface TableState {
  maxPerRead: number | undefined;
  readonly holes: AddressRange[];
  cuts: Cut[];
}

export class LearntLimits {
  readonly #tables = new Map<string, TableState>();
  readonly #limitsByUnit = new Map<number, PlanLimits>();

  /** Plans one (unit, table, poll group) with everything learnt so far. */
  plan(tags: readonly PlannableTag[], limits: PlanLimits): ReadPlan {
    this.#limitsByUnit.set(limits.unitId, limits);
    const table = tags[0]?.table;
    return table === undefined ? [] : planReads(tags, limits, this.learntFor(limits.unitId, table));
  }

  /** The learnt state of one (unit, table), as planReads takes it. */
  learntFor(unitId: number, table: ModbusTable): LearntTableLimits {
    const state = this.#tables.get(key(unitId, table));
    if (state === undefined) {
      return { holes: [], cuts: [] };
    }
    return { maxPerRead: state.maxPerRead, holes: [...state.holes], cuts: state.cuts.map((cut) => cut.at) };
  }

  /** What to do after `read` (from `plan` or an earlier "replan") failed. */
  onReadFailed(read: PlannedRead, failure: ReadFailure): ReadFailureAction {
    const names = read.tags.map((tag) => tag.name);
    if (failure.kind === "timeout") {
      if (read.count > 1 && read.tags.length > 1) {
        return this.#lowerMax(read);
      }
      return { action: "caller-policy", reason: "timeout", learnt: false };
    }
    const reason = exceptionReason(failure.code);
    if (CALLER_RETRIED.has(failure.code)) {
      return { action: "caller-policy", reason, learnt: false };
    }
    if (failure.code !== 0x02) {
      return { action: "fail-tags", tags: names, reason, learnt: false };
    }
    // Tags that all cover the whole read (two bools of one register) cannot be split apart:
    // the refused address is theirs, as for a single tag.
    if (read.tags.some((tag) => tag.offset > 0 || tag.span < read.count)) {
      return this.#bisect(read);
    }
    return { action: "fail-tags", tags: names, reason, learnt: this.#learnHole(read) };
  }

  /** Everything learnt so far, for the poller's once-only "learnt plan" log line. */
  learntSummary(): LearntEntry[] {
    return [...this.#tables.entries()].map(([tableKey, state]) => {
      const [unit, table] = tableKey.split(":") as [string, ModbusTable];
      return {
        unitId: Number(unit),
        table,
        ...(state.maxPerRead === undefined ? {} : { maxPerRead: state.maxPerRead }),
        holes: [...state.holes],
        cuts: state.cuts.map((cut) => cut.at),
      };
    });
  }

  #lowerMax(read: PlannedRead): ReadFailureAction {
    const state = this.#state(read.unitId, read.table);
    const current = maxPerRead(
      read.table,
      this.#limits(read.unitId),
      this.learntFor(read.unitId, read.table),
    );
    if (read.count > current) {
      // Planned before an earlier timeout lowered the maximum: already explained, just re-plan.
      return { action: "replan", reads: this.#replan(read), learnt: false };
    }
    state.maxPerRead = Math.max(1, Math.floor(read.count / 2));
    return { action: "replan", reads: this.#replan(read), learnt: true };
  }

  #bisect(read: PlannedRead): ReadFailureAction {
    const sorted = spansOf(read).sort((a, b) => a.address - b.address || a.span - b.span);
    const cut = cleanCutNearMiddle(sorted, read);
    this.#state(read.unitId, read.table).cuts.push({
      at: cut,
      failedRange: { start: read.start, end: read.start + read.count },
    });
    return { action: "replan", reads: this.#replan(read), learnt: true };
  }

  #learnHole(read: PlannedRead): boolean {
    const state = this.#state(read.unitId, read.table);
    const hole = { start: read.start, end: read.start + read.count };
    if (state.holes.some((known) => known.start === hole.start && known.end === hole.end)) {
      return false; // planned alone on purpose so that its error is reported each poll
    }
    state.holes.push(hole);
    // The hole explains the 02 of every read that covered it: drop the cuts those left behind.
    state.cuts = state.cuts.filter(
      (cut) => !(cut.failedRange.start <= hole.start && hole.end <= cut.failedRange.end),
    );
    return true;
  }

  #replan(read: PlannedRead): ReadPlan {
    return planSpans(
      spansOf(read),
      read.table,
      this.#limits(read.unitId),
      this.learntFor(read.unitId, read.table),
    );
  }

  #limits(unitId: number): PlanLimits {
    const limits = this.#limitsByUnit.get(unitId);
    if (limits === undefined) {
      throw new RangeError(`LearntLimits: unit ${unitId} was never planned here`);
    }
    return limits;
  }

  #state(unitId: number, table: ModbusTable): TableState {
    const tableKey = key(unitId, table);
    let state = this.#tables.get(tableKey);
    if (state === undefined) {
      state = { maxPerRead: undefined, holes: [], cuts: [] };
      this.#tables.set(tableKey, state);
    }
    return state;
  }
}

function key(unitId: number, table: ModbusTable): string {
  return `${unitId}:${table}`;
}

function spansOf(read: PlannedRead): TagSpan[] {
  return read.tags.map((tag) => ({ name: tag.name, address: read.start + tag.offset, span: tag.span }));
}

/**
 * The address splitting the tags into two halves, preferring a split where no tag of the left
 * half reaches past the cut (so no tag straddles it and none is forced alone), nearest the
 * middle. Without one (a chain of overlapping tags) any address strictly inside the read that
 * is not its start still makes progress: the failed read straddles it, so it cannot come back.
 * The caller guarantees that not every tag covers the whole read.
 */
function cleanCutNearMiddle(sorted: readonly TagSpan[], read: PlannedRead): number {
  const middle = Math.floor(sorted.length / 2);
  let best: { at: number; distance: number } | undefined;
  let reach = Number.NEGATIVE_INFINITY;
  for (let i = 1; i < sorted.length; i++) {
    const left = sorted[i - 1];
    const right = sorted[i];
    if (left === undefined || right === undefined) {
      continue;
    }
    reach = Math.max(reach, left.address + left.span);
    const distance = Math.abs(i - middle);
    if (reach <= right.address && (best === undefined || distance < best.distance)) {
      best = { at: right.address, distance };
    }
  }
  if (best !== undefined) {
    return best.at;
  }
  const middleAddress = sorted[middle]?.address ?? read.start;
  const laterAddress = sorted.find((tag) => tag.address > read.start)?.address;
  return middleAddress > read.start ? middleAddress : (laterAddress ?? read.start + 1);
}
