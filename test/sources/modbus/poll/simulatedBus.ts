/**
 * An in-process Modbus bus for the scheduler's unit tests: units with register and bit tables,
 * holes (exception 02 on any read touching them), a size limit past which a unit stays silent,
 * busy replies and dead units. It implements ModbusLink the way a real link behaves at its
 * interface (one request at a time, results not rejections) and records the order of requests,
 * so fairness, retries and the breaker can be checked exactly. The links themselves are tested
 * against pymodbus and fault-injecting peers in test/sources/modbus/link/.
 */
import type { Clock } from "../../../../src/clock.js";
import type { ReadRequest } from "../../../../src/sources/modbus/frames/readRequest.js";
import type {
  LinkReadResult,
  LinkStats,
  ModbusLink,
  ReadOptions,
} from "../../../../src/sources/modbus/link/modbusLink.js";

export interface SimulatedUnit {
  /** Register value at an address (holding and input share it); default address & 0xffff. */
  registers?: (address: number) => number;
  holes?: readonly number[];
  /** Reads of more than this many registers get no answer. */
  silentAbove?: number;
  /** The next N requests get exception 06. */
  busy?: number;
  /** The unit never answers. */
  dead?: boolean;
  /** Exception code for every read. */
  exception?: number;
}

export class SimulatedBus implements ModbusLink {
  readonly key = "simulated://bus";
  state: ModbusLink["state"] = "connected";
  lastError: string | undefined;
  readonly log: ReadRequest[] = [];
  readonly units = new Map<number, SimulatedUnit>();
  disconnected: string | undefined;
  idleCalls = 0;
  /** What lineHealth() reports, as an RTU link would after garbled replies. */
  health: { crcErrorStreak: number; suspectMisconfig?: string } = { crcErrorStreak: 0 };
  #inFlight = false;

  constructor(
    private readonly clock: Clock & { advance?: (ms: number) => void },
    /** Time one request takes on the bus (advanced on the fake clock). */
    private readonly requestMs = 10,
  ) {}

  start(): Promise<void> {
    return Promise.resolve();
  }
  stop(): Promise<void> {
    this.state = "stopped";
    return Promise.resolve();
  }
  lineHealth() {
    return this.health;
  }
  idle(): void {
    this.idleCalls++;
  }
  stats(): LinkStats {
    const requests = this.log.length;
    return {
      requests,
      responses: 0,
      timeouts: 0,
      crcErrors: 0,
      lateOrUnmatched: 0,
      invalidReplies: 0,
      connects: 1,
      disconnects: 0,
      bytesIn: 0,
      bytesOut: 0,
    };
  }

  async read(request: ReadRequest, options: ReadOptions): Promise<LinkReadResult> {
    if (this.#inFlight) {
      throw new Error("two requests in flight on one bus");
    }
    this.#inFlight = true;
    try {
      await Promise.resolve();
      if (this.disconnected !== undefined) {
        return { kind: "disconnected", reason: this.disconnected };
      }
      this.log.push(request);
      const unit = this.units.get(request.unitId);
      if (unit === undefined || unit.dead === true) {
        this.clock.advance?.(options.timeoutMs);
        return { kind: "timeout", crcErrors: 0 };
      }
      this.clock.advance?.(this.requestMs);
      if (unit.busy !== undefined && unit.busy > 0) {
        unit.busy--;
        return { kind: "exception", code: 6, name: "SERVER DEVICE BUSY" };
      }
      if (unit.exception !== undefined) {
        return { kind: "exception", code: unit.exception, name: "X" };
      }
      const end = request.address + request.quantity;
      if (unit.holes?.some((hole) => hole >= request.address && hole < end)) {
        return { kind: "exception", code: 2, name: "ILLEGAL DATA ADDRESS" };
      }
      if (unit.silentAbove !== undefined && request.quantity > unit.silentAbove) {
        this.clock.advance?.(options.timeoutMs - this.requestMs);
        return { kind: "timeout", crcErrors: 0 };
      }
      const value = unit.registers ?? ((address: number) => address & 0xffff);
      const addresses = Array.from({ length: request.quantity }, (_, i) => request.address + i);
      return request.functionCode <= 2
        ? { kind: "ok", bits: addresses.map((a) => (value(a) & 1) === 1) }
        : { kind: "ok", registers: addresses.map(value) };
    } finally {
      this.#inFlight = false;
    }
  }
}
