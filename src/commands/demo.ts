/**
 * `edgewarden demo`. The zero-setup demo (embedded broker, simulator, daemon, receiver) arrives
 * with issue #7; until then it validates the example config, prints what the daemon would run
 * from it, and says so (issue #2).
 */
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { formatIssue } from "../config/configIssue.js";
import { prepareConfig } from "../daemon/prepareConfig.js";
import { ExitCode } from "./exitCodes.js";
import type { CommandRunner } from "./program.js";

export const EXAMPLE_CONFIG = fileURLToPath(new URL("../../config/example.yaml", import.meta.url));

export function registerDemo(program: Command, run: CommandRunner): void {
  program
    .command("demo")
    .description("zero-setup demo: embedded broker, plant simulator, daemon and receiver")
    .action(() => run(demo));
}

async function demo(): Promise<number> {
  const result = await prepareConfig(EXAMPLE_CONFIG, "check");
  const out = (line = "") => process.stdout.write(`${line}\n`);
  out("edgewarden demo");
  out("===============");
  out("The full demo (embedded MQTT broker, plant simulator, daemon and receiver) arrives with issue #7.");
  out(`Until then, this checks the example plant config, ${EXAMPLE_CONFIG}:`);
  out();
  if (!result.ok) {
    for (const issue of result.errors) {
      out(formatIssue(issue));
    }
    return ExitCode.usage;
  }
  const { config } = result;
  out(`gateway ${config.gateway.id} at site ${config.gateway.site} (time zone ${config.gateway.timezone})`);
  for (const device of config.devices) {
    const where =
      device.protocol === "modbus-rtu" || device.protocol === "serial-line"
        ? `${device.serial.path} @ ${device.serial.baudRate} baud`
        : `${device.host}:${device.port}`;
    const tags =
      device.protocol === "serial-line"
        ? device.tags.map((tag) => tag.name)
        : device.pollGroups.flatMap((group) => group.tags.map((tag) => `${tag.name}@${group.name}`));
    out(`  device ${device.name.padEnd(22)} ${device.protocol.padEnd(20)} ${where}`);
    out(`    tags: ${tags.join(", ")}`);
  }
  if (config.uplink !== undefined) {
    out(
      `uplink: ${config.uplink.url} (MQTT ${config.uplink.mqttVersion}), sealing: ${config.crypto.encryption}`,
    );
  }
  out(`ledger: ${config.storage.dir}, commit every ${config.storage.commitInterval} ms`);
  out();
  out(`${result.warnings.length} note(s) from check:`);
  for (const warning of result.warnings) {
    out(`  ${formatIssue(warning)}`);
  }
  out();
  out("The config is valid. Try: node dist/cli.js check -c config/example.yaml");
  return ExitCode.ok;
}
