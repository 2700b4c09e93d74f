/**
 * The files the MQTT session needs (issue #5): TLS CA, client certificate and key, and the broker
 * password. They are read once at start, so a reconnect never touches the disk and a file that
 * is unreadable or too open stops the start with a message a technician can act on. The key and
 * the password must be private to their owner (mode & 0o077 == 0), with the chmod that fixes it,
 * as crypto/keys/loadKeyFile.ts does for gateway keys. Unlike gateway key files, TLS files may be
 * symlinks (certbot's live/ directory is made of them): the checks run on the opened file, so the
 * file checked is the file read. No message ever carries file content.
 */
import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { shellQuote } from "../crypto/keys/index.js";

/** PEM bundles of a whole CA store are a few hundred KiB; the cap keeps a wrong path from being read whole. */
export const UPLINK_FILE_MAX_BYTES = 4 * 1024 * 1024;

export class UplinkFileError extends Error {
  override readonly name = "UplinkFileError";
}

export interface UplinkFileSettings {
  readonly passwordFile?: string | undefined;
  readonly tls?:
    | {
        readonly caFile?: string | undefined;
        readonly certFile?: string | undefined;
        readonly keyFile?: string | undefined;
      }
    | undefined;
}

export interface UplinkFiles {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly password?: Buffer;
}

export async function readUplinkFiles(settings: UplinkFileSettings): Promise<UplinkFiles> {
  const tls = settings.tls;
  const files: { ca?: Buffer; cert?: Buffer; key?: Buffer; password?: Buffer } = {};
  if (tls?.caFile !== undefined) {
    files.ca = await readUplinkFile(tls.caFile, { what: "TLS CA file", secret: false });
  }
  if (tls?.certFile !== undefined) {
    files.cert = await readUplinkFile(tls.certFile, { what: "TLS certificate file", secret: false });
  }
  if (tls?.keyFile !== undefined) {
    files.key = await readUplinkFile(tls.keyFile, { what: "TLS key file", secret: true });
  }
  if (settings.passwordFile !== undefined) {
    const raw = await readUplinkFile(settings.passwordFile, { what: "password file", secret: true });
    files.password = firstLine(raw, settings.passwordFile);
  }
  return files;
}

/** The password is the file's first line, without its line ending; the rest of the buffer is wiped. */
function firstLine(raw: Buffer, path: string): Buffer {
  let end = raw.indexOf(0x0a);
  if (end < 0) {
    end = raw.length;
  }
  if (end > 0 && raw[end - 1] === 0x0d) {
    end--;
  }
  const password = Buffer.from(raw.subarray(0, end));
  raw.fill(0);
  if (password.length === 0) {
    throw new UplinkFileError(`${path}: password file: the first line is empty`);
  }
  return password;
}

export async function readUplinkFile(
  path: string,
  options: { readonly what: string; readonly secret: boolean },
): Promise<Buffer> {
  let handle: FileHandle;
  try {
    // O_NONBLOCK: a FIFO at the path cannot hang the start.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new UplinkFileError(`${path}: ${options.what} ${openProblem(error)}`, { cause: error });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new UplinkFileError(`${path}: ${options.what} is not a regular file`);
    }
    if (options.secret && (info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
      throw new UplinkFileError(
        `${path}: ${options.what} holds a secret but is ${(info.mode & 0o044) !== 0 ? "readable" : "accessible"} by group or others (mode ${mode}); run: chmod 600 ${shellQuote(path)}`,
      );
    }
    if (info.size > UPLINK_FILE_MAX_BYTES) {
      throw new UplinkFileError(
        `${path}: ${options.what} is ${info.size} bytes, more than the ${UPLINK_FILE_MAX_BYTES} allowed`,
      );
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

function openProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "does not exist";
    case "EACCES":
    case "EPERM":
      return "cannot be read by this user (permission denied)";
    case "ENOTDIR":
      return "is under a path part that is not a directory";
    default:
      return `cannot be opened (${code ?? String(error)})`;
  }
}
