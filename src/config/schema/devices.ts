/** The `devices` section: one entry per Modbus unit or serial-line sensor (issue #4). */
import * as z from "zod";
import { devicePath, duration, host, integer, name, port, text } from "./primitives.js";
import { BYTE_ORDERS, pollGroupSchema, serialLineTagSchema } from "./tags.js";

export const STANDARD_BAUD_RATES = [
  300, 600, 1200, 2400, 4800, 9600, 14400, 19200, 38400, 57600, 115200, 230400, 460800, 921600,
] as const;

/** Serial line settings. Defaults differ by use: Modbus RTU says 8E1 (Modbus over serial line §2.5.1), ASCII sensors are usually 8N1. */
function serialPortSchema(defaults: { parity: "none" | "even"; baudRate: number }) {
  return z
    .strictObject({
      path: devicePath("Serial device. Prefer /dev/serial/by-id/... names: they survive replugging."),
      baudRate: z
        .number()
        .refine((rate) => (STANDARD_BAUD_RATES as readonly number[]).includes(rate), {
          error: (issue) =>
            `expected a standard baud rate: ${STANDARD_BAUD_RATES.join(", ")} (got ${String(issue.input)})`,
        })
        .default(defaults.baudRate)
        .meta({ description: "Line speed in bit/s." }),
      parity: z
        .enum(["none", "even", "odd", "mark", "space"])
        .default(defaults.parity)
        .meta({ description: "Parity bit." }),
      dataBits: z
        .union([z.literal(7), z.literal(8)])
        .default(8)
        .meta({ description: "Data bits: 7 or 8." }),
      stopBits: z
        .union([z.literal(1), z.literal(2)])
        .default(1)
        .meta({ description: "Stop bits: 1 or 2." }),
    })
    .meta({ description: "Serial port settings. Every device on one port must use the same settings." });
}

const reconnectSchema = z
  .strictObject({
    initialDelay: duration({
      min: "100ms",
      max: "5m",
      example: "1s",
      description: "First retry delay after a lost connection or port.",
    }).prefault("1s"),
    maxDelay: duration({
      min: "1s",
      max: "1h",
      example: "60s",
      description: "Retry delay cap; delays double with jitter up to this.",
    }).prefault("60s"),
  })
  .meta({ description: "Reconnect or reopen backoff." });

const deviceBase = {
  name: name(
    "device name",
    'Device name, unique in this file; the {device} level of MQTT topics. "gateway" is reserved for the gateway\'s own health.',
  ),
  description: text("Free text for people: machine, cabinet, panel.").optional(),
  enabled: z.boolean().default(true).meta({ description: "Set false to keep the entry but not poll it." }),
};

const modbusCommon = {
  ...deviceBase,
  timeout: duration({
    min: "10ms",
    max: "60s",
    example: "500ms",
    description: "Reply timeout of one request.",
  }).prefault("500ms"),
  retries: integer(
    0,
    10,
    "Retries of a failed request within one poll before its tags are marked bad.",
  ).default(1),
  byteOrder: z.enum(BYTE_ORDERS).default("ABCD").meta({
    description:
      "Default byte/word order of 32- and 64-bit values: ABCD (big-endian), CDAB (word swap), BADC, DCBA.",
  }),
  addressing: z.enum(["zero-based", "modicon"]).default("zero-based").meta({
    description:
      "zero-based: protocol addresses as on the wire. modicon: 40001-style addresses that also name the table.",
  }),
  maxGap: integer(
    0,
    124,
    "Read across a gap of at most this many unused registers to save a request.",
  ).default(16),
  maxRegistersPerRead: integer(1, 125, "Largest register read (Modbus allows 125).").default(125),
  maxBitsPerRead: integer(1, 2000, "Largest coil/discrete read (Modbus allows 2000).").default(2000),
  busyRetries: integer(0, 10, "Retries after exception 06 (server busy).").default(2),
  busyRetryDelay: duration({
    min: "0ms",
    max: "10s",
    example: "100ms",
    description: "Wait before retrying after exception 06.",
  }).prefault("100ms"),
  pollGroups: z.array(pollGroupSchema).min(1, { error: "a Modbus device needs at least one poll group" }),
};

const tcpConnection = {
  host: host("IP address or host name of the device or gateway."),
  pauseAfterConnect: duration({
    min: "0ms",
    max: "10s",
    example: "500ms",
    description: "Wait after connecting before the first request; some devices need it.",
  }).prefault("0ms"),
  keepConnectionOpen: z.boolean().default(true).meta({
    description: "false: close the connection after each poll (devices that allow one client at a time).",
  }),
  reconnect: reconnectSchema.prefault({}),
};

const rtuLineTiming = {
  turnaroundDelay: duration({
    min: "0ms",
    max: "1s",
    example: "5ms",
    description:
      "Extra silence after each reply, on top of the t3.5 inter-frame gap computed from the baud rate.",
  }).prefault("0ms"),
};

export const modbusTcpDeviceSchema = z
  .strictObject({
    protocol: z.literal("modbus-tcp"),
    ...modbusCommon,
    ...tcpConnection,
    port: port("TCP port.").default(502),
    unitId: integer(
      0,
      255,
      "Unit identifier (255 or 1 for most devices; the slave id behind a TCP-to-RTU gateway).",
    ).default(1),
  })
  .meta({ title: "modbus-tcp", description: "A Modbus TCP device." });

export const modbusRtuDeviceSchema = z
  .strictObject({
    protocol: z.literal("modbus-rtu"),
    ...modbusCommon,
    ...rtuLineTiming,
    serial: serialPortSchema({ parity: "even", baudRate: 19200 }),
    unitId: integer(1, 247, "Slave address on the RS-485 bus (0 is broadcast and never answers)."),
    echo: z.boolean().default(false).meta({
      description: "The RS-485 adapter echoes what it sends; skip the echo before reading the reply.",
    }),
  })
  .meta({ title: "modbus-rtu", description: "A Modbus RTU slave on an RS-485 port." });

export const modbusRtuOverTcpDeviceSchema = z
  .strictObject({
    protocol: z.literal("modbus-rtu-over-tcp"),
    ...modbusCommon,
    ...tcpConnection,
    ...rtuLineTiming,
    port: port("TCP port of the serial server."),
    unitId: integer(1, 247, "Slave address on the bus behind the serial server."),
  })
  .meta({ title: "modbus-rtu-over-tcp", description: "RTU frames tunnelled through a TCP serial server." });

const lineParserSchema = z.discriminatedUnion(
  "format",
  [
    z.strictObject({
      format: z.literal("regex"),
      pattern: z.string().min(1).meta({
        description: "JavaScript regular expression with named groups, e.g. ^T=(?<temp>-?\\d+\\.\\d+)$",
      }),
    }),
    z.strictObject({
      format: z.literal("csv"),
      separator: z.string().min(1).max(4).default(","),
      columns: z
        .array(z.string().max(128))
        .min(1)
        .meta({ description: 'Column names in order; "" skips a column.' }),
    }),
    z.strictObject({
      format: z.literal("key-value"),
      pairSeparator: z
        .string()
        .min(1)
        .max(4)
        .default(" ")
        .meta({ description: 'Between pairs, e.g. " " or ",".' }),
      keyValueSeparator: z
        .string()
        .min(1)
        .max(4)
        .default("=")
        .meta({ description: 'Between key and value, e.g. "=" or ":".' }),
    }),
    z.strictObject({ format: z.literal("json") }),
  ],
  { error: "expected format: regex, csv, key-value or json" },
);

export const serialLineDeviceSchema = z
  .strictObject({
    protocol: z.literal("serial-line"),
    ...deviceBase,
    serial: serialPortSchema({ parity: "none", baudRate: 9600 }),
    delimiter: z
      .string()
      .min(1)
      .max(8)
      .default("\n")
      .meta({ description: 'End of a line, e.g. "\\n" or "\\r\\n" (double quotes in YAML).' }),
    maxLineLength: integer(
      16,
      1_048_576,
      "Longer lines are discarded and counted; bounds the buffer.",
    ).default(4096),
    encoding: z.enum(["utf8", "ascii", "latin1"]).default("utf8"),
    parser: lineParserSchema,
    staleAfter: duration({
      min: "1s",
      max: "1d",
      example: "30s",
      description: "Mark tags missing when no line arrives for this long.",
    }).prefault("30s"),
    reopen: reconnectSchema.prefault({}),
    tags: z.array(serialLineTagSchema).min(1, { error: "a serial-line device needs at least one tag" }),
  })
  .meta({ title: "serial-line", description: "An ASCII sensor that sends lines over a serial port." });

export const PROTOCOLS = ["modbus-tcp", "modbus-rtu", "modbus-rtu-over-tcp", "serial-line"] as const;

export const deviceSchema = z.discriminatedUnion(
  "protocol",
  [modbusTcpDeviceSchema, modbusRtuDeviceSchema, modbusRtuOverTcpDeviceSchema, serialLineDeviceSchema],
  { error: `expected protocol: ${PROTOCOLS.join(", ")}` },
);
