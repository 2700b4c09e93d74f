/** Builds an RtuLink on a real serial port (a pty end) through the real reconnect loop. */
import { ReconnectingStream } from "../../../../src/sources/link/reconnectingStream.js";
import { type SerialSettings, serialConnector } from "../../../../src/sources/link/serialConnector.js";
import { RtuLink, type RtuLinkOptions } from "../../../../src/sources/modbus/link/rtuLink.js";

export const LINE_19200_8E1: Omit<SerialSettings, "path"> = {
  baudRate: 19200,
  parity: "even",
  dataBits: 8,
  stopBits: 1,
};

export interface SerialRtuBus {
  readonly link: RtuLink;
  readonly stream: ReconnectingStream;
}

export function serialRtuBus(
  path: string,
  options: Partial<Omit<RtuLinkOptions, "key">> & {
    readonly initialDelayMs?: number;
    readonly maxDelayMs?: number;
    readonly nodeCheckIntervalMs?: number;
  } = {},
): SerialRtuBus {
  const line = { ...LINE_19200_8E1, path };
  const stream = new ReconnectingStream(
    serialConnector(line, { nodeCheckIntervalMs: options.nodeCheckIntervalMs ?? 100 }),
    { initialDelayMs: options.initialDelayMs ?? 100, maxDelayMs: options.maxDelayMs ?? 1_000 },
  );
  const link = new RtuLink(
    {
      ...line,
      turnaroundDelayMs: 0,
      echo: false,
      ...options,
      key: `serial:${path}`,
    },
    { stream },
  );
  return { link, stream };
}
