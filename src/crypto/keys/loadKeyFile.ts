/**
 * Reading key files from disk (issue #3). A key file is refused unless it is a regular file (not
 * a symlink, directory or FIFO), open to its owner only (mode & 0o077 == 0, with the chmod that
 * fixes it), and at most 64 KiB. The checks run on the open handle, so the file checked is the
 * file read.
 */
import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { KeyFileError } from "./errors.js";
import {
  type DeviceKeyFile,
  type GatewayKeyFile,
  type KeyFile,
  parseKeyFile,
  wipeKeyFile,
} from "./keyFile.js";
import { type KeyRing, keyRingOf } from "./keyRing.js";

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
      `holds the exported keys of device "${file.device}", not a gateway master key (made by \`edgewarden keys generate\`)`,
    );
  }
  return file;
}

/** An exported device key file (one device's derived keys), as an upstream consumer holds it. */
export async function loadDeviceKeys(path: string): Promise<DeviceKeyFile> {
  const file = await loadKeyFile(path);
  if (file.kind !== "device") {
    wipeKeyFile(file);
    throw new KeyFileError(path, "holds gateway master keys, not an exported device key file");
  }
  return file;
}

/** Either kind of key file as a KeyRing: what sealing and opening use. */
export async function loadKeyRing(path: string): Promise<KeyRing> {
  return keyRingOf(await loadKeyFile(path), path);
}

async function readKeyFileBytes(path: string): Promise<Uint8Array> {
  let handle: FileHandle;
  try {
    // O_NOFOLLOW: a symlink is refused rather than followed; O_NONBLOCK: a FIFO cannot hang the open.
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    throw new KeyFileError(path, openProblem(error), { cause: error });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new KeyFileError(
        path,
        `not a regular file (${info.isDirectory() ? "a directory" : "a device, FIFO or socket"})`,
      );
    }
    if ((info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
      throw new KeyFileError(
        path,
        `holds a secret but is ${(info.mode & 0o044) !== 0 ? "readable" : "accessible"} by group or others (mode ${mode}); run: chmod 600 ${shellQuote(path)}`,
      );
    }
    if (info.size > KEY_FILE_MAX_BYTES) {
      throw new KeyFileError(
        path,
        `${info.size} bytes is too large for a key file (at most ${KEY_FILE_MAX_BYTES})`,
      );
    }
    // One byte more than the cap, so that a file grown since the stat is still caught.
    const buffer = new Uint8Array(KEY_FILE_MAX_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) {
        break;
      }
      length += bytesRead;
      if (length > KEY_FILE_MAX_BYTES) {
        buffer.fill(0);
        throw new KeyFileError(path, `too large for a key file (more than ${KEY_FILE_MAX_BYTES} bytes)`);
      }
    }
    const bytes = buffer.slice(0, length);
    buffer.fill(0);
    return bytes;
  } finally {
    await handle.close();
  }
}

function openProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
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
      return `cannot be opened (${code ?? String(error)})`;
  }
}

/** The path as one shell word, so that the printed chmod can be pasted as it is. */
export function shellQuote(path: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}
