/**
 * One reader for the files a start depends on and a technician places by hand: gateway key files
 * (crypto/keys, issue #3) and the uplink's TLS files and password (uplink, issue #5). It opens
 * without blocking (a FIFO at the path cannot hang the start), checks the open handle (so the file
 * checked is the file read): a regular file, optionally private to its owner (mode & 0o077 == 0),
 * at most `maxBytes` — and reads at most `maxBytes + 1` bytes, so a file that grew since the stat,
 * or one whose stat size says nothing (/proc), is still caught. It never reads a byte of content
 * into a message.
 *
 * Problems come back as data (`CheckedFileError.problem`): each caller words them for its own
 * file ("TLS key file", "key file") and its own fix, and the type makes it cover every case.
 * It lives in crypto/, which depends on nothing else in src/, so that uplink may import it
 * (uplink may import crypto; crypto never imports uplink).
 */
import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";

export interface CheckedFileRules {
  /** Refuse group or other access: the file holds a secret. */
  readonly private: boolean;
  /** false: a symlink at the path is refused (ELOOP), not followed. */
  readonly followSymlinks: boolean;
  readonly maxBytes: number;
}

export type CheckedFileProblem =
  /** open(2) failed; `code` is its errno name (ENOENT, EACCES, ELOOP, ...). */
  | { readonly kind: "open"; readonly code: string | undefined }
  | { readonly kind: "not-regular"; readonly directory: boolean }
  /** `mode` is the permission bits (mode & 0o777). */
  | { readonly kind: "too-open"; readonly mode: number }
  /** `size` is the stat size, or undefined when the file held more than its stat said. */
  | { readonly kind: "too-large"; readonly size: number | undefined; readonly maxBytes: number };

export class CheckedFileError extends Error {
  override readonly name = "CheckedFileError";
  readonly path: string;
  readonly problem: CheckedFileProblem;

  constructor(path: string, problem: CheckedFileProblem, options?: ErrorOptions) {
    super(`${path}: ${problem.kind}`, options);
    this.path = path;
    this.problem = problem;
  }
}

/** The file's bytes; the caller owns them (and wipes them when they are secret). */
export async function readCheckedFile(path: string, rules: CheckedFileRules): Promise<Buffer> {
  let handle: FileHandle;
  try {
    const follow = rules.followSymlinks ? 0 : constants.O_NOFOLLOW;
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | follow);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CheckedFileError(path, { kind: "open", code }, { cause: error });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new CheckedFileError(path, { kind: "not-regular", directory: info.isDirectory() });
    }
    if (rules.private && (info.mode & 0o077) !== 0) {
      throw new CheckedFileError(path, { kind: "too-open", mode: info.mode & 0o777 });
    }
    if (info.size > rules.maxBytes) {
      throw new CheckedFileError(path, { kind: "too-large", size: info.size, maxBytes: rules.maxBytes });
    }
    return await readAtMost(handle, path, info.size, rules.maxBytes);
  } finally {
    await handle.close();
  }
}

/**
 * Reads into a buffer sized by the stat (plus one byte), grown while the file keeps giving bytes,
 * never beyond `maxBytes + 1`. Every buffer left behind is zeroed: the content may be a secret.
 */
async function readAtMost(handle: FileHandle, path: string, size: number, maxBytes: number): Promise<Buffer> {
  let buffer = Buffer.alloc(Math.min(size, maxBytes) + 1);
  let length = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
    if (bytesRead === 0) {
      break;
    }
    length += bytesRead;
    if (length > maxBytes) {
      buffer.fill(0);
      throw new CheckedFileError(path, { kind: "too-large", size: undefined, maxBytes });
    }
    if (length === buffer.length) {
      const grown = Buffer.alloc(Math.min(buffer.length * 2, maxBytes + 1));
      buffer.copy(grown, 0, 0, length);
      buffer.fill(0);
      buffer = grown;
    }
  }
  const bytes = Buffer.from(buffer.subarray(0, length));
  buffer.fill(0);
  return bytes;
}

/**
 * The mode problem and its fix, shared by every caller so that the chmod is always printed the
 * same way: "holds a secret but is readable by group or others (mode 0640); run: chmod 600 F".
 */
export function tooOpenText(path: string, mode: number): string {
  const octal = mode.toString(8).padStart(4, "0");
  const access = (mode & 0o044) !== 0 ? "readable" : "accessible";
  return `holds a secret but is ${access} by group or others (mode ${octal}); run: chmod 600 ${shellQuote(path)}`;
}

/** The path as one shell word, so that a printed command can be pasted as it is. */
export function shellQuote(path: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}
