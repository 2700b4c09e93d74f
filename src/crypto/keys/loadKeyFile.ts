/**
 * Reading key files from disk (issue #3). A key file is refused unless it is a regular file (not
 * a symlink, directory or FIFO), open to its owner only (mode & 0o077 == 0, with the chmod that
 * fixes it), and at most 64 KiB. The reading and checking are ../checkedFile.ts's, shared with
 * the uplink's files (issue #5); the wording, for a key file, is here.
 */
import {
  CheckedFileError,
  type CheckedFileProblem,
  readCheckedFile,
  shellQuote,
  tooOpenText,
} from "../checkedFile.js";
import { KeyFileError } from "./errors.js";
import {
  type DeviceKeyFile,
  type GatewayKeyFile,
  type KeyFile,
  parseKeyFile,
  wipeKeyFile,
} from "./keyFile.js";
import { type CheckpointKeySource, checkpointKeysOf, type KeyRing, keyRingOf } from "./keyRing.js";

/** Real key files are well under 1 KiB per key id; the cap keeps a wrong path from being read whole. */
export const KEY_FILE_MAX_BYTES = 64 * 1024;

export async function loadKeyFile(path: string): Promise<KeyFile> {
  const bytes = await readKeyFileBytes(path);
  try {
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw new KeyFileError(path, "not UTF-8 text");
    }
    return parseKeyFile(text, path);
  } finally {
    // Best effort: the raw bytes are wiped; the decoded string cannot be (JavaScript strings are immutable).
    bytes.fill(0);
  }
}

/** A gateway key file (master secrets): needed to seal, rotate and export. */
export async function loadGatewayKeys(path: string): Promise<GatewayKeyFile> {
  const file = await loadKeyFile(path);
  if (file.kind !== "gateway") {
    wipeKeyFile(file);
    throw new KeyFileError(
      path,
      `${exportedKeys(file)}, not a gateway master key (made by \`edgewarden keys generate\`)`,
    );
  }
  return file;
}

/** An exported device key file (one device's derived keys), as an upstream consumer holds it. */
export async function loadDeviceKeys(path: string): Promise<DeviceKeyFile> {
  const file = await loadKeyFile(path);
  if (file.kind !== "device") {
    wipeKeyFile(file);
    throw new KeyFileError(
      path,
      `${file.kind === "gateway" ? "holds gateway master keys" : exportedKeys(file)}, not an exported device key file`,
    );
  }
  return file;
}

/**
 * A gateway or device key file as a KeyRing: what sealing and opening use. A checkpoint key file
 * opens no envelope, so it is refused here, by name, rather than failing on every message.
 */
export async function loadKeyRing(path: string): Promise<KeyRing> {
  const file = await loadKeyFile(path);
  if (file.kind === "checkpoint") {
    wipeKeyFile(file);
    throw new KeyFileError(
      path,
      `${exportedKeys(file)}: they verify checkpoints (\`ledger verify --key-file\`) and open no envelope; name the gateway key file or a device key file`,
    );
  }
  return keyRingOf(file, path);
}

/**
 * The gateway key file or an exported checkpoint key file, as checkpoint keys: what
 * `ledger verify --key-file` uses (docs/protocol.md §8.5). A device key file cannot verify a MAC.
 */
export async function loadCheckpointKeys(path: string): Promise<CheckpointKeySource> {
  const file = await loadKeyFile(path);
  if (file.kind === "device") {
    wipeKeyFile(file);
    throw new KeyFileError(
      path,
      `${exportedKeys(file)}; checkpoint MACs need the gateway key file or an exported checkpoint key file (\`edgewarden keys export --checkpoint-key\`)`,
    );
  }
  return checkpointKeysOf(file, path);
}

/** What an exported file holds, for a message refusing it. */
function exportedKeys(file: Exclude<KeyFile, GatewayKeyFile>): string {
  return file.kind === "device"
    ? `holds the exported keys of device "${file.device}"`
    : "holds only exported checkpoint keys";
}

async function readKeyFileBytes(path: string): Promise<Uint8Array> {
  try {
    // No symlinks: a key file is named by its own path, so a link swapped in cannot redirect it.
    return await readCheckedFile(path, {
      private: true,
      followSymlinks: false,
      maxBytes: KEY_FILE_MAX_BYTES,
    });
  } catch (error) {
    if (error instanceof CheckedFileError) {
      throw new KeyFileError(path, keyFileProblem(path, error.problem), { cause: error });
    }
    throw error;
  }
}

/** The key file's wording of a problem: what is wrong and, where there is one, the fix. */
function keyFileProblem(path: string, problem: CheckedFileProblem): string {
  switch (problem.kind) {
    case "open":
      return openProblem(problem.code);
    case "not-regular":
      return `not a regular file (${problem.directory ? "a directory" : "a device, FIFO or socket"})`;
    case "too-open":
      return tooOpenText(path, problem.mode);
    case "too-large":
      return problem.size === undefined
        ? `too large for a key file (more than ${problem.maxBytes} bytes)`
        : `${problem.size} bytes is too large for a key file (at most ${problem.maxBytes})`;
  }
}

function openProblem(code: string | undefined): string {
  switch (code) {
    case "ENOENT":
      return "does not exist (create one with `edgewarden keys generate --out FILE`)";
    case "EACCES":
    case "EPERM":
      return "cannot be read by this user (permission denied)";
    case "ELOOP":
      return "is a symbolic link; a key file must be a regular file (name the file itself)";
    case "ENOTDIR":
      return "a part of the path is not a directory";
    default:
      return `cannot be opened (${code ?? "unknown error"})`;
  }
}

export { shellQuote };
