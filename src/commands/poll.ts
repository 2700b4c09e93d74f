/**
 * `edgewarden poll -c FILE [--device ID] [--once] [--explain] [--decode-all TAG]`: the
 * technician's "is my register map right?" (DESIGN.md CLI, issue #4 item 8). Reads devices now
 * and prints one JSON line per sample on stdout; logs go to stderr; nothing is published or
 * stored. Exit 0 read, 1 a tag was bad (--once, --decode-all), 2 bad config or usage.
 */
import type { Command } from "commander";
import { systemClock } from "../clock.js";
import { formatIssue } from "../config/configIssue.js";
import type { Config, DeviceConfig, ModbusDeviceConfig } from "../config/schema/index.js";
import { registerCount } from "../config/schema/tags.js";
import { prepareConfig } from "../daemon/prepareConfig.js";
import { createLogger } from "../observability/logger.js";
import type { Sample } from "../records.js";
import { createLink } from "../sources/modbus/createLink.js";
import { formatDecodeAll } from "../sources/modbus/decodeAllTable.js";
import { DevicePoller } from "../sources/modbus/devicePoller.js";
import { LearntLimits } from "../sources/modbus/learntLimits.js";
import { isBitTable } from "../sources/modbus/requestPlanner.js";
import { sampleToJson } from "../sources/sampleJson.js";
import { createSources } from "../sources/sourceSet.js";
import { defaultConfigPath, ExitCode } from "./exitCodes.js";
import type { CommandRunner } from "./program.js";

interface PollOptions {
  config: string;
  device?: string;
  once?: boolean;
  explain?: boolean;
  decodeAll?: string;
}

export function registerPoll(program: Command, run: CommandRunner): void {
  program
    .command("poll")
    .description("read devices now and print decoded readings as JSON lines; publishes nothing")
    .option("-c, --config <file>", "config file ($EDGEWARDEN_CONFIG)", defaultConfigPath())
    .option("--device <name>", "only this device (polled even if enabled: false)")
    .option("--once", "one poll of every group, then exit")
    .option("--explain", "print the read plan: each request, its range and the tags it serves")
    .option(
      "--decode-all <tag>",
      "read one tag and show its raw registers decoded in every type and byte order",
    )
    .addHelpText(
      "after",
      "\nExit codes: 0 read, 1 a tag read bad (--once, --decode-all), 2 bad config or usage.",
    )
    .action((options: PollOptions) => run(() => poll(options)));
}

const logger = () =>
  createLogger({
    level: "info",
    repeatWindowMs: 60_000,
    destination: { write: (line: string) => process.stderr.write(line) },
  });

async function poll(options: PollOptions): Promise<number> {
  const prepared = await prepareConfig(options.config, "check");
  if (!prepared.ok) {
    for (const issue of prepared.errors) {
      process.stderr.write(`${formatIssue(issue)}\n`);
    }
    return ExitCode.usage;
  }
  const devices = selectDevices(prepared.config, options.device);
  if (typeof devices === "string") {
    process.stderr.write(`${devices}\n`);
    return ExitCode.usage;
  }
  if (options.decodeAll !== undefined) {
    return decodeAll(devices, options.decodeAll);
  }
  if (options.explain === true && options.once !== true) {
    process.stdout.write(`${explain(devices).join("\n")}\n`);
    return ExitCode.ok;
  }
  return readDevices(devices, options.once === true);
}

function selectDevices(config: Config, name: string | undefined): DeviceConfig[] | string {
  if (name === undefined) {
    return config.devices.filter((device) => device.enabled);
  }
  const device = config.devices.find((candidate) => candidate.name === name);
  if (device === undefined) {
    return `no device "${name}"; devices: ${config.devices.map((d) => d.name).join(", ") || "(none)"}`;
  }
  return [{ ...device, enabled: true }];
}

function explain(devices: readonly DeviceConfig[], learnt = new LearntLimits()): string[] {
  const lines: string[] = [];
  for (const device of devices) {
    if (device.protocol === "serial-line") {
      lines.push(
        `${device.name} (serial-line ${device.serial.path}, ${device.parser.format} lines): no requests; the sensor sends`,
      );
      continue;
    }
    const poller = new DevicePoller(device, { clock: systemClock, logger: logger(), learnt });
    for (const group of poller.groups) {
      const reads = poller.explain(group);
      lines.push(
        `${device.name}/${group.name} (unit ${device.unitId}, every ${group.intervalMs} ms): ${reads.length} read(s)`,
      );
      lines.push(...reads.map((read) => `  ${read}`));
    }
  }
  return lines;
}

async function readDevices(devices: readonly DeviceConfig[], once: boolean): Promise<number> {
  const log = logger();
  let anyBad = false;
  const seen = new Set<string>();
  const emit = (sample: Sample) => {
    seen.add(sample.device);
    anyBad ||= Object.values(sample.values).some((reading) => reading.quality !== "good");
    process.stdout.write(`${sampleToJson(sample)}\n`);
  };
  const sources = createSources(devices, { clock: systemClock, logger: log, emit });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await Promise.all(sources.serialLines.map((source) => source.start(stop.signal)));
    if (once) {
      await Promise.all(sources.buses.map((bus) => bus.pollOnce(stop.signal)));
      await waitFor(() => sources.serialLines.every((s) => seen.has(s.name)), stop.signal);
    } else {
      await Promise.all(sources.buses.map((bus) => bus.start(stop.signal)));
      await new Promise<void>((resolve) =>
        stop.signal.addEventListener("abort", () => resolve(), { once: true }),
      );
    }
  } finally {
    await Promise.all([...sources.buses, ...sources.serialLines].map((source) => source.stop()));
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return once && anyBad ? ExitCode.fatal : ExitCode.ok;
}

async function waitFor(condition: () => boolean, signal: AbortSignal): Promise<void> {
  while (!condition() && !signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function decodeAll(devices: readonly DeviceConfig[], tagName: string): Promise<number> {
  const matches = devices.flatMap((device) =>
    device.protocol === "serial-line"
      ? []
      : device.pollGroups.flatMap((group) =>
          group.tags.filter((tag) => tag.name === tagName).map((tag) => ({ device, tag })),
        ),
  );
  const [match, ...others] = matches;
  if (match === undefined || others.length > 0) {
    process.stderr.write(
      match === undefined
        ? `no Modbus tag "${tagName}"${devices.length === 1 ? ` on ${devices[0]?.name}` : ""}\n`
        : `tag "${tagName}" is on ${matches.map((m) => m.device.name).join(", ")}: choose one with --device\n`,
    );
    return ExitCode.usage;
  }
  const { device, tag } = match;
  if (isBitTable(tag.table)) {
    process.stderr.write(`${tagName} is a ${tag.table} bit: there is nothing to reorder; use poll --once\n`);
    return ExitCode.usage;
  }
  const registers = await readRegisters(
    device,
    tag.table === "input" ? 4 : 3,
    tag.address,
    registerCount(tag.type, tag.length),
  );
  if (typeof registers === "string") {
    process.stderr.write(`${device.name}/${tagName}: ${registers}\n`);
    return ExitCode.fatal;
  }
  const heading = `${device.name}/${tagName}: ${tag.table} ${tag.address}, configured ${tag.type}${tag.scale === undefined ? "" : ` scale ${tag.scale}`}${tag.offset === undefined ? "" : ` offset ${tag.offset}`}`;
  process.stdout.write(
    `${formatDecodeAll(heading, tag.type, tag.order ?? device.byteOrder, registers).join("\n")}\n`,
  );
  return ExitCode.ok;
}

async function readRegisters(
  device: ModbusDeviceConfig,
  functionCode: 3 | 4,
  address: number,
  quantity: number,
): Promise<number[] | string> {
  const link = createLink([device]);
  const stop = new AbortController();
  await link.start(stop.signal);
  try {
    let last = "no attempt";
    for (let attempt = 0; attempt <= device.retries; attempt++) {
      const result = await link.read(
        { unitId: device.unitId, functionCode, address, quantity },
        { timeoutMs: device.timeout },
      );
      switch (result.kind) {
        case "ok":
          return "registers" in result ? result.registers : "bits where registers were expected";
        case "exception":
          return `exception ${result.code.toString(16).padStart(2, "0").toUpperCase()} (${result.name})`;
        case "invalid":
          last = `invalid response: ${result.reason}`;
          break;
        case "timeout":
          last = result.crcErrors > 0 ? "CRC error" : "timeout";
          break;
        case "disconnected":
          return `disconnected: ${result.reason}`;
      }
    }
    return last;
  } finally {
    stop.abort();
    await link.stop();
  }
}
