/**
 * Writing key files to disk (issue #3), always mode 0600 and always durable before we report
 * success: the file is fsynced, and so is its directory, so that a power cut right after
 * `keys generate` or `keys rotate` cannot lose a key that may already have sealed data.
 *
 * - createKeyFile (generate): O_CREAT|O_EXCL, never overwrites.
 * - replaceKeyFile (rotate, export): a 0600 temp file in the same directory, fsynced, then
 *   renamed over the target, so a reader sees the old file or the new one, never half of one.
 *   Without `overwrite`, the temp file is hard-linked to the target instead, which fails if the
 *   target exists, with no window between check and write.
 */
import { randomBytes } from "node:crypto";
import { type FileHandle, link, lstat, open, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { KeyFileError } from "./errors.js";
import { type KeyFile, serializeKeyFile } from "./keyFile.js";

const KEY_FILE_MODE = 0o600;

/** Creates `path` with the key file; refuses (KeyFileError) if anything exists there. */
export async function createKeyFile(path: string, file: KeyFile): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(path, "wx", KEY_FILE_MODE);
  } catch (error) {
    throw writeError(path, error);
  }
  try {
    await writeAndSync(handle, file);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await syncDirectory(dirname(path));
}

/**
 * Writes the key file to `path` atomically. With `overwrite`, an existing file is replaced (its
 * owner and group are kept, so that a rotation run as root leaves the file readable by the
 * daemon's user); without, an existing file is refused.
 */
export async function replaceKeyFile(
  path: string,
  file: KeyFile,
  options: { overwrite: boolean },
): Promise<void> {
  const directory = dirname(path);
  const temp = join(directory, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  let handle: FileHandle;
  try {
    handle = await open(temp, "wx", KEY_FILE_MODE);
  } catch (error) {
    throw writeError(path, error);
  }
  try {
    try {
      if (options.overwrite) {
        await keepOwner(handle, path);
      }
      await writeAndSync(handle, file);
    } finally {
      await handle.close();
    }
    await (options.overwrite ? rename(temp, path) : linkWithoutOverwrite(temp, path)).catch(
      (error: unknown) => {
        throw writeError(path, error);
      },
    );
  } finally {
    // After a rename the temp name is gone already; after a link or a failure it must go.
    await unlink(temp).catch(() => undefined);
  }
  await syncDirectory(directory);
}

async function writeAndSync(handle: FileHandle, file: KeyFile): Promise<void> {
  const bytes = new TextEncoder().encode(serializeKeyFile(file));
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    // Best effort: the encoded copy is wiped; the serialised string itself cannot be.
    bytes.fill(0);
  }
}

async function linkWithoutOverwrite(temp: string, path: string): Promise<void> {
  try {
    await link(temp, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Some file systems (FAT on a USB stick) have no hard links: fall back to check-then-rename.
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") {
      throw error;
    }
    const exists = await lstat(path).then(
      () => true,
      () => false,
    );
    if (exists) {
      throw Object.assign(new Error("file exists"), { code: "EEXIST" });
    }
    await rename(temp, path);
  }
}

async function keepOwner(handle: FileHandle, path: string): Promise<void> {
  const target = await stat(path).catch(() => undefined);
  if (target === undefined) {
    return;
  }
  const mine = await handle.stat();
  if (target.uid === mine.uid && target.gid === mine.gid) {
    return;
  }
  try {
    await handle.chown(target.uid, target.gid);
  } catch (error) {
    // Only the owner (or root) could read the 0600 file, so a differing owner means we are root and
    // chown works. A group we cannot set does not matter for a 0600 file.
    if (target.uid !== mine.uid) {
      throw writeError(path, error);
    }
  }
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, "r");
  try {
    await handle.sync();
  } catch (error) {
    // A few file systems cannot fsync a directory; the file itself is synced already.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EINVAL" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") {
      throw error;
    }
  } finally {
    await handle.close();
  }
}

function writeError(path: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const problems: Readonly<Record<string, string>> = {
    EEXIST: "already exists; refusing to overwrite a key file",
    ENOENT: `cannot be created: directory ${dirname(path)} does not exist`,
    ENOTDIR: "cannot be created: a part of the path is not a directory",
    EACCES: "cannot be written by this user (permission denied)",
    EPERM: "cannot be written by this user (operation not permitted)",
    EROFS: "cannot be written: read-only file system",
    EISDIR: "is a directory",
  };
  const problem = code === undefined ? undefined : problems[code];
  return problem === undefined ? (error as Error) : new KeyFileError(path, problem, { cause: error });
}

/** Whether a write failed because the target exists: commands add how to get past it. */
export function isAlreadyExists(error: unknown): boolean {
  return (
    error instanceof KeyFileError && (error.cause as NodeJS.ErrnoException | undefined)?.code === "EEXIST"
  );
}
