/**
 * The uplink's files (issue #5): read once at start; the TLS key and the password must be private
 * (0600, with the chmod that fixes it); the password is the first line; messages carry no content.
 */
import { spawnSync } from "node:child_process";
import { chmod, mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readUplinkFiles, UPLINK_FILE_MAX_BYTES, UplinkFileError } from "../../src/uplink/uplinkFiles.js";
import { Resources } from "../helpers/resources.js";

let resources: Resources;
let dir: string;
beforeEach(async () => {
  resources = new Resources();
  dir = await resources.tempDir("edgewarden-uplink-files-");
});
afterEach(async () => {
  await resources.release();
});

async function file(name: string, text: string, mode: number): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  await chmod(path, mode);
  return path;
}

async function problem(settings: Parameters<typeof readUplinkFiles>[0]): Promise<string> {
  const error: unknown = await readUplinkFiles(settings).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(UplinkFileError);
  return (error as Error).message;
}

describe("readUplinkFiles", () => {
  it("reads the TLS files and the password's first line (LF or CRLF)", async () => {
    const files = await readUplinkFiles({
      passwordFile: await file("pw", "top-Secret\r\nnot this\n", 0o600),
      tls: {
        caFile: await file("ca.pem", "CA PEM", 0o644),
        certFile: await file("cert.pem", "CERT PEM", 0o644),
        keyFile: await file("key.pem", "KEY PEM", 0o400),
      },
    });
    expect(files.password?.toString()).toBe("top-Secret");
    expect(files.ca?.toString()).toBe("CA PEM");
    expect(files.cert?.toString()).toBe("CERT PEM");
    expect(files.key?.toString()).toBe("KEY PEM");
    expect(await readUplinkFiles({})).toEqual({});
  });

  it("refuses secrets that group or others may read, with the chmod, and never shows the content", async () => {
    const key = await file("key.pem", "KEY PEM CONTENT", 0o640);
    expect(await problem({ tls: { keyFile: key } })).toBe(
      `${key}: TLS key file holds a secret but is readable by group or others (mode 0640); run: chmod 600 ${key}`,
    );
    const spaced = await file("my password", "pw-CONTENT\n", 0o602);
    const message = await problem({ passwordFile: spaced });
    expect(message).toContain(`is accessible by group or others (mode 0602); run: chmod 600 '${spaced}'`);
    expect(message).not.toContain("CONTENT");
  });

  it("follows a symlink but checks the file it points to", async () => {
    const target = await file("real-key.pem", "KEY", 0o644);
    const link = join(dir, "live-key.pem");
    await symlink(target, link);
    expect(await problem({ tls: { keyFile: link } })).toContain("mode 0644");
    await chmod(target, 0o600);
    expect((await readUplinkFiles({ tls: { keyFile: link } })).key?.toString()).toBe("KEY");
  });

  it("names a missing file, a directory and an empty password", async () => {
    expect(await problem({ tls: { caFile: join(dir, "nope.pem") } })).toBe(
      `${join(dir, "nope.pem")}: TLS CA file does not exist`,
    );
    await mkdir(join(dir, "certs"));
    expect(await problem({ tls: { certFile: join(dir, "certs") } })).toContain("is not a regular file");
    const empty = await file("empty-pw", "\nsecond\n", 0o600);
    expect(await problem({ passwordFile: empty })).toContain("the first line is empty");
  });

  // Only gateway key files had these before the two readers became one (src/checkedFile.ts).
  it.skipIf(spawnSync("mkfifo", ["--version"]).status !== 0)(
    "refuses a FIFO at a TLS path without hanging the start",
    async () => {
      const path = join(dir, "ca-fifo.pem");
      expect(spawnSync("mkfifo", ["-m", "644", path]).status).toBe(0);
      expect(await problem({ tls: { caFile: path } })).toBe(
        `${path}: TLS CA file is not a regular file (a device, FIFO or socket)`,
      );
    },
  );

  it("refuses a file over the cap, by size, without reading it", async () => {
    const big = await file("bundle.pem", "A".repeat(UPLINK_FILE_MAX_BYTES + 1), 0o644);
    expect(await problem({ tls: { caFile: big } })).toBe(
      `${big}: TLS CA file is ${UPLINK_FILE_MAX_BYTES + 1} bytes, more than the ${UPLINK_FILE_MAX_BYTES} allowed`,
    );
  });
});
