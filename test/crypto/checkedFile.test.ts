/**
 * The one reader behind gateway key files and the uplink's TLS and password files (issue #5):
 * the checks run on the opened file, the size cap holds even when the stat size lies, and
 * problems come back as data for each caller to word.
 */
import { spawnSync } from "node:child_process";
import { chmod, mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CheckedFileError,
  type CheckedFileProblem,
  type CheckedFileRules,
  readCheckedFile,
  shellQuote,
  tooOpenText,
} from "../../src/crypto/checkedFile.js";
import { Resources } from "../helpers/resources.js";

let resources: Resources;
let dir: string;
beforeEach(async () => {
  resources = new Resources();
  dir = await resources.tempDir("edgewarden-checked-file-");
});
afterEach(async () => {
  await resources.release();
});

const secret: CheckedFileRules = { private: true, followSymlinks: false, maxBytes: 64 };
const open_: CheckedFileRules = { private: false, followSymlinks: true, maxBytes: 64 };

async function file(name: string, content: string | Buffer, mode = 0o600): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  await chmod(path, mode);
  return path;
}

async function problemOf(path: string, rules: CheckedFileRules): Promise<CheckedFileProblem> {
  const error: unknown = await readCheckedFile(path, rules).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(CheckedFileError);
  expect((error as CheckedFileError).path).toBe(path);
  return (error as CheckedFileError).problem;
}

describe("readCheckedFile", () => {
  it("reads a private file whole, up to exactly the cap", async () => {
    const content = Buffer.alloc(64, 0x61);
    expect(await readCheckedFile(await file("full", content), secret)).toEqual(content);
    expect(await readCheckedFile(await file("empty", ""), secret)).toEqual(Buffer.alloc(0));
  });

  it("refuses group or other access only when the file is private", async () => {
    const path = await file("shared", "text", 0o640);
    expect(await problemOf(path, secret)).toEqual({ kind: "too-open", mode: 0o640 });
    expect((await readCheckedFile(path, open_)).toString()).toBe("text");
  });

  it("refuses or follows a symlink by rule, and checks the file it points to", async () => {
    const target = await file("target", "text", 0o644);
    const link = join(dir, "link");
    await symlink(target, link);
    expect(await problemOf(link, secret)).toEqual({ kind: "open", code: "ELOOP" });
    expect(await problemOf(link, { ...open_, private: true })).toEqual({ kind: "too-open", mode: 0o644 });
    expect((await readCheckedFile(link, open_)).toString()).toBe("text");
  });

  it("names a missing file, a directory and a path through a file", async () => {
    expect(await problemOf(join(dir, "none"), secret)).toEqual({ kind: "open", code: "ENOENT" });
    await mkdir(join(dir, "sub"));
    expect(await problemOf(join(dir, "sub"), open_)).toEqual({ kind: "not-regular", directory: true });
    const plain = await file("plain", "x");
    expect(await problemOf(join(plain, "below"), open_)).toEqual({ kind: "open", code: "ENOTDIR" });
  });

  it.skipIf(spawnSync("mkfifo", ["--version"]).status !== 0)("refuses a FIFO without hanging", async () => {
    const path = join(dir, "fifo");
    expect(spawnSync("mkfifo", ["-m", "600", path]).status).toBe(0);
    expect(await problemOf(path, open_)).toEqual({ kind: "not-regular", directory: false });
  });

  it("refuses a file over the cap by its stat size", async () => {
    const path = await file("big", Buffer.alloc(65, 0x61));
    expect(await problemOf(path, secret)).toEqual({ kind: "too-large", size: 65, maxBytes: 64 });
  });

  // /proc files stat as 0 bytes: only the bounded read stands between them and the cap. It is
  // what catches a file that grew between the stat and the read, too.
  it.skipIf(process.platform !== "linux")(
    "caps the read when the stat size understates the file",
    async () => {
      const status = "/proc/self/status";
      expect(await problemOf(status, { ...open_, maxBytes: 100 })).toEqual({
        kind: "too-large",
        size: undefined,
        maxBytes: 100,
      });
      const whole = await readCheckedFile(status, { ...open_, maxBytes: 1 << 20 });
      expect(whole.toString()).toMatch(/^Name:/);
      expect(whole.length).toBeGreaterThan(100);
    },
  );
});

describe("tooOpenText", () => {
  it("says readable or only accessible, and prints a chmod that pastes as one word", () => {
    expect(tooOpenText("/etc/gw.key", 0o640)).toBe(
      "holds a secret but is readable by group or others (mode 0640); run: chmod 600 /etc/gw.key",
    );
    expect(tooOpenText("/tmp/my key", 0o602)).toContain("accessible by group or others (mode 0602)");
    expect(shellQuote("/tmp/it's")).toBe(`'/tmp/it'\\''s'`);
  });
});
