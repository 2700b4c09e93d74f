/**
 * RtuLink against the fault-injecting RTU peer (test/fixtures/rtuFaultPeer.py) on a socat pty
 * pair: the FAULTS 8.3 rows pymodbus cannot produce, and the measured inter-frame silence.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReadFunctionCode } from "../../../../src/sources/modbus/frames/readRequest.js";
import type { LinkReadResult } from "../../../../src/sources/modbus/link/modbusLink.js";
import { t35Ms } from "../../../../src/sources/modbus/link/rtuTiming.js";
import type { LineChild } from "../../../helpers/lineChild.js";
import { startPtyPair } from "../../../helpers/ptyPair.js";
import { Resources } from "../../../helpers/resources.js";
import { startRtuFaultPeer } from "../../../helpers/rtuFaultPeer.js";
import { LINE_19200_8E1, type SerialRtuBus, serialRtuBus } from "./serialRtuBus.js";

const TIMEOUT_MS = 150;
const LATE_MS = TIMEOUT_MS + 50;

/** What the peer holds: register i of a read at `address` (see rtuFaultPeer.py). */
function peerRegisters(unit: number, fc: 3 | 4, address: number, quantity: number): number[] {
  return Array.from({ length: quantity }, (_, i) => (unit * 1000 + fc * 100 + address + i) & 0xffff);
}

function peerBits(unit: number, fc: 1 | 2, address: number, quantity: number): boolean[] {
  return Array.from({ length: quantity }, (_, i) => (unit + fc + address + i) % 3 === 0);
}

interface Rig {
  readonly bus: SerialRtuBus;
  readonly peer: LineChild;
  read(
    unitId: number,
    functionCode: ReadFunctionCode,
    address: number,
    quantity: number,
    timeoutMs?: number,
  ): Promise<LinkReadResult>;
}

function rigFor(options: Parameters<typeof serialRtuBus>[1]) {
  const resources = new Resources();
  const holder: { rig?: Rig } = {};
  beforeAll(async () => {
    const pty = resources.track(await startPtyPair(await resources.tempDir("rtu-faults-")));
    const peer = resources.track(await startRtuFaultPeer(pty.b, { lateMs: LATE_MS, gapMs: 3 }));
    const bus = serialRtuBus(pty.a, options);
    await bus.link.start(new AbortController().signal);
    holder.rig = {
      bus,
      peer,
      read: (unitId, functionCode, address, quantity, timeoutMs = TIMEOUT_MS) =>
        bus.link.read({ unitId, functionCode, address, quantity }, { timeoutMs }),
    };
  });
  afterAll(async () => {
    await holder.rig?.bus.link.stop();
    await resources.release();
  });
  return (): Rig => {
    if (holder.rig === undefined) {
      throw new Error("rig not started");
    }
    return holder.rig;
  };
}

describe("RtuLink against a fault-injecting RTU peer", () => {
  const rig = rigFor({});

  it("reads all four tables", async () => {
    const { read } = rig();
    expect(await read(7, 3, 10, 4)).toEqual({ kind: "ok", registers: peerRegisters(7, 3, 10, 4) });
    expect(await read(7, 4, 0, 125)).toEqual({ kind: "ok", registers: peerRegisters(7, 4, 0, 125) });
    expect(await read(7, 1, 3, 19)).toEqual({ kind: "ok", bits: peerBits(7, 1, 3, 19) });
    expect(await read(7, 2, 0, 2000)).toEqual({ kind: "ok", bits: peerBits(7, 2, 0, 2000) });
  });

  it("counts a CRC error, reports it in the timeout, and reads the next request after the flush", async () => {
    const { read, bus } = rig();
    const before = bus.link.stats();
    expect(await read(7, 3, 100, 2)).toEqual({ kind: "timeout", crcErrors: 1 });
    expect(await read(7, 3, 1, 2)).toEqual({ kind: "ok", registers: peerRegisters(7, 3, 1, 2) });
    const after = bus.link.stats();
    expect(after.crcErrors - before.crcErrors).toBe(1);
    expect(after.timeouts - before.timeouts).toBe(1);
  });

  it("never takes a late reply for the next request, even with the same unit, fc and quantity", async () => {
    const { read, bus, peer } = rig();
    const before = bus.link.stats();
    const from = peer.lines.length;
    expect(await read(7, 3, 200, 3)).toEqual({ kind: "timeout", crcErrors: 0 });
    // Same unit, fc and quantity: only the data tells the replies apart.
    expect(await read(7, 3, 20, 3)).toEqual({ kind: "ok", registers: peerRegisters(7, 3, 20, 3) });
    expect(bus.link.stats().lateOrUnmatched - before.lateOrUnmatched).toBeGreaterThanOrEqual(1);
    // The late reply did reach the wire (the peer sent it) before the next request did.
    const lateAt = await peer.waitForIndex((l) => l.ev === "request" && l.address === 200, "late request", {
      from,
    });
    await peer.waitForCount(() => true, 4, "the peer's four events", { from: lateAt });
    const events = peer.lines.slice(lateAt, lateAt + 4).map((l) => [l.ev, l.address]);
    expect(events).toEqual([
      ["request", 200],
      ["replied", undefined],
      ["request", 20],
      ["replied", undefined],
    ]);
  });

  it("times out on a partial frame followed by silence, then reads on", async () => {
    const { read } = rig();
    expect(await read(9, 4, 300, 10)).toEqual({ kind: "timeout", crcErrors: 0 });
    expect(await read(9, 4, 30, 10)).toEqual({ kind: "ok", registers: peerRegisters(9, 4, 30, 10) });
  });

  it("skips junk before and after a good frame", async () => {
    const { read } = rig();
    expect(await read(9, 3, 400, 5)).toEqual({ kind: "ok", registers: peerRegisters(9, 3, 400, 5) });
    expect(await read(9, 3, 40, 5)).toEqual({ kind: "ok", registers: peerRegisters(9, 3, 40, 5) });
  });

  it("assembles a reply sent byte by byte with gaps longer than 1.5 characters", async () => {
    const { read } = rig();
    // 3 ms between bytes; 1.5 characters at 19200 baud 8E1 are 0.86 ms.
    expect(await read(9, 3, 500, 6)).toEqual({ kind: "ok", registers: peerRegisters(9, 3, 500, 6) });
    expect(await read(9, 2, 510, 12)).toEqual({ kind: "ok", bits: peerBits(9, 2, 510, 12) });
  });

  it("rejects and counts frames from another unit, with another fc or a wrong byte count", async () => {
    const { read, bus } = rig();
    const before = bus.link.stats();
    expect(await read(5, 3, 600, 2)).toEqual({ kind: "timeout", crcErrors: 0 });
    expect(await read(5, 3, 610, 2)).toEqual({ kind: "timeout", crcErrors: 0 });
    expect(await read(5, 3, 620, 2)).toEqual({ kind: "timeout", crcErrors: 0 });
    expect(await read(5, 1, 620, 4)).toEqual({ kind: "timeout", crcErrors: 0 });
    const after = bus.link.stats();
    expect(after.invalidReplies - before.invalidReplies).toBe(4);
    expect(after.responses - before.responses).toBe(0);
    expect(await read(5, 3, 60, 2)).toEqual({ kind: "ok", registers: peerRegisters(5, 3, 60, 2) });
  });

  it("passes exception replies through with their code and name", async () => {
    const { read } = rig();
    const names: Record<number, string> = {
      1: "ILLEGAL FUNCTION",
      2: "ILLEGAL DATA ADDRESS",
      3: "ILLEGAL DATA VALUE",
      4: "SERVER DEVICE FAILURE",
      6: "SERVER DEVICE BUSY",
      10: "GATEWAY PATH UNAVAILABLE",
      11: "GATEWAY TARGET DEVICE FAILED TO RESPOND",
    };
    for (const [code, name] of Object.entries(names)) {
      expect(await read(3, 4, 800 + Number(code), 1)).toEqual({
        kind: "exception",
        code: Number(code),
        name,
      });
    }
  });

  it("names a baud mismatch after a streak of garbage, a parity mismatch after a streak of CRC errors", async () => {
    const { read, bus } = rig();
    expect(await read(4, 3, 1, 1)).toMatchObject({ kind: "ok" });
    for (let i = 0; i < 5; i++) {
      expect(await read(4, 3, 900, 4, 80)).toEqual({ kind: "timeout", crcErrors: 0 });
    }
    expect(bus.link.lineHealth()).toEqual({
      crcErrorStreak: 5,
      suspectMisconfig: expect.stringMatching(/baud rate probably differs .*configured 19200 baud 8E1/),
    });
    expect(await read(4, 3, 2, 1)).toMatchObject({ kind: "ok" });
    expect(bus.link.lineHealth()).toEqual({ crcErrorStreak: 0 });
    for (let i = 0; i < 4; i++) {
      expect(await read(4, 3, 100, 4, 80)).toEqual({ kind: "timeout", crcErrors: 1 });
    }
    expect(bus.link.lineHealth()).toEqual({ crcErrorStreak: 4 });
    // A silent slave is no evidence either way: the streak stays.
    expect(await read(4, 3, 950, 4, 80)).toEqual({ kind: "timeout", crcErrors: 0 });
    expect(await read(4, 3, 100, 4, 80)).toEqual({ kind: "timeout", crcErrors: 1 });
    expect(bus.link.lineHealth()).toEqual({
      crcErrorStreak: 5,
      suspectMisconfig: expect.stringMatching(/check the parity and stop bits/),
    });
  });

  it("refuses a second read while one is in flight (one request at a time on a bus)", async () => {
    const { read } = rig();
    const first = read(2, 3, 5, 1);
    await expect(read(2, 3, 6, 1)).rejects.toThrow(/one request at a time/);
    expect(await first).toEqual({ kind: "ok", registers: peerRegisters(2, 3, 5, 1) });
  });
});

describe("RtuLink with an RS-485 adapter that echoes", () => {
  const rig = rigFor({ echo: true });

  it("skips the echo of its own request and reads the reply", async () => {
    const { read, bus } = rig();
    expect(await read(8, 3, 700, 1)).toEqual({ kind: "ok", registers: peerRegisters(8, 3, 700, 1) });
    expect(await read(8, 4, 701, 30)).toEqual({ kind: "ok", registers: peerRegisters(8, 4, 701, 30) });
    expect(bus.link.framerStats().echoBytes).toBe(16);
    // Without an echo on the line the reply is still found (the echo is only skipped if present).
    expect(await read(8, 3, 7, 2)).toEqual({ kind: "ok", registers: peerRegisters(8, 3, 7, 2) });
  });
});

describe("RtuLink inter-frame silence on the wire", () => {
  const TURNAROUND_MS = 15;
  const rig = rigFor({ turnaroundDelayMs: TURNAROUND_MS });

  it("leaves at least t3.5 + turnaround between the end of a reply and the next request", async () => {
    const { read, peer } = rig();
    const from = peer.lines.length;
    for (let i = 0; i < 12; i++) {
      const unit = 1 + (i % 3);
      expect(await read(unit, 3, i, 2)).toEqual({ kind: "ok", registers: peerRegisters(unit, 3, i, 2) });
    }
    await peer.waitForCount((l) => l.ev === "replied", 12, "the peer's twelve replies", { from });
    const events = peer.lines.slice(from);
    const gaps: number[] = [];
    for (let i = 1; i < events.length; i++) {
      const previous = events[i - 1];
      const current = events[i];
      if (previous?.ev === "replied" && current?.ev === "request") {
        gaps.push(Number(current.t) - Number(previous.t));
      }
    }
    expect(gaps).toHaveLength(11);
    // A protocol lower bound (serial line v1.02 §2.5.1.1), not a speed figure.
    const least = t35Ms(LINE_19200_8E1) + TURNAROUND_MS;
    expect(least).toBeCloseTo(2.005 + TURNAROUND_MS, 3);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(least);
    }
  });
});
