/**
 * The FAULTS 8.3 rows end to end: config → bus scheduler → device poller → RtuLink on a real pty →
 * a fault-injecting RTU slave (test/fixtures/rtuFaultPeer.py, faults picked by the register
 * address). Each faulty tag gets the right reason and exactly the retries its row allows, and the
 * good tags around it keep reading.
 */
import { realpathSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../../../../src/clock.js";
import type { Sample } from "../../../../src/records.js";
import type { BusScheduler } from "../../../../src/sources/modbus/busScheduler.js";
import { createBus } from "../../../../src/sources/modbus/modbusBuses.js";
import type { LineChild } from "../../../helpers/lineChild.js";
import { memoryLogger } from "../../../helpers/memoryLogger.js";
import { startPtyPair } from "../../../helpers/ptyPair.js";
import { Resources } from "../../../helpers/resources.js";
import { startRtuFaultPeer } from "../../../helpers/rtuFaultPeer.js";
import { modbusDevices, valuesOf } from "./pollFixtures.js";

/** Fault-peer data: register i of a read at `address` by unit u with fc 3 is u*1000 + 300 + address + i. */
const good = (unit: number, address: number) => unit * 1000 + 300 + address;

describe("poll cycles against a fault-injecting RTU slave", () => {
  let resources: Resources;
  let scheduler: BusScheduler | undefined;
  beforeEach(() => {
    resources = new Resources();
  });
  afterEach(async () => {
    await scheduler?.stop();
    await resources.release();
  });

  it("gives every fault its reason and its retry budget, and keeps the good tags good", async () => {
    const pty = resources.track(await startPtyPair(await resources.tempDir()));
    const peer: LineChild = resources.track(await startRtuFaultPeer(pty.b, { lateMs: 250 }));
    const tag = (name: string, address: number) => ({ name, table: "holding", address, type: "uint16" });
    const [device] = modbusDevices([
      {
        name: "slave",
        protocol: "modbus-rtu",
        serial: { path: realpathSync(pty.a), baudRate: 38400 },
        unitId: 5,
        timeout: "150ms",
        retries: 1,
        maxGap: 0, // one read per fault address
        busyRetries: 2,
        busyRetryDelay: "20ms",
        pollGroups: [
          {
            name: "g",
            interval: "10s",
            tags: [
              tag("ok", 0),
              tag("crc", 100),
              tag("late", 200),
              tag("partial", 300),
              tag("junk", 400),
              tag("slow_bytes", 500),
              tag("echo", 700),
              tag("illegal_function", 801),
              tag("busy", 806),
              tag("gateway", 811),
              tag("silent", 950),
            ],
          },
        ],
      },
    ]);
    if (device === undefined) {
      throw new Error("no device");
    }
    const samples: Sample[] = [];
    const { logger, lines } = memoryLogger();
    scheduler = createBus(
      { key: "pty", label: "pty", devices: [device] },
      { clock: systemClock, logger, emit: (s) => samples.push(s) },
    );
    await scheduler.pollOnce(new AbortController().signal);

    expect(valuesOf(samples, "slave")).toEqual({
      ok: good(5, 0),
      crc: "bad: CRC error",
      late: "bad: timeout",
      partial: "bad: timeout",
      junk: good(5, 400),
      slow_bytes: good(5, 500),
      echo: good(5, 700), // echo off: the echoed request fails as a reply (its CRC), the real reply follows
      illegal_function: "bad: exception 01 (illegal function)",
      busy: "bad: exception 06 (server busy)",
      gateway: "bad: exception 0B (gateway target failed to respond)",
      silent: "bad: timeout",
    });
    const requests = (address: number) =>
      peer.lines.filter((line) => line.ev === "request" && line.address === address).length;
    expect(requests(0)).toBe(1);
    expect(requests(200)).toBe(2); // late (250 ms > 150 ms timeout): both attempts' replies arrive late and are dropped
    expect(requests(100)).toBe(2); // CRC error: retries 1
    expect(requests(801)).toBe(1); // exception 01: never retried
    expect(requests(806)).toBe(3); // busy: busyRetries 2
    expect(requests(811)).toBe(2); // 0B: like a timeout, retries 1
    expect(requests(950)).toBe(2);
    // The late replies never became another tag's value (every good tag has its own address's
    // data, above); they were counted, and the technician is told what to change.
    expect(scheduler.link.stats().lateOrUnmatched).toBeGreaterThan(0);
    expect(lines.filter((l) => String(l.msg).startsWith("replies arrive after the timeout"))).toHaveLength(1);
  });
});
