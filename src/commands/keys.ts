/**
 * `edgewarden keys generate|show|rotate|export` (issue #3): the gateway master key file, its key
 * ids, and the derived per-device keys given to upstream consumers. Nothing here prints key
 * bytes: `show` prints fingerprints, and error messages name files and ids only.
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import {
  createKeyFile,
  type DeviceKeyFile,
  deriveDeviceKey,
  deviceIdProblem,
  exportDeviceKeys,
  type GatewayKeyFile,
  gatewayIdProblem,
  isAlreadyExists,
  KeyFileError,
  KeyLookupError,
  keyFingerprint,
  loadGatewayKeys,
  loadKeyFile,
  newGatewayKeyFile,
  replaceKeyFile,
  rotateGatewayKeys,
  wipeKeyFile,
} from "../crypto/keys/index.js";
import { ExitCode } from "./exitCodes.js";
import type { CommandRunner } from "./program.js";

export const DEFAULT_KEY_FILE = "/etc/edgewarden/gateway.key";

const EXIT_CODES = "\nExit codes: 0 done, 2 refused, bad key file or bad usage.";

interface ShowOptions {
  keyFile: string;
  json?: boolean;
  device?: string;
}

interface ExportOptions {
  keyFile: string;
  device: string;
  out: string;
  gateway?: string;
  force?: boolean;
}

export function registerKeys(program: Command, run: CommandRunner): void {
  const keys = program.command("keys").description("gateway key files, key ids and derived per-device keys");
  const keyFileOption = ["--key-file <file>", "gateway key file", DEFAULT_KEY_FILE] as const;

  keys
    .command("generate")
    .description("write a new 256-bit gateway master key file, key id k1 (mode 0600; never overwrites)")
    .requiredOption("--out <file>", `key file to create (the daemon reads ${DEFAULT_KEY_FILE} by default)`)
    .addHelpText("after", `${EXIT_CODES}\n\nExample: edgewarden keys generate --out ${DEFAULT_KEY_FILE}`)
    .action((options: { out: string }) => run(() => keysCommand("generate", () => generate(options.out))));

  keys
    .command("show")
    .description(
      "print key ids, creation times and fingerprints of a gateway or device key file, never key bytes",
    )
    .option(...keyFileOption)
    .option("--device <id>", "also print the fingerprints of this device's derived keys (gateway files)")
    .option("--json", "print as one JSON object")
    .addHelpText(
      "after",
      `${EXIT_CODES}\n\nCompare "show --device ID" on the gateway with "show" on an exported file to check an export.`,
    )
    .action((options: ShowOptions) => run(() => keysCommand("show", () => show(options))));

  keys
    .command("rotate")
    .description(
      "add a new key id and make it active; old key ids stay, so what they sealed can still be opened",
    )
    .option(...keyFileOption)
    .addHelpText(
      "after",
      `${EXIT_CODES}\n\nAfter a rotation, export the device keys again: exported files hold only the key ids that existed then.`,
    )
    .action((options: { keyFile: string }) =>
      run(() => keysCommand("rotate", () => rotate(options.keyFile))),
    );

  keys
    .command("export")
    .description(
      "write the derived keys of one device, under every key id, for an upstream consumer (mode 0600)",
    )
    .option(...keyFileOption)
    .requiredOption("--device <id>", 'device id; "_gateway" for records of no device (events, checkpoints)')
    .requiredOption("--out <file>", "device key file to write")
    .option("--gateway <id>", "record the gateway id in the file")
    .option("--force", "replace an existing --out file")
    .addHelpText(
      "after",
      `${EXIT_CODES}\n\nThe file opens that device's records only; give a consumer one file per device it may read.\n` +
        "Example: edgewarden keys export --device press-2 --gateway gw-1 --out press-2.key",
    )
    .action((options: ExportOptions) => run(() => keysCommand("export", () => exportKeys(options))));

  keys.exitOverride();
  for (const command of keys.commands) {
    command.exitOverride();
  }
}

/** Runs one keys subcommand: a refused operation or bad key file is exit 2 with its message alone. */
async function keysCommand(name: string, body: () => Promise<void>): Promise<number> {
  try {
    await body();
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof UsageError || error instanceof KeyFileError || error instanceof KeyLookupError) {
      process.stderr.write(`edgewarden keys ${name}: ${error.message}\n`);
      return ExitCode.usage;
    }
    throw error;
  }
}

/** A refusal the command itself makes (bad option value, same file twice). */
class UsageError extends Error {}

async function generate(out: string): Promise<void> {
  const file = newGatewayKeyFile(new Date());
  try {
    await createKeyFile(out, file).catch((error: unknown) => {
      throw isAlreadyExists(error)
        ? new UsageError(
            `${out}: already exists; refusing to overwrite a key file (its keys may have sealed data; move it away first to really start over)`,
          )
        : error;
    });
    const [key] = file.keys;
    process.stdout.write(
      `created ${out} (mode 0600): gateway key ${file.active}, fingerprint ${key ? keyFingerprint(key.secret) : "?"}\n`,
    );
  } finally {
    wipeKeyFile(file);
  }
}

async function show(options: ShowOptions): Promise<void> {
  const device = options.device;
  if (device !== undefined) {
    checkOption("--device", deviceIdProblem(device));
  }
  const file = await loadKeyFile(options.keyFile);
  try {
    if (file.kind === "device" && device !== undefined) {
      throw new UsageError(
        `${options.keyFile} is an exported device key file; --device applies to a gateway key file`,
      );
    }
    const summary = file.kind === "gateway" ? gatewaySummary(file, device) : deviceSummary(file);
    process.stdout.write(
      options.json === true
        ? `${JSON.stringify({ file: options.keyFile, ...summary })}\n`
        : formatSummary(options.keyFile, summary),
    );
  } finally {
    wipeKeyFile(file);
  }
}

async function rotate(keyFile: string): Promise<void> {
  const file = await loadGatewayKeys(keyFile);
  const rotated = rotateGatewayKeys(file, new Date());
  try {
    await replaceKeyFile(keyFile, rotated, { overwrite: true });
    const added = rotated.keys.at(-1);
    const kept = file.keys.map((key) => key.id).join(", ");
    process.stdout.write(
      `${keyFile}: added key ${rotated.active} (fingerprint ${added ? keyFingerprint(added.secret) : "?"}), now active; ${kept} kept for opening\n` +
        `note: exported device key files do not hold ${rotated.active}; export them again for the consumers\n`,
    );
  } finally {
    // `rotated` holds the old secrets too, so this wipes all of them.
    wipeKeyFile(rotated);
  }
}

async function exportKeys(options: ExportOptions): Promise<void> {
  checkOption("--device", deviceIdProblem(options.device));
  if (options.gateway !== undefined) {
    checkOption("--gateway", gatewayIdProblem(options.gateway));
  }
  await refuseSameFile(options.keyFile, options.out);
  const file = await loadGatewayKeys(options.keyFile);
  let exported: DeviceKeyFile | undefined;
  try {
    exported = exportDeviceKeys(file, options.device, options.gateway);
    await replaceKeyFile(options.out, exported, { overwrite: options.force === true }).catch(
      (error: unknown) => {
        throw isAlreadyExists(error)
          ? new UsageError(`${options.out}: already exists; add --force to replace it`)
          : error;
      },
    );
    const gateway = options.gateway === undefined ? "" : ` of gateway ${options.gateway}`;
    process.stdout.write(
      `wrote ${options.out} (mode 0600): keys of device ${options.device}${gateway} under ${exported.keys.map((k) => k.id).join(", ")}\n`,
    );
  } finally {
    wipeKeyFile(file);
    if (exported !== undefined) {
      wipeKeyFile(exported);
    }
  }
}

function checkOption(option: string, problem: string | undefined): void {
  if (problem !== undefined) {
    throw new UsageError(`${option}: ${problem}`);
  }
}

/** `export --force --out` naming the gateway key file itself would replace the master keys with one device's. */
async function refuseSameFile(keyFile: string, out: string): Promise<void> {
  const [a, b] = await Promise.all([stat(keyFile).catch(() => undefined), stat(out).catch(() => undefined)]);
  const sameInode = a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;
  if (sameInode || resolve(keyFile) === resolve(out)) {
    throw new UsageError(`--out ${out} is the key file itself; name a new file for the device keys`);
  }
}

interface KeySummary {
  readonly id: string;
  readonly fingerprint: string;
  readonly created?: string;
  readonly active?: boolean;
  readonly deviceFingerprint?: string;
}

type FileSummary =
  | {
      readonly format: "gateway";
      readonly active: string;
      readonly device?: string;
      readonly keys: KeySummary[];
    }
  | {
      readonly format: "device";
      readonly device: string;
      readonly gateway?: string;
      readonly keys: KeySummary[];
    };

function gatewaySummary(file: GatewayKeyFile, device: string | undefined): FileSummary {
  const keys = file.keys.map((key): KeySummary => {
    let deviceFingerprint: string | undefined;
    if (device !== undefined) {
      const derived = deriveDeviceKey(key.secret, key.id, device);
      deviceFingerprint = keyFingerprint(derived);
      derived.fill(0);
    }
    return {
      id: key.id,
      created: key.created,
      active: key.id === file.active,
      fingerprint: keyFingerprint(key.secret),
      ...(deviceFingerprint === undefined ? {} : { deviceFingerprint }),
    };
  });
  return { format: "gateway", active: file.active, ...(device === undefined ? {} : { device }), keys };
}

function deviceSummary(file: DeviceKeyFile): FileSummary {
  return {
    format: "device",
    device: file.device,
    ...(file.gateway === undefined ? {} : { gateway: file.gateway }),
    keys: file.keys.map((key) => ({ id: key.id, fingerprint: keyFingerprint(key.secret) })),
  };
}

function formatSummary(path: string, summary: FileSummary): string {
  const count = `${summary.keys.length} key id(s)`;
  const head =
    summary.format === "gateway"
      ? `${path}: gateway master key file, ${count}, active ${summary.active}`
      : `${path}: device key file of device ${summary.device}${summary.gateway === undefined ? "" : ` (gateway ${summary.gateway})`}, ${count}`;
  const lines = summary.keys.map((key) =>
    [
      key.id,
      ...(key.created === undefined ? [] : [key.created]),
      `fingerprint ${key.fingerprint}`,
      ...(key.deviceFingerprint === undefined
        ? []
        : [`device ${summary.device ?? ""} fingerprint ${key.deviceFingerprint}`]),
      ...(key.active === true ? ["(active)"] : []),
    ].join("  "),
  );
  return `${[head, ...lines.map((line) => `  ${line}`)].join("\n")}\n`;
}
