/**
 * Cross-field checks of the devices section: things no single key can say wrong on its own
 * (FAULTS 8.3 "request larger than 125 registers / address overflow", 8.6 cross-field errors).
 */
import type * as z from "zod";
import { resolveModbusAddress } from "./modbusAddressing.js";
import { formatDuration } from "./primitives.js";
import type { ParsedConfig } from "./root.js";
import { registerCount } from "./tags.js";

type Device = ParsedConfig["devices"][number];
type ModbusDevice = Exclude<Device, { protocol: "serial-line" }>;
type SerialLineDevice = Extract<Device, { protocol: "serial-line" }>;
type Path = (string | number)[];

/**
 * What a finding rests on: the device entries and their keys it read. When the loader checks a
 * device salvaged with defaults in place of invalid values, findings that rest on a replaced key
 * are dropped (see crossCheckParts).
 */
export interface FindingBasis {
  readonly devices: readonly number[];
  readonly keys: readonly string[];
}

export interface IssueSink {
  error(path: Path, message: string, basis?: FindingBasis): void;
}

/** The sink, with every finding marked as resting on `basis`. */
function based(issues: IssueSink, basis: FindingBasis): IssueSink {
  return { error: (path, message) => issues.error(path, message, basis) };
}

/** The self-health source publishes as this device (src/sources/selfHealth). */
export const RESERVED_DEVICE_NAME = "gateway";

const MODBUS_CHECK_KEYS = [
  "name",
  "timeout",
  "retries",
  "pollGroups",
  "addressing",
  "maxRegistersPerRead",
  "maxBitsPerRead",
];
const SERIAL_LINE_CHECK_KEYS = ["name", "tags", "parser"];
const LINK_KEYS = ["protocol", "name", "serial", "host", "port", "unitId"];

export function sinkFor(ctx: z.RefinementCtx): IssueSink {
  return {
    error: (path, message) => ctx.addIssue({ code: "custom", path, message }),
  };
}

/** `devices` may have holes where an entry failed its own schema: the others are still checked. */
export function checkDevices(devices: readonly (Device | undefined)[], issues: IssueSink): void {
  const firstByName = new Map<string, number>();
  devices.forEach((device, i) => {
    if (device === undefined) {
      return;
    }
    if (device.name === RESERVED_DEVICE_NAME) {
      issues.error(
        ["devices", i, "name"],
        `the device name "${RESERVED_DEVICE_NAME}" is reserved for the gateway's own health samples; choose another`,
        { devices: [i], keys: ["name"] },
      );
    }
    const first = firstByName.get(device.name);
    if (first === undefined) {
      firstByName.set(device.name, i);
    } else {
      issues.error(
        ["devices", i, "name"],
        `duplicate device name "${device.name}" (also devices[${first}])`,
        {
          devices: [i, first],
          keys: ["name"],
        },
      );
    }
    if (device.protocol === "serial-line") {
      checkSerialLineDevice(
        device,
        ["devices", i],
        based(issues, { devices: [i], keys: SERIAL_LINE_CHECK_KEYS }),
      );
    } else {
      checkModbusDevice(device, ["devices", i], based(issues, { devices: [i], keys: MODBUS_CHECK_KEYS }));
    }
  });
  checkSharedLinks(devices, issues);
}

function checkModbusDevice(device: ModbusDevice, at: Path, issues: IssueSink): void {
  const groupNames = new Map<string, number>();
  const tagNames = new Map<string, string>();
  const attempts = device.retries + 1;
  device.pollGroups.forEach((group, g) => {
    const groupPath = [...at, "pollGroups", g];
    if (groupNames.has(group.name)) {
      issues.error(
        [...groupPath, "name"],
        `duplicate poll group name "${group.name}" in device "${device.name}"`,
      );
    }
    groupNames.set(group.name, g);
    const worstCase = device.timeout * attempts;
    if (group.interval < worstCase) {
      issues.error(
        [...groupPath, "interval"],
        `interval ${formatDuration(group.interval)} is shorter than timeout × attempts (${formatDuration(device.timeout)} × ${attempts} = ${formatDuration(worstCase)}); a silent device would overrun its own polls — raise the interval or lower timeout/retries`,
      );
    }
    group.tags.forEach((tag, t) => {
      const tagPath = [...groupPath, "tags", t];
      const previous = tagNames.get(tag.name);
      if (previous !== undefined) {
        issues.error(
          [...tagPath, "name"],
          `duplicate tag name "${tag.name}" in device "${device.name}" (also in ${previous})`,
        );
      }
      tagNames.set(tag.name, `poll group "${group.name}"`);
      const resolved = resolveModbusAddress(device.addressing, tag.table, tag.address);
      if ("error" in resolved) {
        issues.error(
          [...tagPath, tag.table === undefined && device.addressing === "zero-based" ? "table" : "address"],
          resolved.error,
        );
        return;
      }
      checkTagShape(device, tag, resolved.table, resolved.address, tagPath, issues);
    });
  });
}

type ModbusTag = ModbusDevice["pollGroups"][number]["tags"][number];

function checkTagShape(
  device: ModbusDevice,
  tag: ModbusTag,
  table: string,
  address: number,
  at: Path,
  issues: IssueSink,
): void {
  const isBitTable = table === "coil" || table === "discrete";
  if (isBitTable && tag.type !== "bool") {
    issues.error([...at, "type"], `a ${table} holds single bits: type must be bool (got ${tag.type})`);
    return;
  }
  if (isBitTable && tag.bit !== undefined) {
    issues.error([...at, "bit"], `bit applies to bool tags on holding or input registers, not to a ${table}`);
  }
  if (!isBitTable && tag.type === "bool" && tag.bit === undefined) {
    issues.error([...at, "bit"], `a bool tag on a ${table} register needs bit: 0-15`);
  }
  if (tag.type !== "bool" && tag.bit !== undefined) {
    issues.error([...at, "bit"], `bit applies only to type bool (this tag is ${tag.type})`);
  }
  if (tag.type === "string" && tag.length === undefined) {
    issues.error([...at, "length"], "a string tag needs length: the number of registers it spans");
  }
  if (tag.type !== "string" && tag.length !== undefined) {
    issues.error([...at, "length"], `length applies only to type string (this tag is ${tag.type})`);
  }
  if (tag.type === "bool" || tag.type === "string") {
    for (const key of ["scale", "offset", "deadband"] as const) {
      if (tag[key] !== undefined) {
        issues.error([...at, key], `${key} applies to numeric tags, not to type ${tag.type}`);
      }
    }
  }
  const count = isBitTable ? 1 : registerCount(tag.type, tag.length);
  const limit = isBitTable ? device.maxBitsPerRead : device.maxRegistersPerRead;
  if (count > limit) {
    issues.error(
      [...at, tag.type === "string" ? "length" : "type"],
      `this tag spans ${count} registers, more than one read allows (${limit})`,
    );
  }
  if (address + count - 1 > 65_535) {
    issues.error(
      [...at, "address"],
      `the value spans ${table} addresses ${address}-${address + count - 1}, beyond the last address 65535`,
    );
  }
}

function checkSerialLineDevice(device: SerialLineDevice, at: Path, issues: IssueSink): void {
  const names = new Set<string>();
  device.tags.forEach((tag, t) => {
    if (names.has(tag.name)) {
      issues.error([...at, "tags", t, "name"], `duplicate tag name "${tag.name}" in device "${device.name}"`);
    }
    names.add(tag.name);
  });
  const parser = device.parser;
  let available: Set<string> | undefined;
  if (parser.format === "regex") {
    try {
      new RegExp(parser.pattern);
    } catch (error) {
      issues.error(
        [...at, "parser", "pattern"],
        `not a valid regular expression: ${(error as Error).message}`,
      );
      return;
    }
    // An alternative that always matches the empty string reveals every group name of the pattern.
    const groups = new RegExp(`${parser.pattern}|(?<__probe>)`).exec("")?.groups ?? {};
    available = new Set(Object.keys(groups).filter((key) => key !== "__probe"));
    if (available.size === 0) {
      issues.error(
        [...at, "parser", "pattern"],
        "the pattern has no named groups such as (?<temp>-?\\d+\\.\\d+)",
      );
      return;
    }
  } else if (parser.format === "csv") {
    available = new Set(parser.columns.filter((column) => column !== ""));
  }
  if (available === undefined) {
    return; // key-value and json lines name their fields themselves
  }
  device.tags.forEach((tag, t) => {
    const field = tag.field ?? tag.name;
    if (!available.has(field)) {
      const where = parser.format === "regex" ? "named group in the pattern" : "column";
      issues.error(
        [...at, "tags", t, tag.field === undefined ? "name" : "field"],
        `no ${where} "${field}"; the parser provides ${[...available].map((f) => `"${f}"`).join(", ")}`,
      );
    }
  });
}

/**
 * Devices that share a wire: RTU slaves on one serial port, or behind one RTU-over-TCP serial
 * server, form one bus with one owner (issue #4), so line settings must agree and unit ids differ.
 */
function checkSharedLinks(devices: readonly (Device | undefined)[], all: IssueSink): void {
  const links = new Map<string, { index: number; device: Device }>();
  const units = new Map<string, number>();
  devices.forEach((device, i) => {
    if (device === undefined) {
      return;
    }
    const link = linkOf(device);
    const first = links.get(link.key);
    const issues = based(all, { devices: first === undefined ? [i] : [i, first.index], keys: LINK_KEYS });
    if (first === undefined) {
      links.set(link.key, { index: i, device });
    } else if (first.device.protocol !== device.protocol) {
      issues.error(
        ["devices", i, link.field],
        `${link.label} is already used by devices[${first.index}] ("${first.device.name}", ${first.device.protocol}); one link cannot carry both ${first.device.protocol} and ${device.protocol}`,
      );
      return;
    } else if (device.protocol === "serial-line") {
      issues.error(
        ["devices", i, "serial", "path"],
        `${link.label} is already read by devices[${first.index}] ("${first.device.name}")`,
      );
      return;
    } else if ("serial" in device && "serial" in first.device) {
      for (const key of ["baudRate", "parity", "dataBits", "stopBits"] as const) {
        if (device.serial[key] !== first.device.serial[key]) {
          issues.error(
            ["devices", i, "serial", key],
            `devices on one port share its settings: ${key} is ${String(first.device.serial[key])} for "${first.device.name}" on ${link.label}`,
          );
        }
      }
    }
    if (device.protocol !== "serial-line") {
      const unitKey = `${link.key}#${device.unitId}`;
      const other = units.get(unitKey);
      if (other !== undefined) {
        based(all, { devices: [i, other], keys: LINK_KEYS }).error(
          ["devices", i, "unitId"],
          `unit ${device.unitId} on ${link.label} is already devices[${other}]`,
        );
      } else {
        units.set(unitKey, i);
      }
    }
  });
}

/**
 * The physical path a device is reached by: devices with one key share one link (one owner, one
 * queue). Also how sources/ groups devices into buses, so the check and the runtime agree.
 */
export function linkOf(
  device: Pick<Device, "protocol"> & ({ serial: { path: string } } | { host: string; port: number }),
): { key: string; label: string; field: string } {
  if ("serial" in device) {
    return {
      key: `serial:${device.serial.path}`,
      label: `serial port ${device.serial.path}`,
      field: "serial",
    };
  }
  const endpoint = `${device.host.toLowerCase()}:${device.port}`;
  return { key: `tcp:${endpoint}`, label: `${endpoint}`, field: "host" };
}
