/**
 * RtuLink against a third-party server, Debian's pymodbus 3.0 (test/fixtures/pymodbus/server.py):
 * RTU on one end of a socat pty pair, and RTU frames over TCP (a serial device server).
 *
 * The pty carries no parity bit and Linux 6 refuses PARENB on a pty (tcsetattr EINVAL), which
 * pyserial reports as an error, so pymodbus opens its end 8N1. The link is configured 8E1 (the
 * Modbus RTU default) for its t3.5 timing; serialport ignores the refused parity on its end.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReconnectingStream } from "../../../../src/sources/link/reconnectingStream.js";
import { tcpConnector } from "../../../../src/sources/link/tcpConnector.js";
import type { ReadFunctionCode } from "../../../../src/sources/modbus/frames/readRequest.js";
import type { LinkReadResult } from "../../../../src/sources/modbus/link/modbusLink.js";
import { RtuLink } from "../../../../src/sources/modbus/link/rtuLink.js";
import { LineChild } from "../../../helpers/lineChild.js";
import { startPtyPair } from "../../../helpers/ptyPair.js";
import { Resources } from "../../../helpers/resources.js";
import { serialRtuBus } from "./serialRtuBus.js";

const SERVER = fileURLToPath(new URL("../../../fixtures/pymodbus/server.py", import.meta.url));
const UNITS = [1, 2, 3] as const;
/** Holding registers 0..9 and 11..14 exist; 10 is a hole (exception 02 on any read touching it). */
const HOLE = 10;

const holding = (unit: number) => Array.from({ length: 10 }, (_, i) => unit * 100 + i);
const afterHole = (unit: number) => Array.from({ length: 4 }, (_, i) => unit * 100 + HOLE + 1 + i);
const input = (unit: number) => Array.from({ length: 10 }, (_, i) => unit * 100 + 50 + i);
const coils = (unit: number) => Array.from({ length: 12 }, (_, i) => (i + unit) % 2 === 0);
const discretes = (unit: number) => Array.from({ length: 12 }, (_, i) => (i * unit) % 3 === 0);

const DATASTORE = {
  units: Object.fromEntries(
    UNITS.map((unit) => [
      String(unit),
      {
        holding: { "0": holding(unit), [String(HOLE + 1)]: afterHole(unit) },
        input: { "0": input(unit) },
        coils: { "0": coils(unit) },
        discretes: { "0": discretes(unit) },
      },
    ]),
  ),
};

async function startServer(args: readonly string[]): Promise<{ child: LineChild; ready: string }> {
  const child = new LineChild(
    "pymodbus",
    "/usr/bin/python3",
    [SERVER, ...args, "--config", JSON.stringify(DATASTORE)],
    { env: process.env },
  );
  try {
    const line = await child.waitFor(
      (l) => typeof l.raw === "string" && l.raw.startsWith("READY "),
      "pymodbus READY",
      { timeoutMs: 15_000 },
    );
    return { child, ready: String(line.raw).slice("READY ".length) };
  } catch (error) {
    await child.kill();
    throw error;
  }
}

type Read = (
  unit: number,
  fc: ReadFunctionCode,
  address: number,
  quantity: number,
) => Promise<LinkReadResult>;

function readerFor(link: RtuLink, timeoutMs = 500): Read {
  return (unitId, functionCode, address, quantity) =>
    link.read({ unitId, functionCode, address, quantity }, { timeoutMs });
}

/** Reads until a read succeeds or `withinMs` passes; returns the last result. */
async function readUntilOk(read: () => Promise<LinkReadResult>, withinMs: number): Promise<LinkReadResult> {
  const deadline = performance.now() + withinMs;
  let result = await read();
  while (result.kind !== "ok" && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    result = await read();
  }
  return result;
}

async function expectEveryTableOfEveryUnit(read: Read): Promise<void> {
  for (const unit of UNITS) {
    expect(await read(unit, 3, 0, 10)).toEqual({ kind: "ok", registers: holding(unit) });
    expect(await read(unit, 4, 2, 8)).toEqual({ kind: "ok", registers: input(unit).slice(2) });
    expect(await read(unit, 1, 0, 12)).toEqual({ kind: "ok", bits: coils(unit) });
    expect(await read(unit, 2, 3, 9)).toEqual({ kind: "ok", bits: discretes(unit).slice(3) });
  }
}

describe("RtuLink against pymodbus 3.0 RTU on a pty pair (19200 baud)", () => {
  const resources = new Resources();
  let link: RtuLink;
  let device: string;
  let server: LineChild;

  beforeAll(async () => {
    const pty = resources.track(await startPtyPair(await resources.tempDir("rtu-pymodbus-")));
    device = pty.b;
    server = resources.track(
      (await startServer(["rtu", "--device", device, "--baud", "19200", "--parity", "N"])).child,
    );
    ({ link } = serialRtuBus(pty.a));
    await link.start(new AbortController().signal);
  });

  afterAll(async () => {
    await link?.stop();
    await resources.release();
  });

  it("reads every table from three unit ids on the one bus", async () => {
    await expectEveryTableOfEveryUnit(readerFor(link));
    const stats = link.stats();
    expect(stats.responses).toBe(12);
    expect(stats.timeouts + stats.crcErrors + stats.invalidReplies).toBe(0);
  });

  it("passes exception 02 through for a read across a hole, and reads on", async () => {
    const read = readerFor(link);
    expect(await read(2, 3, 8, 6)).toEqual({ kind: "exception", code: 2, name: "ILLEGAL DATA ADDRESS" });
    expect(await read(2, 3, 8, 2)).toEqual({ kind: "ok", registers: holding(2).slice(8) });
    expect(await read(2, 3, HOLE + 1, 4)).toEqual({ kind: "ok", registers: afterHole(2) });
  });

  it("times out while the server is down and reads again once it is back", async () => {
    const read = readerFor(link, 200);
    await server.kill();
    expect(await read(1, 3, 0, 2)).toEqual({ kind: "timeout", crcErrors: 0 });
    expect(await read(3, 4, 0, 2)).toEqual({ kind: "timeout", crcErrors: 0 });
    // The port itself is fine: only the slave went away.
    expect(link.state).toBe("connected");

    server = resources.track(
      (await startServer(["rtu", "--device", device, "--baud", "19200", "--parity", "N"])).child,
    );
    // Robustness deadline: pymodbus is back within a second or two of its start.
    expect(await readUntilOk(() => read(1, 3, 0, 2), 5_000)).toEqual({
      kind: "ok",
      registers: holding(1).slice(0, 2),
    });
  });
});

describe("RtuLink against pymodbus 3.0 RTU over TCP (a serial device server)", () => {
  const resources = new Resources();
  let stream: ReconnectingStream;
  let link: RtuLink;
  let port: number;
  let server: LineChild;

  function rtuOverTcp(keepConnectionOpen: boolean): { stream: ReconnectingStream; link: RtuLink } {
    const s = new ReconnectingStream(tcpConnector("127.0.0.1", port), {
      initialDelayMs: 100,
      maxDelayMs: 500,
    });
    const l = new RtuLink(
      { key: `rtu-over-tcp://127.0.0.1:${port}`, turnaroundDelayMs: 0, echo: false, keepConnectionOpen },
      { stream: s },
    );
    return { stream: s, link: l };
  }

  beforeAll(async () => {
    const started = await startServer(["rtu-over-tcp", "--port", "0"]);
    server = resources.track(started.child);
    port = Number(started.ready);
    ({ stream, link } = rtuOverTcp(true));
    await link.start(new AbortController().signal);
  });

  afterAll(async () => {
    await link?.stop();
    await resources.release();
  });

  it("reads every table from three unit ids, and exception 02 across a hole", async () => {
    const read = readerFor(link);
    await expectEveryTableOfEveryUnit(read);
    expect(await read(2, 3, 8, 6)).toEqual({ kind: "exception", code: 2, name: "ILLEGAL DATA ADDRESS" });
    expect(link.key).toBe(`rtu-over-tcp://127.0.0.1:${port}`);
    expect(link.stats().connects).toBe(1);
  });

  it("with keepConnectionOpen false, closes when idle and reconnects for the next read", async () => {
    const single = rtuOverTcp(false);
    await single.link.start(new AbortController().signal);
    try {
      const read = readerFor(single.link);
      expect(await read(1, 3, 0, 3)).toEqual({ kind: "ok", registers: holding(1).slice(0, 3) });
      single.link.idle();
      expect(single.link.state).toBe("idle");
      expect(await read(3, 4, 0, 3)).toEqual({ kind: "ok", registers: input(3).slice(0, 3) });
      single.link.idle();
      expect(single.link.stats()).toMatchObject({ connects: 2, disconnects: 2, responses: 2 });
    } finally {
      await single.link.stop();
    }
  });

  it("answers 'disconnected' while the server is down and reads again after it restarts on its port", async () => {
    const read = readerFor(link, 300);
    await server.kill();
    const down = await readUntilDisconnected(() => read(1, 3, 0, 1), 5_000);
    expect(down).toMatchObject({
      kind: "disconnected",
      reason: expect.stringMatching(/ECONNREFUSED|closed|reset/),
    });
    server = resources.track((await startServer(["rtu-over-tcp", "--port", String(port)])).child);
    expect(await readUntilOk(() => read(1, 3, 0, 1), 5_000)).toEqual({ kind: "ok", registers: [100] });
    expect(stream.connects).toBeGreaterThanOrEqual(2);
  });
});

async function readUntilDisconnected(
  read: () => Promise<LinkReadResult>,
  withinMs: number,
): Promise<LinkReadResult> {
  const deadline = performance.now() + withinMs;
  let result = await read();
  while (result.kind !== "disconnected" && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    result = await read();
  }
  return result;
}
