/**
 * Building blocks of the config schema. Every value a technician types goes through one of these,
 * so the messages here are the ones they will read: each says what was expected and shows an example.
 */
import * as z from "zod";

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
/** "500ms", "10s", "1h30m", "7d". A unit is mandatory: a bare 1000 could mean ms or s. */
export const DURATION_PATTERN = "^(?:\\d+(?:\\.\\d+)?(?:ms|s|m|h|d))+$";

/** Parses a duration string to milliseconds, or returns undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!new RegExp(DURATION_PATTERN).test(text)) {
    return undefined;
  }
  let total = 0;
  for (const match of text.matchAll(DURATION_PART)) {
    const [, amount, unit] = match;
    total += Number(amount) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS];
  }
  return Math.round(total);
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1_000],
  ] as const) {
    if (ms >= size && ms % size === 0) {
      return `${ms / size}${unit}`;
    }
  }
  return `${ms}ms`;
}

/**
 * A quantity written as text with a unit ("10s", "512MiB"), validated to [min, max] and
 * delivered as a number in the base unit. A bare number is refused with a hint rather than
 * guessed: "timeout: 1000" has cost plants a 1000-second timeout before.
 */
function quantityWithUnit(spec: {
  readonly parse: (text: string) => number | undefined;
  readonly pattern: string;
  readonly min: string;
  readonly max: string;
  readonly bareNumber: (value: number) => string;
  readonly malformed: string;
  readonly description: string;
}) {
  const min = spec.parse(spec.min) ?? 0;
  const max = spec.parse(spec.max) ?? Number.MAX_SAFE_INTEGER;
  return z
    .string({
      error: (issue) => (typeof issue.input === "number" ? spec.bareNumber(issue.input) : undefined),
    })
    .regex(new RegExp(spec.pattern), {
      error: (issue) => `${spec.malformed} (got ${JSON.stringify(issue.input)})`,
    })
    .transform((text, ctx) => {
      const value = spec.parse(text) ?? Number.NaN;
      if (value < min || value > max) {
        ctx.addIssue({
          code: "custom",
          message: `must be between ${spec.min} and ${spec.max} (got ${text})`,
          input: text,
        });
        return z.NEVER;
      }
      return value;
    })
    .meta({ description: spec.description });
}

/** A duration with a unit ("500ms", "10s", "1h30m"), delivered as milliseconds. */
export function duration(options: { min: string; max: string; description: string; example?: string }) {
  const example = options.example ?? options.min;
  return quantityWithUnit({
    parse: parseDuration,
    pattern: DURATION_PATTERN,
    min: options.min,
    max: options.max,
    bareNumber: (value) =>
      `expected a duration with a unit, such as "${example}" (got the bare number ${value}; write ${value}ms or ${value}s)`,
    malformed: "expected a duration such as 500ms, 10s, 5m, 1h or 7d",
    description: `${options.description} A duration: 500ms, 10s, 5m, 1h, 7d (${options.min} to ${options.max}).`,
  });
}

const SIZE_UNITS = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
} as const;
export const BYTE_SIZE_PATTERN = "^(\\d+(?:\\.\\d+)?) ?(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$";

export function parseByteSize(text: string): number | undefined {
  const match = new RegExp(BYTE_SIZE_PATTERN).exec(text);
  if (!match) {
    return undefined;
  }
  return Math.round(Number(match[1]) * SIZE_UNITS[match[2] as keyof typeof SIZE_UNITS]);
}

/** A byte size with a unit ("512MiB", "2GB"), delivered as a number of bytes. */
export function byteSize(options: { min: string; max: string; description: string }) {
  return quantityWithUnit({
    parse: parseByteSize,
    pattern: BYTE_SIZE_PATTERN,
    min: options.min,
    max: options.max,
    bareNumber: (value) =>
      `expected a size with a unit, such as "512MiB" or "2GB" (got the bare number ${value})`,
    malformed: "expected a size such as 512MiB, 2GiB or 500MB",
    description: `${options.description} A size: 512MiB, 2GiB, 500MB (${options.min} to ${options.max}).`,
  });
}

/** Integer in [min, max]; the range is part of every message. */
export function integer(min: number, max: number, description: string) {
  return z
    .number()
    .int({ error: (issue) => `expected a whole number from ${min} to ${max} (got ${String(issue.input)})` })
    .min(min, { error: (issue) => `must be from ${min} to ${max} (got ${String(issue.input)})` })
    .max(max, { error: (issue) => `must be from ${min} to ${max} (got ${String(issue.input)})` })
    .meta({ description });
}

export function port(description: string) {
  return integer(1, 65_535, description);
}

/**
 * Names that end up in MQTT topics, JSON keys and log lines: no "/", "+", "#", spaces or
 * control characters (MQTT 5 §4.7 reserves "+" and "#"; "/" would add topic levels).
 */
/** Whether Intl knows the IANA time zone name (gateway.timezone, the CSV commands' --timezone). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$";
export function name(what: string, description: string) {
  return z
    .string()
    .regex(new RegExp(NAME_PATTERN), {
      error: (issue) =>
        `expected a ${what} of letters, digits, "_", "." or "-", starting with a letter or digit, at most 64 characters (got ${JSON.stringify(issue.input)})`,
    })
    .meta({ description });
}

const HOST_PATTERN =
  "^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\\[?[0-9A-Fa-f:.]+\\]?)$";
export function host(description: string) {
  return z
    .string()
    .regex(new RegExp(HOST_PATTERN), {
      error: (issue) =>
        `expected a host name or IP address without scheme or port, such as 10.0.4.21 or plc-7.plant.local (got ${JSON.stringify(issue.input)})`,
    })
    .meta({ description });
}

/**
 * A filesystem path. Relative paths are resolved against the directory of the config file
 * (see loadConfig), so every key holding a path is named "...File", "...Dir" or "dir".
 */
export function filePath(description: string) {
  return z
    .string()
    .min(1, { error: "expected a file path (got an empty string)" })
    .refine((text) => !text.includes("\0"), { error: "a path cannot contain a NUL character" })
    .meta({ description, format: "path" });
}

/** Serial device nodes must be absolute; /dev/serial/by-id names survive replugging (FAULTS 8.4). */
export function devicePath(description: string) {
  return z
    .string()
    .regex(/^\/dev\/\S+$/, {
      error: (issue) =>
        `expected an absolute device path such as /dev/serial/by-id/usb-FTDI_FT232R-if00-port0 or /dev/ttyUSB0 (got ${JSON.stringify(issue.input)})`,
    })
    .meta({ description });
}

export function text(description: string, maxLength = 256) {
  return z.string().max(maxLength).meta({ description });
}
