/**
 * `edgewarden keys generate|show|rotate|export` (issue #3): the gateway master key file, its key
 * ids, and the derived keys given upstream: per-device keys to open records, and (issue #5) the
 * checkpoint keys to verify checkpoints (docs/protocol.md §2.4, §8.5). Nothing here prints key
 * bytes: `show` prints fingerprints, and error messages name files and ids only.
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import {
  type CheckpointKeyFile,
  createKeyFile,
  type DeviceKeyFile,
  deriveCheckpointKey,
  deriveDeviceKey,
  deviceIdProblem,
  exportCheckpointKeys,
  exportDeviceKeys,
  type GatewayKeyFile,
  gatewayIdProblem,
  isAlreadyExists,
  type KeyFile,
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
  checkpointKey?: boolean;
}

interface ExportOptions {
  keyFile: string;
  device?: string;
  checkpointKey?: boolean;
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
    .option("--checkpoint-key", "also print the fingerprints of the checkpoint keys (gateway files)")
    .option("--json", "print as one JSON object")
    .addHelpText(
      "after",
      `${EXIT_CODES}\n\nCompare "show --device ID" (or "show --checkpoint-key") on the gateway with "show" on an exported file to check an export.`,
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
      "write the derived keys of one device, or the checkpoint keys, under every key id, for an upstream consumer (mode 0600)",
    )
    .option(...keyFileOption)
    .option("--device <id>", 'device id; "_gateway" for records of no device (events, checkpoints)')
    .option(
      "--checkpoint-key",
      "instead of a device's keys, the checkpoint keys: they verify the ledger's keyed checkpoints and open no record",
    )
    .requiredOption("--out <file>", "key file to write")
    .option("--gateway <id>", "record the gateway id in the file")
    .option("--force", "replace an existing --out file")
    .addHelpText(
      "after",
      `${EXIT_CODES}\n\nA device file opens that device's records only; give a consumer one file per device it may read.\n` +
        "A checkpoint key file lets an upstream check this gateway's checkpoints (`ledger verify --key-file`)\n" +
        "without the master key; whoever holds it could also forge them, so give it only to the verifier.\n" +
        "Examples: edgewarden keys export --device press-2 --gateway gw-1 --out press-2.key\n" +
        "          edgewarden keys export --checkpoint-key --gateway gw-1 --out gw-1.checkpoint.key",
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
    if (file.kind !== "gateway" && (device !== undefined || options.checkpointKey === true)) {
      throw new UsageError(
        `${options.keyFile} is an exported ${file.kind} key file; ${device === undefined ? "--checkpoint-key" : "--device"} applies to a gateway key file`,
      );
    }
    const summary =
      file.kind === "gateway"
        ? gatewaySummary(file, device, options.checkpointKey === true)
        : exportedSummary(file);
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
  const device = options.device;
  if (options.checkpointKey === true && device !== undefined) {
    throw new UsageError("--device and --checkpoint-key exclude each other: a file holds one kind of key");
  }
  if (options.checkpointKey !== true && device === undefined) {
    throw new UsageError("name what to export: --device ID (a device's keys) or --checkpoint-key");
  }
  if (device !== undefined) {
    checkOption("--device", deviceIdProblem(device));
  }
  if (options.gateway !== undefined) {
    checkOption("--gateway", gatewayIdProblem(options.gateway));
  }
  await refuseSameFile(options.keyFile, options.out);
  const file = await loadGatewayKeys(options.keyFile);
  let exported: DeviceKeyFile | CheckpointKeyFile | undefined;
  try {
    exported =
      device === undefined
        ? exportCheckpointKeys(file, options.gateway)
        : exportDeviceKeys(file, device, options.gateway);
    await replaceKeyFile(options.out, exported, { overwrite: options.force === true }).catch(
      (error: unknown) => {
        throw isAlreadyExists(error)
          ? new UsageError(`${options.out}: already exists; add --force to replace it`)
          : error;
      },
    );
    const what = device === undefined ? "checkpoint keys" : `keys of device ${device}`;
    const gateway = options.gateway === undefined ? "" : ` of gateway ${options.gateway}`;
    process.stdout.write(
      `wrote ${options.out} (mode 0600): ${what}${gateway} under ${exported.keys.map((k) => k.id).join(", ")}\n`,
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
    throw new UsageError(`--out ${out} is the key file itself; name a new file for the exported keys`);
  }
}

interface KeySummary {
  readonly id: string;
  readonly fingerprint: string;
  readonly created?: string;
  readonly active?: boolean;
  readonly deviceFingerprint?: string;
  readonly checkpointFingerprint?: string;
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
    }
  | {
      readonly format: "checkpoint";
      readonly gateway?: string;
      readonly keys: KeySummary[];
    };

function gatewaySummary(file: GatewayKeyFile, device: string | undefined, checkpoint: boolean): FileSummary {
  const fingerprintOf = (derived: Uint8Array) => {
    const fingerprint = keyFingerprint(derived);
    derived.fill(0);
    return fingerprint;
  };
  const keys = file.keys.map(
    (key): KeySummary => ({
      id: key.id,
      created: key.created,
      active: key.id === file.active,
      fingerprint: keyFingerprint(key.secret),
      ...(device === undefined
        ? {}
        : { deviceFingerprint: fingerprintOf(deriveDeviceKey(key.secret, key.id, device)) }),
      ...(checkpoint
        ? { checkpointFingerprint: fingerprintOf(deriveCheckpointKey(key.secret, key.id)) }
        : {}),
    }),
  );
  return { format: "gateway", active: file.active, ...(device === undefined ? {} : { device }), keys };
}

function exportedSummary(file: Exclude<KeyFile, GatewayKeyFile>): FileSummary {
  const gateway = file.gateway === undefined ? {} : { gateway: file.gateway };
  const keys = file.keys.map((key) => ({ id: key.id, fingerprint: keyFingerprint(key.secret) }));
  return file.kind === "device"
    ? { format: "device", device: file.device, ...gateway, keys }
    : { format: "checkpoint", ...gateway, keys };
}

function formatSummary(path: string, summary: FileSummary): string {
  const count = `${summary.keys.length} key id(s)`;
  const gateway =
    summary.format === "gateway" || summary.gateway === undefined ? "" : ` (gateway ${summary.gateway})`;
  const head =
    summary.format === "gateway"
      ? `${path}: gateway master key file, ${count}, active ${summary.active}`
      : summary.format === "device"
        ? `${path}: device key file of device ${summary.device}${gateway}, ${count}`
        : `${path}: checkpoint key file${gateway}, ${count}`;
  const lines = summary.keys.map((key) =>
    [
      key.id,
      ...(key.created === undefined ? [] : [key.created]),
      `fingerprint ${key.fingerprint}`,
      ...(key.deviceFingerprint === undefined
        ? []
        : [`device ${"device" in summary ? summary.device : ""} fingerprint ${key.deviceFingerprint}`]),
      ...(key.checkpointFingerprint === undefined
        ? []
        : [`checkpoint key fingerprint ${key.checkpointFingerprint}`]),
      ...(key.active === true ? ["(active)"] : []),
    ].join("  "),
  );
  return `${[head, ...lines.map((line) => `  ${line}`)].join("\n")}\n`;
}
