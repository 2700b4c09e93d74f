/**
 * The pymodbus fixture itself (test/fixtures/pymodbus/server.py via test/helpers/pymodbusServer.ts)
 * in its RTU modes, which the RTU link tests build on: it starts, reports READY, and answers a
 * read with the right RTU frame (serial line v1.02 §2.5.1), over TCP and on a socat pty pair.
 * The TCP mode is exercised by mbapLink.pymodbus.test.ts.
 */
import { createConnection } from "node:net";
import { SerialPort } from "serialport";
import { afterEach, describe, expect, it } from "vitest";
import { crc16Modbus } from "../../../../src/sources/modbus/frames/crc16.js";
import { encodeRtuRequest } from "../../../../src/sources/modbus/frames/readRequest.js";
import { startPtyPair } from "../../../helpers/ptyPair.js";
import { type PymodbusUnit, startPymodbusServer } from "../../../helpers/pymodbusServer.js";
import { Resources } from "../../../helpers/resources.js";

const UNITS: Record<number, PymodbusUnit> = {
  1: { holding: { 0: [0x1234, 0x5678] } },
  2: { input: { 10: [42] } },
};

/** The RTU reply a correct server sends: unit, fc, byte count, data, CRC low byte first. */
function rtuReply(unit: number, fc: number, data: number[]): number[] {
  const body = new Uint8Array([unit, fc, data.length, ...data]);
  const crc = crc16Modbus(body);
  return [...body, crc & 0xff, crc >>> 8];
}

const READ_HOLDING = encodeRtuRequest({ unitId: 1, functionCode: 3, address: 0, quantity: 2 });
const EXPECTED_HOLDING = rtuReply(1, 3, [0x12, 0x34, 0x56, 0x78]);
const READ_INPUT = encodeRtuRequest({ unitId: 2, functionCode: 4, address: 10, quantity: 1 });
const EXPECTED_INPUT = rtuReply(2, 4, [0, 42]);

/** Sends `request` and collects `length` bytes (or fails after 5 s). */
function exchange(
  send: (bytes: Uint8Array) => void,
  onData: (listener: (chunk: Buffer) => void) => () => void,
  request: Uint8Array,
  length: number,
): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const received: number[] = [];
    const timer = setTimeout(() => {
      off();
      reject(new Error(`got ${JSON.stringify(received)} within 5 s`));
    }, 5_000);
    const off = onData((chunk) => {
      received.push(...chunk);
      if (received.length >= length) {
        clearTimeout(timer);
        off();
        resolve(received);
      }
    });
    send(request);
  });
}

const resources = new Resources();
afterEach(() => resources.release());

describe("pymodbus fixture server", () => {
  it("rtu-over-tcp: reports READY on a free port and answers RTU frames for two units", async () => {
    const server = resources.track(await startPymodbusServer({ transport: "rtu-over-tcp", units: UNITS }));
    expect(server.port).toBeGreaterThan(0);
    const socket = createConnection({ host: "127.0.0.1", port: server.port });
    resources.track({ kill: async () => void socket.destroy() });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve).once("error", reject);
    });
    const onData = (listener: (chunk: Buffer) => void): (() => void) => {
      socket.on("data", listener);
      return () => socket.off("data", listener);
    };
    const send = (bytes: Uint8Array): void => void socket.write(bytes);
    expect(await exchange(send, onData, READ_HOLDING, EXPECTED_HOLDING.length)).toEqual(EXPECTED_HOLDING);
    expect(await exchange(send, onData, READ_INPUT, EXPECTED_INPUT.length)).toEqual(EXPECTED_INPUT);
  });

  it("rtu: serves one side of a pty pair (parity E falls back to N on a pty) and answers", async () => {
    const dir = await resources.tempDir();
    const pair = resources.track(await startPtyPair(dir));
    const server = resources.track(
      await startPymodbusServer({ transport: "rtu", device: pair.b, baud: 19200, parity: "E", units: UNITS }),
    );
    expect(server.device).toBe(pair.b);
    expect(server.port).toBe(0);
    expect(server.stderr()).toContain("rejects parity E; using N");
    const port = new SerialPort({ path: pair.a, baudRate: 19200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    resources.track({
      kill: () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
    });
    const onData = (listener: (chunk: Buffer) => void): (() => void) => {
      port.on("data", listener);
      return () => port.off("data", listener);
    };
    const send = (bytes: Uint8Array): void => void port.write(Buffer.from(bytes));
    expect(await exchange(send, onData, READ_HOLDING, EXPECTED_HOLDING.length)).toEqual(EXPECTED_HOLDING);
    expect(await exchange(send, onData, READ_INPUT, EXPECTED_INPUT.length)).toEqual(EXPECTED_INPUT);
  });

  it("fails with the server's stderr when it cannot start", async () => {
    await expect(
      startPymodbusServer({ transport: "rtu", device: "/nonexistent/tty", units: UNITS }),
    ).rejects.toThrow(/exited before READY[\s\S]*cannot open serial device \/nonexistent\/tty/);
  });
});
