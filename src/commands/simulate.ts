/**
 * `edgewarden simulate --plant FILE --port N [--control-port M] [--seed S]`: the Modbus TCP plant
 * simulator of issue #7 item 1, for trying the gateway without a plant. Runs until SIGINT or
 * SIGTERM (exit 0); a bad plant file is exit 2 with every problem as FILE:LINE:COL.
 * src/simulator is imported only when this command runs: DESIGN.md keeps it off the daemon's
 * runtime path, and `run` shares this program.
 */
import type { Command } from "commander";
import { systemClock } from "../clock.js";
import { formatIssue } from "../config/configIssue.js";
import { ExitCode } from "./exitCodes.js";
import type { CommandRunner } from "./program.js";

interface SimulateOptions {
  plant: string;
  port: string;
  host: string;
  controlPort?: string;
  seed?: string;
}

export function registerSimulate(program: Command, run: CommandRunner): void {
  program
    .command("simulate")
    .description(
      "run the Modbus TCP plant simulator (config/plant-sim.yaml; devices in config/plant-sim.devices.yaml)",
    )
    .requiredOption("--plant <file>", "plant description")
    .option("--port <n>", "Modbus TCP port (0: any free port)", "5020")
    .option("--host <address>", "address the Modbus server binds to", "127.0.0.1")
    .option("--control-port <n>", "serve GET /state and POST /faults on 127.0.0.1:N")
    .option("--seed <s>", "noise seed; overrides the plant file's")
    .addHelpText("after", "\nExit codes: 0 clean stop, 1 fatal, 2 bad plant file or usage.")
    .action((options: SimulateOptions) => run(() => simulate(options)));
}

function parsePort(text: string, what: string): number | string {
  const value = Number(text);
  return Number.isInteger(value) && value >= 0 && value <= 65_535
    ? value
    : `${what}: expected a port 0-65535, got ${text}`;
}

async function simulate(options: SimulateOptions): Promise<number> {
  const port = parsePort(options.port, "--port");
  const controlPort =
    options.controlPort === undefined ? undefined : parsePort(options.controlPort, "--control-port");
  const seed = options.seed === undefined ? undefined : Number(options.seed);
  const usage = [
    typeof port === "string" ? port : undefined,
    typeof controlPort === "string" ? controlPort : undefined,
    seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed <= 4_294_967_295)
      ? `--seed: expected a whole number 0-4294967295, got ${options.seed}`
      : undefined,
  ].filter((problem) => problem !== undefined);
  if (usage.length > 0 || typeof port === "string" || typeof controlPort === "string") {
    process.stderr.write(`${usage.join("\n")}\n`);
    return ExitCode.usage;
  }
  const { loadPlantFile } = await import("../simulator/loadPlant.js");
  const { Simulator } = await import("../simulator/simulator.js");
  const { isLoopback } = await import("../simulator/controlServer.js");
  const loaded = await loadPlantFile(options.plant);
  if (!loaded.ok) {
    for (const issue of loaded.errors) {
      process.stderr.write(`${formatIssue(issue)}\n`);
    }
    return ExitCode.usage;
  }
  const spec = seed === undefined ? loaded.plant : { ...loaded.plant, seed };
  const simulator = new Simulator(spec, {
    modbusHost: options.host,
    modbusPort: port,
    ...(controlPort === undefined ? {} : { controlPort }),
    clock: systemClock,
  });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const ports = await simulator.start();
    const units = spec.machines.map((m) => `${m.name}=unit ${m.unitId}`).join(", ");
    const control = ports.control === undefined ? "" : `; control on http://127.0.0.1:${ports.control}`;
    process.stderr.write(
      `simulate: serving Modbus TCP on ${options.host}:${ports.modbus} (${units})${control}${isLoopback(options.host) ? "" : " (not loopback: reachable from the network)"}\n`,
    );
    await new Promise<void>((resolve) =>
      stop.signal.addEventListener("abort", () => resolve(), { once: true }),
    );
    process.stderr.write("simulate: stopping\n");
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await simulator.stop();
  }
  return ExitCode.ok;
}
