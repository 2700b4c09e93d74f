/**
 * Whole-file replacement that a power cut cannot tear (issue #6 item 5: "models saved ... temp file
 * + rename"): write a temp file in the same directory, fsync it, rename it over the target, fsync
 * the directory. A reader sees the old file or the new one, never half of either; an SD card that
 * loses power mid-write leaves at most a stray temp file, removed on the next write.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

const TEMP_SUFFIX = ".tmp";

export async function writeFileAtomic(path: string, text: string, mode = 0o644): Promise<void> {
  const directory = dirname(path);
  await mkdir(directory, { recursive: true, mode: 0o755 });
  const temp = join(
    directory,
    `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}${TEMP_SUFFIX}`,
  );
  try {
    const handle = await open(temp, "wx", mode);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  await syncDirectory(directory);
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes temp files a crash left in `directory` (ours only: dot-prefixed, ".tmp"-suffixed). */
export async function removeStaleTemps(directory: string): Promise<number> {
  const names = await readdir(directory).catch(() => [] as string[]);
  const stale = names.filter((name) => name.startsWith(".") && name.endsWith(TEMP_SUFFIX));
  await Promise.all(stale.map((name) => unlink(join(directory, name)).catch(() => undefined)));
  return stale.length;
}
