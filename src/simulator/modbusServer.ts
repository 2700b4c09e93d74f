/**
 * Serves a RegisterImage over Modbus TCP with modbus-serial's ServerTCP (issue #7 item 1).
 * Read-only: every write function answers exception 01 (illegal function), as a device whose map
 * has no writable registers does; a unit id the plant does not have answers 0B (gateway target
 * failed to respond), as a TCP-to-RTU gateway would.
 */
import type { Server, Socket } from "node:net";
import { type IServiceVector, ServerTCP } from "modbus-serial";
import { freeTcpPort } from "../freePort.js";
import type { RegisterImage, SimTable } from "./registerImage.js";

const ILLEGAL_FUNCTION = 0x01;
const TARGET_FAILED = 0x0b;

type ModbusError = Error & { modbusErrorCode: number };

function modbusError(code: number, message: string): ModbusError {
  return Object.assign(new Error(message), { modbusErrorCode: code });
}

export function serviceVector(image: RegisterImage): IServiceVector {
  const read = (table: SimTable) => (address: number, unitId: number) => {
    if (!image.hasUnit(unitId)) {
      throw modbusError(TARGET_FAILED, `no unit ${unitId}`);
    }
    return image.read(unitId, table, address);
  };
  const many = (table: SimTable) => (address: number, length: number, unitId: number) =>
    Array.from({ length }, (_, i) => read(table)(address + i, unitId));
  const refuse = (_a: unknown, _b: unknown, _unit: unknown, cb: (err: Error | null) => void) =>
    cb(modbusError(ILLEGAL_FUNCTION, "the simulator is read-only"));
  return {
    getCoil: (address: number, unitId: number) => read("coil")(address, unitId) !== 0,
    getDiscreteInput: (address: number, unitId: number) => read("discrete")(address, unitId) !== 0,
    getHoldingRegister: read("holding"),
    getInputRegister: read("input"),
    getMultipleHoldingRegisters: many("holding"),
    getMultipleInputRegisters: many("input"),
    setCoil: refuse,
    setRegister: refuse,
    setRegisterArray: refuse,
  };
}

export interface ModbusListener {
  readonly port: number;
  close(): Promise<void>;
}

export async function listenModbus(
  image: RegisterImage,
  host: string,
  port: number,
): Promise<ModbusListener> {
  // modbus-serial's ServerTCP reads port 0 as "unset" and binds 502 (`options.port || 502`), so
  // "any free port" is asked of the OS first; the port is free again for a moment before ServerTCP
  // binds it (a test or the demo, not a production path).
  const wanted = port === 0 ? await freeTcpPort(host) : port;
  const server = new ServerTCP(serviceVector(image), { host, port: wanted, unitID: 255 });
  await new Promise<void>((resolve, reject) => {
    server.once("serverError", reject);
    server.once("initialized", () => {
      server.off("serverError", reject);
      resolve();
    });
  });
  server.on("socketError", () => {
    // A client that resets its connection is the client's business, not a simulator failure.
  });
  server.on("error", () => {
    // Raised for a request the library could not answer; the client sees its timeout.
  });
  const internal = server as unknown as { _server: Server; socks: Map<Socket, number> };
  const address = internal._server.address();
  const bound = address !== null && typeof address === "object" ? address.port : wanted;
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of internal.socks.keys()) {
          socket.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
