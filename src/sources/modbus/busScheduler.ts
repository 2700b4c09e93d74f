/**
 * The one queue of one Modbus link (issue #4 item 3): every unit and poll group on an RS-485
 * port, a serial server or a TCP endpoint is served from here, strictly one request at a time
 * (the link adds the t3.5 silence and turnaround on serial lines).
 *
 * Fairness: when several cycles have reads waiting, the scheduler sends one read of one unit,
 * then moves to the next unit (round robin), and within a unit to its next poll group. A unit
 * with a 50-read map therefore cannot hold the bus for 50 reads while a neighbour's 1 Hz group
 * waits, and a slow unit delays the others by at most one of its reads per turn.
 *
 * Timing (monotonic clock, FAULTS 8.5): each poll group is due every `interval` from its first
 * poll. A group still being read when it falls due again is not queued twice: the missed poll is
 * counted as an overrun (and logged on change), which bounds the queue to one cycle per group.
 * A unit whose circuit breaker is open (circuitBreaker.ts) skips its polls, also counted.
 */
import type { Clock } from "../../clock.js";
import type { Logger } from "../../observability/logger.js";
import type { SampleSink } from "../../records.js";
import type { DevicePoller, PollGroupState } from "./devicePoller.js";
import type { LinkReadResult, ModbusLink } from "./link/modbusLink.js";
import type { PollCycle } from "./pollCycle.js";

interface GroupSchedule {
  readonly device: DevicePoller;
  readonly group: PollGroupState;
  nextDue: number;
  active: PollCycle | undefined;
  overruns: number;
  skippedOpen: number;
  overrunLogged: boolean;
  /** Fell due while its cycle was still running, since that cycle started. */
  overranThisCycle: boolean;
}

/**
 * Told of every read's outcome and every finished cycle: the status endpoint's poll metrics
 * (issue #7 item 3). Called on the poll loop, so an implementation must be O(1).
 */
export interface PollObserver {
  read(device: string, result: LinkReadResult): void;
  cycle(device: string, durationMs: number): void;
}

export interface BusSchedulerDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly emit: SampleSink;
  /** Beaten after every read and every sleep; closed on stop. */
  readonly heartbeat?: { beat(): void; close(): void };
  readonly observer?: PollObserver | undefined;
}

export interface BusSchedulerStats {
  readonly link: string;
  readonly overruns: number;
  readonly skippedWhileOpen: number;
  readonly cycles: number;
}

export class BusScheduler {
  readonly link: ModbusLink;
  readonly devices: readonly DevicePoller[];
  readonly #deps: BusSchedulerDeps;
  readonly #schedules: GroupSchedule[];
  #unitTurn = 0;
  readonly #groupTurn = new Map<DevicePoller, number>();
  #stop: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #cycles = 0;
  #linkStarted = false;
  #suspectMisconfig: string | undefined;
  #lateRepliesLogged = false;

  constructor(link: ModbusLink, devices: readonly DevicePoller[], deps: BusSchedulerDeps) {
    this.link = link;
    this.devices = devices;
    this.#deps = deps;
    this.#schedules = devices.flatMap((device) =>
      device.groups.map((group) => ({
        device,
        group,
        nextDue: 0,
        active: undefined,
        overruns: 0,
        skippedOpen: 0,
        overrunLogged: false,
        overranThisCycle: false,
      })),
    );
  }

  get name(): string {
    return `bus ${this.link.key}`;
  }

  /** Starts the link and the polling loop; returns at once (the first polls run in the background). */
  async start(signal: AbortSignal): Promise<void> {
    await this.#startLink(signal);
    const now = this.#deps.clock.monotonicNow();
    for (const schedule of this.#schedules) {
      schedule.nextDue = now;
    }
    this.#stop = new AbortController();
    this.#loop = this.#run(this.#stop.signal, false);
  }

  async stop(): Promise<void> {
    this.#stop?.abort();
    this.#wake?.();
    await this.#loop;
    this.#loop = undefined;
    if (this.#linkStarted) {
      this.#linkStarted = false;
      await this.link.stop();
    }
    this.#deps.heartbeat?.close();
  }

  /**
   * `poll --once`: every group of every unit read once now (the link is started if it is not);
   * resolves when all cycles are done. Not while start() runs the schedule.
   */
  async pollOnce(signal: AbortSignal): Promise<void> {
    if (this.#loop !== undefined) {
      throw new Error("pollOnce while the scheduler runs its schedule");
    }
    await this.#startLink(signal);
    const now = this.#deps.clock.monotonicNow();
    for (const schedule of this.#schedules) {
      schedule.active = schedule.device.startCycle(schedule.group, now);
    }
    await this.#run(signal, true);
  }

  async #startLink(signal: AbortSignal): Promise<void> {
    if (!this.#linkStarted) {
      this.#linkStarted = true;
      await this.link.start(signal);
    }
  }

  stats(): BusSchedulerStats {
    return {
      link: this.link.key,
      overruns: this.#schedules.reduce((sum, s) => sum + s.overruns, 0),
      skippedWhileOpen: this.#schedules.reduce((sum, s) => sum + s.skippedOpen, 0),
      cycles: this.#cycles,
    };
  }

  async #run(signal: AbortSignal, once: boolean): Promise<void> {
    while (!signal.aborted) {
      this.#deps.heartbeat?.beat();
      const now = this.#deps.clock.monotonicNow();
      if (!once) {
        this.#startDueCycles(now);
      }
      const next = this.#nextRead(now);
      if (next !== undefined) {
        await this.#execute(next.schedule, next.cycle, signal);
        continue;
      }
      if (once && this.#schedules.every((s) => s.active === undefined)) {
        return;
      }
      await this.#sleepUntil(this.#nextEventAt(once), signal);
    }
  }

  #startDueCycles(now: number): void {
    for (const schedule of this.#schedules) {
      if (now < schedule.nextDue) {
        continue;
      }
      const interval = schedule.group.intervalMs;
      // Fixed rate from the first poll; polls missed while behind are skipped, not queued.
      const missed = Math.floor((now - schedule.nextDue) / interval);
      schedule.nextDue += (missed + 1) * interval;
      if (schedule.active !== undefined) {
        schedule.overruns += missed + 1;
        schedule.overranThisCycle = true;
        this.#logOverrun(schedule);
        continue;
      }
      schedule.overruns += missed;
      if (!schedule.device.breaker.allows(now)) {
        schedule.skippedOpen++;
        continue;
      }
      schedule.active = schedule.device.startCycle(schedule.group, now);
    }
  }

  /** Round robin over units, then over a unit's groups: the next read that may go now. */
  #nextRead(now: number): { schedule: GroupSchedule; cycle: PollCycle } | undefined {
    const units = this.devices.length;
    for (let u = 0; u < units; u++) {
      const device = this.devices[(this.#unitTurn + u) % units];
      if (device === undefined) {
        continue;
      }
      const groups = this.#schedules.filter((s) => s.device === device);
      const turn = this.#groupTurn.get(device) ?? 0;
      for (let g = 0; g < groups.length; g++) {
        const schedule = groups[(turn + g) % groups.length];
        const cycle = schedule?.active;
        if (schedule === undefined || cycle === undefined || cycle.nextReadyAt > now) {
          continue;
        }
        this.#unitTurn = (this.#unitTurn + u + 1) % units;
        this.#groupTurn.set(device, (turn + g + 1) % groups.length);
        return { schedule, cycle };
      }
    }
    return undefined;
  }

  async #execute(schedule: GroupSchedule, cycle: PollCycle, signal: AbortSignal): Promise<void> {
    const { device } = schedule;
    const pending = cycle.take(this.#deps.clock.monotonicNow());
    if (pending !== undefined) {
      const result = await this.link.read(device.request(pending.read), {
        timeoutMs: device.timeoutMs,
        signal,
      });
      if (signal.aborted) {
        return; // stopping: the cycle is dropped unfinished rather than published half-read
      }
      device.onResult(cycle, pending, result, this.#deps.clock.monotonicNow());
      this.#deps.observer?.read(device.name, result);
      this.#watchLineHealth();
    }
    if (!cycle.done) {
      return;
    }
    schedule.active = undefined;
    this.#cycles++;
    const finishedAt = this.#deps.clock.monotonicNow();
    const sample = device.finish(cycle, schedule.group, finishedAt);
    this.#deps.observer?.cycle(device.name, finishedAt - cycle.startedAt);
    if (sample !== undefined) {
      this.#deps.emit(sample);
    }
    if (this.#schedules.every((s) => s.active === undefined)) {
      this.link.idle();
    }
    if (schedule.overrunLogged && !schedule.overranThisCycle) {
      schedule.overrunLogged = false;
      this.#deps.logger.info(
        { device: device.name, group: schedule.group.name },
        "poll group keeps its interval again",
      );
    }
    schedule.overranThisCycle = false;
  }

  #nextEventAt(once: boolean): number {
    let soonest = Number.POSITIVE_INFINITY;
    for (const schedule of this.#schedules) {
      soonest = Math.min(soonest, schedule.active?.nextReadyAt ?? Number.POSITIVE_INFINITY);
      if (!once) {
        soonest = Math.min(soonest, schedule.nextDue);
      }
    }
    return soonest;
  }

  async #sleepUntil(at: number, signal: AbortSignal): Promise<void> {
    const delay = Math.max(0, Math.min(at - this.#deps.clock.monotonicNow(), 60_000));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, delay);
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      this.#wake = done;
      signal.addEventListener("abort", done, { once: true });
    });
    this.#wake = undefined;
  }

  /** Logs when a serial line starts or stops looking misconfigured, not per read. */
  #watchLineHealth(): void {
    if (!this.#lateRepliesLogged && this.link.stats().lateOrUnmatched > 0) {
      // RTU has no transaction id: a reply later than timeout plus the link's guard could be
      // taken for the next identical-looking request (frames/rtuResponseFramer.ts), so say so once.
      this.#lateRepliesLogged = true;
      this.#deps.logger.warn(
        { link: this.link.key, lateOrUnmatched: this.link.stats().lateOrUnmatched },
        `replies arrive after the timeout on ${this.link.key}: raise the devices' timeout (they were dropped, not used)`,
      );
    }
    const health = this.link.lineHealth?.();
    const suspect = health?.suspectMisconfig;
    // The text carries growing counts; what matters is which kind of trouble it is.
    const kind = suspect === undefined ? undefined : /CRC/.test(suspect) ? "crc" : "garbage";
    if (kind === this.#suspectMisconfig) {
      return;
    }
    this.#suspectMisconfig = kind;
    if (suspect === undefined) {
      this.#deps.logger.info({ link: this.link.key }, "serial line replies are clean again");
    } else {
      this.#deps.logger.warn(
        { link: this.link.key, crcErrorStreak: health?.crcErrorStreak, hint: suspect },
        `garbled replies on ${this.link.key}: ${suspect}`,
      );
    }
  }

  #logOverrun(schedule: GroupSchedule): void {
    if (schedule.overrunLogged) {
      return;
    }
    schedule.overrunLogged = true;
    this.#deps.logger.warn(
      {
        device: schedule.device.name,
        group: schedule.group.name,
        intervalMs: schedule.group.intervalMs,
        link: this.link.key,
      },
      "poll group overran its interval: its reads take longer than the interval on this link; polls are skipped, not queued",
    );
  }
}
