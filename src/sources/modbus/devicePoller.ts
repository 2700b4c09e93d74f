/**
 * What polling one Modbus device means (issue #4 items 2-4, FAULTS 8.3): plan each poll group's
 * reads with what the device has taught us, interpret every read result, decode the tags, and
 * hand the finished cycle to the publish filter. The bus scheduler decides when reads go out;
 * this decides what a result means:
 *
 * - data: decode each served tag (its own order, scale, offset; NaN/±Inf → bad).
 * - exception 05/06 (acknowledge, busy): retry after busyRetryDelay, at most busyRetries times
 *   (Telegraf busy_retries); the wait does not hold the bus, other units go meanwhile.
 * - exception 0A/0B (gateway path/target): like a timeout, for this unit only.
 * - exception 02 on a coalesced read, or a timeout on a large one: learntLimits.ts bisects and the
 *   failed read is replaced by the re-planned reads; the learnt plan is logged when it changes.
 *   A timeout teaches a size limit only when the unit is known to be alive (it replied this cycle
 *   or the last one); otherwise a one-tag probe asks first, so a unit that is simply off never
 *   shrinks its own plan.
 * - other exceptions: the tags are bad with the code, no retry (01-03 are configuration errors).
 * - timeout, CRC error, invalid reply: retried `retries` times, then bad with the reason. A unit
 *   silent for a whole read while it was already silent last cycle gives up the rest of the
 *   cycle at once, so a dead unit costs one timeout per cycle until its breaker opens.
 * - disconnected: every tag of the cycle bad with the link's reason; the link reconnects.
 */
import type { Clock } from "../../clock.js";
import type { ModbusDeviceConfig, ModbusTagConfig } from "../../config/schema/index.js";
import type { ModbusTable } from "../../config/schema/tags.js";
import type { Logger } from "../../observability/logger.js";
import type { Sample } from "../../records.js";
import { SampleBuilder } from "../sampleBuilder.js";
import { CircuitBreaker } from "./circuitBreaker.js";
import { bad, type DecodedValue } from "./decodeResult.js";
import { decodeTagValue } from "./decodeTag.js";
import { FailureLog } from "./failureLog.js";
import type { ReadFunctionCode, ReadRequest } from "./frames/readRequest.js";
import { exceptionReason, type LearntLimits } from "./learntLimits.js";
import type { LinkReadResult } from "./link/modbusLink.js";
import { type PendingRead, PollCycle } from "./pollCycle.js";
import { describePlan, type PlanLimits, type PlannedRead, type ReadPlan } from "./requestPlanner.js";

const FUNCTION_CODES: Readonly<Record<ModbusTable, ReadFunctionCode>> = {
  coil: 1,
  discrete: 2,
  holding: 3,
  input: 4,
};
const BUSY_CODES = new Set([0x05, 0x06]);
const GATEWAY_CODES = new Set([0x0a, 0x0b]);
/** Consecutive silent cycles before the unit's breaker opens. */
export const BREAKER_THRESHOLD = 3;

export interface PollGroupState {
  readonly name: string;
  readonly intervalMs: number;
  readonly tablesInOrder: readonly ModbusTable[];
  readonly tagsByTable: ReadonlyMap<ModbusTable, readonly ModbusTagConfig[]>;
  readonly builder: SampleBuilder;
  plans: Map<ModbusTable, ReadPlan> | undefined;
}

export interface DevicePollerDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Shared by every device on the link: learnt state is keyed by unit id and table. */
  readonly learnt: LearntLimits;
  readonly random?: () => number;
}

export interface DevicePollerStats {
  readonly cycles: number;
  readonly reads: number;
  readonly failedReads: number;
  readonly lastCycleMs: number | undefined;
  readonly breaker: CircuitBreaker["state"];
  readonly breakerOpens: number;
}

export class DevicePoller {
  readonly name: string;
  readonly config: ModbusDeviceConfig;
  readonly groups: readonly PollGroupState[];
  readonly breaker: CircuitBreaker;
  readonly #deps: DevicePollerDeps;
  readonly #limits: PlanLimits;
  readonly #tags: ReadonlyMap<string, ModbusTagConfig>;
  readonly #failures: FailureLog;
  /** Replied in the last finished cycle: a timeout may then teach a size limit. */
  #repliedLastCycle = false;
  /** The last finished cycle heard nothing at all: one more silent read gives up the cycle. */
  #silentLastCycle = false;
  #cycles = 0;
  #reads = 0;
  #failedReads = 0;
  #lastCycleMs: number | undefined;

  constructor(config: ModbusDeviceConfig, deps: DevicePollerDeps) {
    this.name = config.name;
    this.config = config;
    this.#deps = deps;
    this.#limits = {
      unitId: config.unitId,
      maxGap: config.maxGap,
      maxRegistersPerRead: config.maxRegistersPerRead,
      maxBitsPerRead: config.maxBitsPerRead,
    };
    this.#tags = new Map(config.pollGroups.flatMap((group) => group.tags.map((tag) => [tag.name, tag])));
    this.groups = config.pollGroups.map((group) => {
      const tagsByTable = new Map<ModbusTable, ModbusTagConfig[]>();
      for (const tag of group.tags) {
        tagsByTable.set(tag.table, [...(tagsByTable.get(tag.table) ?? []), tag]);
      }
      return {
        name: group.name,
        intervalMs: group.interval,
        tablesInOrder: [...tagsByTable.keys()],
        tagsByTable,
        builder: new SampleBuilder(config.name, group.name, group.tags, deps.clock),
        plans: undefined,
      };
    });
    this.breaker = new CircuitBreaker({
      failureThreshold: BREAKER_THRESHOLD,
      initialDelayMs: "reconnect" in config ? config.reconnect.initialDelay : 1_000,
      maxDelayMs: "reconnect" in config ? config.reconnect.maxDelay : 60_000,
      ...(deps.random === undefined ? {} : { random: deps.random }),
    });
    this.#failures = new FailureLog(config.name, deps.logger);
  }

  /** The current plan of a group, table by table (learning changes it). */
  plan(group: PollGroupState): ReadPlan {
    group.plans ??= new Map(
      group.tablesInOrder.map((table) => [
        table,
        this.#deps.learnt.plan(group.tagsByTable.get(table) ?? [], this.#limits),
      ]),
    );
    return group.tablesInOrder.flatMap((table) => group.plans?.get(table) ?? []);
  }

  /** `poll --explain`: one line per read. */
  explain(group: PollGroupState): string[] {
    return describePlan(this.plan(group));
  }

  startCycle(group: PollGroupState, now: number): PollCycle {
    return new PollCycle(this.name, group.name, this.plan(group), now);
  }

  request(read: PlannedRead): ReadRequest {
    return {
      unitId: read.unitId,
      functionCode: FUNCTION_CODES[read.table],
      address: read.start,
      quantity: read.count,
    };
  }

  get timeoutMs(): number {
    return this.config.timeout;
  }

  /** Interprets the result of `pending`, which the scheduler took from `cycle` and sent. */
  onResult(cycle: PollCycle, pending: PendingRead, result: LinkReadResult, now: number): void {
    pending.attempts++;
    cycle.reads++;
    this.#reads++;
    switch (result.kind) {
      case "ok":
        cycle.replied = true;
        this.#decode(cycle, pending.read, "registers" in result ? result.registers : result.bits);
        if (pending.probeFor !== undefined) {
          // The unit is alive, so the larger read was too large: learn from its timeout now.
          this.#onPlanFailure(cycle, pending.probeFor, { kind: "timeout" });
        }
        return;
      case "exception":
        this.#onException(cycle, pending, result.code, now);
        return;
      case "invalid":
        this.#retryOrFail(cycle, pending, `invalid response: ${result.reason}`);
        return;
      case "timeout":
        this.#onSilence(cycle, pending, result.crcErrors > 0 ? "CRC error" : "timeout");
        return;
      case "disconnected": {
        this.#failedReads++;
        cycle.disconnected = true;
        const reason = bad(`disconnected: ${result.reason}`);
        cycle.settle(pending.probeFor ?? pending.read, reason);
        cycle.abandonRest(reason);
        return;
      }
    }
  }

  /** Ends a cycle: breaker bookkeeping, failure logging, the Sample (undefined if the filter passed nothing). */
  finish(cycle: PollCycle, group: PollGroupState, now: number): Sample | undefined {
    this.#cycles++;
    this.#lastCycleMs = now - cycle.startedAt;
    if (cycle.replied) {
      if (this.breaker.state !== "closed") {
        this.#deps.logger.info({ device: this.name, unitId: this.config.unitId }, "unit answers again");
      }
      this.breaker.onReply();
    } else if (!cycle.disconnected && cycle.reads > 0 && this.breaker.onSilence(now)) {
      this.#deps.logger.warn(
        { device: this.name, unitId: this.config.unitId, after: BREAKER_THRESHOLD },
        "unit not answering: polling it less often until it does (circuit breaker open)",
      );
    }
    this.#repliedLastCycle = cycle.replied;
    this.#silentLastCycle = !cycle.replied && !cycle.disconnected && cycle.reads > 0;
    this.#failures.update(group.name, cycle.results);
    return group.builder.build(cycle.results);
  }

  stats(): DevicePollerStats {
    return {
      cycles: this.#cycles,
      reads: this.#reads,
      failedReads: this.#failedReads,
      lastCycleMs: this.#lastCycleMs,
      breaker: this.breaker.state,
      breakerOpens: this.breaker.opens,
    };
  }

  #decode(cycle: PollCycle, read: PlannedRead, raw: readonly number[] | readonly boolean[]): void {
    for (const served of read.tags) {
      const tag = this.#tags.get(served.name);
      const value: DecodedValue =
        tag === undefined
          ? bad("unknown tag")
          : decodeTagValue(tag, raw.slice(served.offset, served.offset + served.span), this.config.byteOrder);
      cycle.results.set(served.name, value);
    }
  }

  #onException(cycle: PollCycle, pending: PendingRead, code: number, now: number): void {
    if (GATEWAY_CODES.has(code)) {
      this.#onSilence(cycle, pending, exceptionReason(code)); // FAULTS 8.3: like a timeout, this unit only
      return;
    }
    cycle.replied = true;
    if (pending.probeFor !== undefined) {
      // Any answer proves the unit alive: learn from the larger read's timeout; the re-planned
      // reads meet this exception again and handle it as usual.
      this.#onPlanFailure(cycle, pending.probeFor, { kind: "timeout" });
      return;
    }
    if (BUSY_CODES.has(code) && pending.busyAttempts < this.config.busyRetries) {
      pending.busyAttempts++;
      pending.attempts--; // a busy reply is not a failed attempt
      pending.notBefore = now + this.config.busyRetryDelay;
      cycle.pushFront(pending);
      return;
    }
    if (BUSY_CODES.has(code)) {
      this.#fail(cycle, pending.read, exceptionReason(code));
      return;
    }
    this.#onPlanFailure(cycle, pending.read, { kind: "exception", code });
  }

  #onSilence(cycle: PollCycle, pending: PendingRead, reason: string): void {
    if (pending.attempts <= this.config.retries) {
      cycle.pushFront(pending);
      return;
    }
    const read = pending.probeFor ?? pending.read;
    const alive = cycle.replied || this.#repliedLastCycle;
    if (pending.probeFor === undefined && reason === "timeout" && read.count > 1 && read.tags.length > 1) {
      if (alive) {
        this.#onPlanFailure(cycle, read, { kind: "timeout" });
        return;
      }
      const first = read.tags[0];
      if (first !== undefined) {
        const probe: PlannedRead = {
          ...read,
          start: read.start + first.offset,
          count: first.span,
          tags: [{ ...first, offset: 0 }],
        };
        cycle.pushFront({ read: probe, attempts: 0, busyAttempts: 0, notBefore: 0, probeFor: read });
        return;
      }
    }
    this.#fail(cycle, read, reason);
    if (!cycle.replied && this.#silentLastCycle) {
      cycle.abandonRest(bad(reason));
    }
  }

  #retryOrFail(cycle: PollCycle, pending: PendingRead, reason: string): void {
    if (pending.attempts <= this.config.retries) {
      cycle.pushFront(pending);
    } else {
      this.#fail(cycle, pending.probeFor ?? pending.read, reason);
    }
  }

  #onPlanFailure(
    cycle: PollCycle,
    read: PlannedRead,
    failure: { readonly kind: "timeout" } | { readonly kind: "exception"; readonly code: number },
  ): void {
    const action = this.#deps.learnt.onReadFailed(read, failure);
    if (action.learnt) {
      for (const group of this.groups) {
        group.plans = undefined;
      }
      const learnt = this.#deps.learnt.learntSummary().filter((entry) => entry.unitId === this.config.unitId);
      this.#deps.logger.info(
        {
          device: this.name,
          unitId: this.config.unitId,
          learnt,
          plan: this.groups.flatMap((g) => this.explain(g)),
        },
        `learnt the device's read limits after ${failure.kind === "timeout" ? "a timeout" : exceptionReason(failure.code)}; new read plan`,
      );
    }
    switch (action.action) {
      case "replan":
        cycle.pushFront(
          ...action.reads.map((next) => ({ read: next, attempts: 0, busyAttempts: 0, notBefore: 0 })),
        );
        return;
      case "fail-tags":
      case "caller-policy":
        this.#fail(cycle, read, action.reason);
        return;
    }
  }

  #fail(cycle: PollCycle, read: PlannedRead, reason: string): void {
    this.#failedReads++;
    cycle.settle(read, bad(reason));
  }
}
