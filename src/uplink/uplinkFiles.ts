/**
 * The files the MQTT session needs (issue #5): TLS CA, client certificate and key, and the broker
 * password. They are read once at start, so a reconnect never touches the disk and a file that
 * is unreadable or too open stops the start with a message a technician can act on. The key and
 * the password must be private to their owner (mode & 0o077 == 0), with the chmod that fixes it.
 * Reading and checking are crypto/checkedFile.ts's, shared with gateway key files; unlike those, TLS
 * files may be symlinks (certbot's live/ directory is made of them). No message carries content.
 */
import {
  CheckedFileError,
  type CheckedFileProblem,
  readCheckedFile,
  tooOpenText,
} from "../crypto/checkedFile.js";

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
  try {
    // Symlinks are followed: certbot's live/ directory is made of them, and the checks run on the
    // file opened, so a link to an open file is still refused.
    return await readCheckedFile(path, {
      private: options.secret,
      followSymlinks: true,
      maxBytes: UPLINK_FILE_MAX_BYTES,
    });
  } catch (error) {
    if (error instanceof CheckedFileError) {
      throw new UplinkFileError(`${path}: ${options.what} ${uplinkFileProblem(path, error.problem)}`, {
        cause: error,
      });
    }
    throw error;
  }
}

/** The uplink's wording of a problem, after "FILE: TLS key file ": what is wrong and the fix. */
function uplinkFileProblem(path: string, problem: CheckedFileProblem): string {
  switch (problem.kind) {
    case "open":
      return openProblem(problem.code);
    case "not-regular":
      return `is not a regular file (${problem.directory ? "a directory" : "a device, FIFO or socket"})`;
    case "too-open":
      return tooOpenText(path, problem.mode);
    case "too-large":
      return problem.size === undefined
        ? `holds more than the ${problem.maxBytes} bytes allowed`
        : `is ${problem.size} bytes, more than the ${problem.maxBytes} allowed`;
  }
}

function openProblem(code: string | undefined): string {
  switch (code) {
    case "ENOENT":
      return "does not exist";
    case "EACCES":
    case "EPERM":
      return "cannot be read by this user (permission denied)";
    case "ENOTDIR":
      return "is under a path part that is not a directory";
    case "ELOOP":
      return "is a symbolic link loop (or one too many links deep)";
    default:
      return `cannot be opened (${code ?? "unknown error"})`;
  }
}
