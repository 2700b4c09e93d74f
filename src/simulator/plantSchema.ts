/**
 * The plant file of `edgewarden simulate` (issue #7 item 1): the machines of a small steel plant,
 * where each signal sits in the Modbus register map, their load patterns and the faults scheduled.
 * Validated like the gateway config, so a wrong plant file says FILE:LINE:COL too.
 */
import * as z from "zod";
import { duration, integer, name } from "../config/schema/primitives.js";

export const FAULT_KINDS = [
  "bearing-overheat",
  "overload",
  "idle-drain",
  "voltage-sag",
  "power-factor-drop",
  "stuck-sensor",
  "counter-stall",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Types the simulator encodes; the 64-bit and string types of the gateway are not needed here. */
export const SIM_REGISTER_TYPES = ["bool", "uint16", "int16", "uint32", "float32"] as const;
export type SimRegisterType = (typeof SIM_REGISTER_TYPES)[number];

const clockTime = z
  .string()
  .regex(/^(?:[01]\d|2[0-3]):[0-5]\d$/, {
    error: (issue) => `expected HH:MM (got ${JSON.stringify(issue.input)})`,
  })
  .transform((text) => Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5)))
  .meta({ description: "Time of day, HH:MM, in the simulated clock (UTC)." });

const finite = z.number().refine(Number.isFinite, { error: "must be a finite number" });
const positive = finite.refine((v) => v > 0, { error: "must be greater than 0" });
const fraction = finite.refine((v) => v >= 0 && v <= 1, { error: "must be from 0 to 1" });

export const registerSchema = z
  .strictObject({
    table: z.enum(["coil", "discrete", "holding", "input"]),
    address: integer(0, 65_535, "0-based protocol address."),
    type: z.enum(SIM_REGISTER_TYPES),
    order: z.enum(["ABCD", "CDAB"]).default("ABCD").meta({ description: "Word order of 32-bit values." }),
    scale: positive
      .optional()
      .meta({ description: "The register holds value / scale (the device config multiplies back)." }),
  })
  .refine((r) => (r.type === "bool") === (r.table === "coil" || r.table === "discrete"), {
    error: "type bool belongs in a coil or discrete table, and only bool does",
  });
export type RegisterSpec = z.output<typeof registerSchema>;

const machineBase = {
  name: name("machine name", "Machine name, unique in the plant."),
  unitId: integer(1, 247, "Modbus unit id that serves this machine's registers."),
  noise: fraction.default(0.01).meta({ description: "Relative standard deviation of measurement noise." }),
};

const driveSchema = z.strictObject({
  ...machineBase,
  kind: z.literal("drive"),
  ratedPowerKw: positive,
  nominalVoltageV: positive,
  powerFactor: fraction,
  ambientC: finite.default(30),
  ratedTempRiseC: positive.default(70),
  thermalTimeConstant: duration({ min: "1s", max: "1d", description: "Winding thermal time constant." }),
  vibrationMmS: positive.default(2),
  /** Load fraction while no shift runs: the drive idles but stays energised. */
  idleLoad: fraction.default(0.05),
  signals: z.strictObject({
    current: registerSchema,
    voltage: registerSchema,
    active_power: registerSchema,
    power_factor: registerSchema,
    winding_temp: registerSchema,
    vibration: registerSchema,
  }),
});

const furnaceSchema = z.strictObject({
  ...machineBase,
  kind: z.literal("furnace"),
  ambientC: finite.default(30),
  timeConstant: duration({ min: "1s", max: "1d", description: "Zone temperature time constant." }),
  gasPerZoneM3h: positive,
  zones: z
    .array(z.strictObject({ setpointC: positive, temp: registerSchema }))
    .min(1)
    .max(8),
  signals: z.strictObject({ gas_flow: registerSchema }),
});

const pressSchema = z.strictObject({
  ...machineBase,
  kind: z.literal("press"),
  cycleTime: duration({ min: "100ms", max: "1h", description: "Time of one stroke while running." }),
  scrapRate: fraction,
  plannedStops: z
    .array(
      z.strictObject({
        start: clockTime,
        duration: duration({ min: "1m", max: "12h", description: "Length of the daily stop." }),
      }),
    )
    .max(16)
    .default([]),
  signals: z.strictObject({
    run_state: registerSchema,
    planned_stop: registerSchema,
    cycle_count: registerSchema,
    good_count: registerSchema,
    scrap_count: registerSchema,
  }),
});

export const machineSchema = z.discriminatedUnion("kind", [driveSchema, furnaceSchema, pressSchema], {
  error: "expected kind: drive, furnace or press",
});
export type MachineSpec = z.output<typeof machineSchema>;
export type DriveSpec = z.output<typeof driveSchema>;
export type FurnaceSpec = z.output<typeof furnaceSchema>;
export type PressSpec = z.output<typeof pressSchema>;

export const faultSchema = z.strictObject({
  machine: name("machine name", "The machine the fault acts on."),
  fault: z.enum(FAULT_KINDS),
  at: duration({ min: "0s", max: "30d", description: "Start, counted from the simulator's start." }),
  duration: duration({ min: "1s", max: "30d", description: "How long the fault lasts." }),
  signal: z.string().max(64).optional().meta({ description: "For stuck-sensor: the signal that freezes." }),
});
export type ScheduledFault = z.output<typeof faultSchema>;

export const plantSchema = z.strictObject({
  seed: integer(0, 4_294_967_295, "Seed of the noise; one seed, one plant history.").default(1),
  startAt: z.iso
    .datetime({ offset: true, error: "expected an ISO date-time such as 2026-01-05T06:00:00Z" })
    .default("2026-01-05T06:00:00Z")
    .meta({ description: "Simulated wall time at start; shifts, stops and the daily pattern follow it." }),
  step: duration({ min: "10ms", max: "10s", description: "Simulation step." }).prefault("100ms"),
  dailyAmplitude: fraction.default(0.1).meta({ description: "Relative sine swing of the load over a day." }),
  shifts: z
    .array(
      z.strictObject({
        name: name("shift name", "Shift name."),
        start: clockTime,
        end: clockTime,
        load: fraction,
      }),
    )
    .min(1)
    .max(8),
  machines: z.array(machineSchema).min(1).max(32),
  faults: z.array(faultSchema).max(256).default([]),
});
export type PlantSpec = z.output<typeof plantSchema>;
