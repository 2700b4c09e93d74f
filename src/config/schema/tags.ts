/** Tags: what to read from a device and how to turn it into a value (issue #4). */
import * as z from "zod";
import { duration, integer, name, text } from "./primitives.js";

export const MODBUS_TABLES = ["coil", "discrete", "holding", "input"] as const;
export type ModbusTable = (typeof MODBUS_TABLES)[number];

export const REGISTER_TYPES = [
  "bool",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "uint64",
  "float32",
  "float64",
  "string",
] as const;
export type RegisterType = (typeof REGISTER_TYPES)[number];

/** Byte order of a multi-register value, A being the most significant byte as the device means it. */
export const BYTE_ORDERS = ["ABCD", "CDAB", "BADC", "DCBA"] as const;
export type ByteOrder = (typeof BYTE_ORDERS)[number];

/** Registers a value of this type occupies (string: its configured length). */
export function registerCount(type: RegisterType, length: number | undefined): number {
  switch (type) {
    case "bool":
    case "int16":
    case "uint16":
      return 1;
    case "int32":
    case "uint32":
    case "float32":
      return 2;
    case "int64":
    case "uint64":
    case "float64":
      return 4;
    case "string":
      return length ?? 1;
  }
}

const deadbandSchema = z
  .union([z.number().min(0), z.string().regex(/^\d+(?:\.\d+)?%$/)], {
    error: (issue) =>
      `expected an absolute deadband such as 0.5 or a percentage of the last published value such as "2%" (got ${JSON.stringify(issue.input)})`,
  })
  .transform((value) =>
    typeof value === "number"
      ? { kind: "absolute" as const, value }
      : { kind: "percent" as const, value: Number.parseFloat(value) },
  )
  .meta({
    description:
      'Publish only when the value moves by more than this since the last published value: 0.5 (absolute) or "2%".',
  });

const finite = (description: string) =>
  z.number().refine(Number.isFinite, { error: "must be a finite number" }).meta({ description });

/** Shared by Modbus tags and serial-line fields: how a raw reading becomes a published value. */
const valueShaping = {
  scale: finite("Multiply the raw value by this (after decoding).").optional(),
  offset: finite("Add this after scaling.").optional(),
  unit: text("Engineering unit, e.g. A, V, kW, degC, m3/h.", 32).optional(),
  deadband: deadbandSchema.optional(),
  heartbeat: duration({
    min: "1s",
    max: "1d",
    example: "60s",
    description: "Publish at least this often even when the value stays inside the deadband.",
  }).optional(),
};

export const modbusTagSchema = z
  .strictObject({
    name: name("tag name", "Tag name, unique within its device."),
    description: text("Free text for people.").optional(),
    table: z.enum(MODBUS_TABLES).optional().meta({
      description:
        "Modbus table: coil, discrete (input), holding or input (register). Implied by the address with addressing: modicon.",
    }),
    address: integer(
      0,
      465_536,
      "Register or bit address: 0-based protocol address (default), or 40001-style with addressing: modicon.",
    ),
    type: z.enum(REGISTER_TYPES).meta({
      description:
        "Value type. bool on a register needs bit; string needs length (registers, 2 characters each).",
    }),
    bit: integer(
      0,
      15,
      "For type bool on a holding or input register: the bit, 0 = least significant.",
    ).optional(),
    length: integer(1, 125, "For type string: number of registers.").optional(),
    order: z
      .enum(BYTE_ORDERS)
      .optional()
      .meta({ description: "Byte/word order for this tag; overrides the device's byteOrder." }),
    ...valueShaping,
  })
  .meta({ description: "One value read from a Modbus device." });

export const pollGroupSchema = z
  .strictObject({
    name: name("poll group name", "Poll group name, unique within its device."),
    interval: duration({
      min: "10ms",
      max: "1d",
      example: "1s",
      description: "How often the group is read.",
    }),
    tags: z.array(modbusTagSchema).min(1, { error: "a poll group needs at least one tag" }),
  })
  .meta({ description: "Tags read together at one interval; the planner coalesces them into few requests." });

export const serialLineTagSchema = z
  .strictObject({
    name: name("tag name", "Tag name, unique within its device."),
    description: text("Free text for people.").optional(),
    field: z.string().min(1).max(128).optional().meta({
      description:
        "Where the value is in a line: the named regex group, CSV column name, key, or JSON field (dots for nesting). Default: the tag name.",
    }),
    type: z
      .enum(["number", "string", "bool"])
      .default("number")
      .meta({ description: "How the text is read." }),
    ...valueShaping,
  })
  .meta({ description: "One value taken from each line an ASCII sensor sends." });

export type ModbusTagInput = z.input<typeof modbusTagSchema>;
