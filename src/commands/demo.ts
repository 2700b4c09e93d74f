/**
 * `edgewarden demo [--duration S] [--keep] [--seed N]` (issue #7 item 4; `npm run demo`): the
 * zero-setup demo — embedded MQTT broker, plant simulator, the daemon as a child process and a
 * receiver, with a live view (a screen on a TTY, one line per event otherwise), an overload
 * injected on the mill drive after about 20 s. src/demo is imported only when this command runs,
 * so aedes and the simulator stay off the daemon's path (DESIGN.md).
 */
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { ExitCode } from "./exitCodes.js";
import type { CommandRunner } from "./program.js";

interface DemoCommandOptions {
  duration?: string;
  keep?: boolean;
  seed?: string;
}

/** The CLI the daemon child runs: this very build. */
const CLI_PATH = fileURLToPath(new URL("../cli.js", import.meta.url));

export function registerDemo(program: Command, run: CommandRunner): void {
  program
    .command("demo")
    .description("zero-setup demo: embedded broker, plant simulator, daemon and receiver")
    .option("--duration <s>", "stop after S seconds of running (default: until Ctrl-C)")
    .option("--keep", "keep the temp dir (config, key, ledger, daemon log) afterwards")
    .option("--seed <n>", "the simulator's noise seed (default: the plant file's)")
    .addHelpText(
      "after",
      [
        "",
        "Needs nothing beyond `npm install`: the broker (aedes) runs in-process on a free loopback port.",
        "On a terminal it redraws a live screen; piped, it prints one line per reading, anomaly and event.",
        "An overload is injected on the mill drive 20 s after the daemon is up.",
        "",
        "Exit codes: 0 stopped (Ctrl-C, SIGTERM or --duration), 1 a part failed, 2 bad usage.",
      ].join("\n"),
    )
    .action((options: DemoCommandOptions) => run(() => demo(options)));
}

function wholeNumber(text: string | undefined, min: number, max: number): number | undefined | null {
  if (text === undefined) {
    return undefined;
  }
  const value = Number(text);
  return Number.isInteger(value) && value >= min && value <= max ? value : null;
}

async function demo(options: DemoCommandOptions): Promise<number> {
  const durationS = wholeNumber(options.duration, 1, 7 * 86_400);
  const seed = wholeNumber(options.seed, 0, 4_294_967_295);
  const usage = [
    durationS === null ? `--duration: expected whole seconds 1-604800, got ${options.duration}` : undefined,
    seed === null ? `--seed: expected a whole number 0-4294967295, got ${options.seed}` : undefined,
  ].filter((problem) => problem !== undefined);
  if (usage.length > 0 || durationS === null || seed === null) {
    process.stderr.write(`${usage.join("\n")}\n`);
    return ExitCode.usage;
  }
  const { runDemo } = await import("../demo/demoRunner.js");
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await runDemo({
      durationS,
      seed,
      keep: options.keep === true,
      out: process.stdout,
      err: process.stderr,
      cliPath: CLI_PATH,
      stop: stop.signal,
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
