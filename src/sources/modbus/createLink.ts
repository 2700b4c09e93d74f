/**
 * The link for a bus, from the config of the devices on it (modbusBuses.ts groups them; the
 * config check guarantees they agree on the path's settings, so the first device speaks for
 * the path). Constructing does no I/O.
 *
 * - modbus-tcp: MBAP framing over a reconnecting TCP connection (several unit ids behind one
 *   endpoint, e.g. a TCP-to-RTU gateway, share it).
 * - modbus-rtu: RTU framing over the serial port, one owner per port.
 * - modbus-rtu-over-tcp: RTU framing over a TCP connection to a serial server; the serial line's
 *   baud rate is unknown here, so the silence is the fixed 1.75 ms t3.5 of fast lines (serial line
 *   v1.02 §2.5.1.1) plus the configured turnaround delay.
 */
import type { ModbusDeviceConfig } from "../../config/schema/index.js";
import { ReconnectingStream } from "../link/reconnectingStream.js";
import { serialConnector } from "../link/serialConnector.js";
import { tcpConnector } from "../link/tcpConnector.js";
import { MbapLink } from "./link/mbapLink.js";
import type { ModbusLink } from "./link/modbusLink.js";
import { RtuLink } from "./link/rtuLink.js";

/** RTU config has no reconnect section: a serial port is reopened after 1 s, backing off to 30 s. */
const SERIAL_REOPEN = { initialDelayMs: 1_000, maxDelayMs: 30_000 } as const;

export function createLink(devices: readonly ModbusDeviceConfig[]): ModbusLink {
  const device = devices[0];
  if (device === undefined) {
    throw new RangeError("createLink: a bus needs at least one device");
  }
  switch (device.protocol) {
    case "modbus-tcp":
      return new MbapLink({
        host: device.host,
        port: device.port,
        keepConnectionOpen: device.keepConnectionOpen,
        pauseAfterConnectMs: device.pauseAfterConnect,
        reconnect: { initialDelayMs: device.reconnect.initialDelay, maxDelayMs: device.reconnect.maxDelay },
      });
    case "modbus-rtu": {
      const stream = new ReconnectingStream(serialConnector(device.serial), SERIAL_REOPEN);
      return new RtuLink(
        {
          key: `serial:${device.serial.path}`,
          ...device.serial,
          turnaroundDelayMs: device.turnaroundDelay,
          echo: device.echo,
        },
        { stream },
      );
    }
    case "modbus-rtu-over-tcp": {
      const stream = new ReconnectingStream(tcpConnector(device.host, device.port), {
        initialDelayMs: device.reconnect.initialDelay,
        maxDelayMs: device.reconnect.maxDelay,
        pauseAfterConnectMs: device.pauseAfterConnect,
      });
      return new RtuLink(
        {
          key: `rtu-over-tcp://${device.host}:${device.port}`,
          turnaroundDelayMs: device.turnaroundDelay,
          echo: false,
          keepConnectionOpen: device.keepConnectionOpen,
        },
        { stream },
      );
    }
  }
}
