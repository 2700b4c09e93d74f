/**
 * `edgewarden status -c FILE [--json]` (issue #7 item 3): asks the running daemon's loopback
 * endpoint (observability.status in FILE) for GET /status and shows it for a person — devices with
 * their last values and quality, ledger backlog and chain head, uplink, last anomalies — or, with
 * --json, prints the document as served, for scripts.
 */
import type { Command } from "commander";
import { formatIssue } from "../config/configIssue.js";
import { loadConfigFile } from "../config/loadConfig.js";
import type { StatusDocument } from "../observability/statusReport.js";
import { renderStatus } from "../observability/statusView.js";
import { defaultConfigPath, ExitCode } from "./exitCodes.js";
import type { CommandRunner } from "./program.js";

/** A daemon on loopback answers in milliseconds; longer means it is stuck or not ours. */
const FETCH_TIMEOUT_MS = 5_000;

interface StatusOptions {
  readonly config: string;
  readonly json?: boolean;
}

export function registerStatus(program: Command, run: CommandRunner): void {
  program
    .command("status")
    .description("live status of a running daemon: devices, last values, backlog, chain head, last anomalies")
    .option("-c, --config <file>", `config file ($EDGEWARDEN_CONFIG, default ${defaultConfigPath({})})`)
    .option("--json", "print the daemon's JSON status as served")
    .addHelpText(
      "after",
      [
        "",
        "Reads observability.status (host, port) from the config and asks the daemon's local endpoint.",
        "",
        "Exit codes: 0, 1 daemon not reachable, 2 bad config.",
      ].join("\n"),
    )
    .action((options: Partial<StatusOptions>) =>
      run(() => status({ ...options, config: options.config ?? defaultConfigPath() })),
    );
}

async function status(options: StatusOptions): Promise<number> {
  const loaded = await loadConfigFile(options.config);
  if (!loaded.ok) {
    process.stderr.write(
      `edgewarden status: ${options.config} has errors:\n${loaded.errors.map(formatIssue).join("\n")}\n`,
    );
    return ExitCode.usage;
  }
  const { enabled, host, port } = loaded.config.observability.status;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}/status`;
  let body: string;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    body = await response.text();
    if (!response.ok) {
      throw new Error(`HTTP ${response.status}`);
    }
  } catch (error) {
    const hint = enabled
      ? "is the daemon running?"
      : `observability.status.enabled is false in ${options.config}: enable it and reload the daemon`;
    process.stderr.write(
      `edgewarden status: the daemon is not reachable at ${url} (${reasonOf(error)}); ${hint}\n`,
    );
    return ExitCode.fatal;
  }
  if (options.json === true) {
    process.stdout.write(body.endsWith("\n") ? body : `${body}\n`);
    return ExitCode.ok;
  }
  process.stdout.write(renderStatus(JSON.parse(body) as StatusDocument, Date.now()));
  return ExitCode.ok;
}

function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    const cause: unknown = error.cause;
    if (cause !== null && typeof cause === "object" && "code" in cause && typeof cause.code === "string") {
      return cause.code;
    }
    return error.name === "TimeoutError" ? `no answer within ${FETCH_TIMEOUT_MS / 1_000} s` : error.message;
  }
  return String(error);
}
