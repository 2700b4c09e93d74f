import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import {
  chmod,
  copyFile,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  writeFile,
} from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const script = path.join(repoRoot, "scripts", "install.sh");
const PREFIX = "/opt/edgewarden";

interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function runInstall(args: readonly string[], options: { uid?: number; gid?: number } = {}): RunResult {
  const result = spawnSync("bash", [script, ...args], { encoding: "utf8", timeout: 60_000, ...options });
  if (result.error !== undefined) {
    throw result.error;
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function expectSuccess(result: RunResult): void {
  expect(result.status, `install.sh failed:\n${result.stdout}\n${result.stderr}`).toBe(0);
}

interface Entry {
  path: string;
  kind: "dir" | "file" | "symlink" | "other";
  mode: string;
  content: string;
}

/** Every path under root with its type, permission bits and sha256 (or symlink target). */
async function snapshot(root: string): Promise<Entry[]> {
  const entries: Entry[] = [];
  async function walk(dir: string): Promise<void> {
    for (const name of (await readdir(dir)).sort()) {
      const full = path.join(dir, name);
      const st = await lstat(full);
      const rel = path.relative(root, full);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) {
        entries.push({ path: rel, kind: "symlink", mode, content: await readlink(full) });
      } else if (st.isDirectory()) {
        entries.push({ path: rel, kind: "dir", mode, content: "" });
        await walk(full);
      } else if (st.isFile()) {
        const sha = createHash("sha256")
          .update(await readFile(full))
          .digest("hex");
        entries.push({ path: rel, kind: "file", mode, content: sha });
      } else {
        entries.push({ path: rel, kind: "other", mode, content: "" });
      }
    }
  }
  await walk(root);
  return entries;
}

/** Like existsSync, but a dangling symlink counts as present. */
async function lexists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}

async function permissions(file: string): Promise<number> {
  return (await lstat(file)).mode & 0o7777;
}

describe("scripts/install.sh", () => {
  let tmp = "";
  let stage = "";

  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), "edgewarden-install-"));
    stage = path.join(tmp, "stage");
  });

  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it("needs a built package: dist/cli.js and config/example.yaml", () => {
    expect(
      existsSync(path.join(repoRoot, "dist", "cli.js")),
      "dist/cli.js is missing: run npm run build before the tests",
    ).toBe(true);
    expect(existsSync(path.join(repoRoot, "config", "example.yaml")), "config/example.yaml is missing").toBe(
      true,
    );
  });

  it("installs package, unit, config and symlink under --root with the right modes", async () => {
    const result = runInstall(["--root", stage, "--skip-npm", "--no-enable"]);
    expectSuccess(result);
    expect(result.stdout).toMatch(/no useradd, chown, npm or systemctl/);

    const unit = path.join(stage, "etc/systemd/system/edgewarden.service");
    expect(await permissions(unit)).toBe(0o644);
    expect(await readFile(unit, "utf8")).toBe(
      await readFile(path.join(repoRoot, "systemd/edgewarden.service"), "utf8"),
    );

    expect(await permissions(path.join(stage, "etc/edgewarden"))).toBe(0o750);
    const config = path.join(stage, "etc/edgewarden/config.yaml");
    expect(await permissions(config)).toBe(0o640);
    expect(await readFile(config, "utf8")).toBe(
      await readFile(path.join(repoRoot, "config/example.yaml"), "utf8"),
    );
    expect(await permissions(path.join(stage, "var/lib/edgewarden"))).toBe(0o750);

    const cli = path.join(stage, PREFIX, "dist/cli.js");
    expect(await readFile(cli)).toEqual(await readFile(path.join(repoRoot, "dist/cli.js")));
    expect(await permissions(cli)).toBe(0o755);
    expect(existsSync(path.join(stage, PREFIX, "package.json"))).toBe(true);

    // The link target is the path on the gateway, not inside the staging dir.
    const link = path.join(stage, "usr/local/bin/edgewarden");
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe(`${PREFIX}/dist/cli.js`);
  });

  it("changes nothing on a second run and says already present", async () => {
    expectSuccess(runInstall(["--root", stage, "--skip-npm", "--no-enable"]));
    const before = await snapshot(stage);

    const second = runInstall(["--root", stage, "--skip-npm", "--no-enable"]);
    expectSuccess(second);
    expect(await snapshot(stage)).toEqual(before);
    expect(second.stdout).toContain(`already present: ${PREFIX}/dist`);
    expect(second.stdout).toContain("already present: /etc/systemd/system/edgewarden.service");
    expect(second.stdout).toContain("already present: /etc/edgewarden/config.yaml");
    expect(second.stdout).toContain("already present: /usr/local/bin/edgewarden");
    expect(second.stdout).toContain("nothing to do");
    expect(second.stdout).not.toMatch(/^edgewarden-install: (installed|created|linked) /m);
  });

  it("never overwrites a technician's config.yaml", async () => {
    expectSuccess(runInstall(["--root", stage, "--skip-npm", "--no-enable"]));
    const config = path.join(stage, "etc/edgewarden/config.yaml");
    const edited = "# edited on site\ngateway:\n  id: press-line-3\n";
    await writeFile(config, edited);
    await chmod(config, 0o600);

    const again = runInstall(["--root", stage, "--skip-npm", "--no-enable"]);
    expectSuccess(again);
    expect(await readFile(config, "utf8")).toBe(edited);
    expect(await permissions(config)).toBe(0o600);
    expect(again.stdout).toContain("/etc/edgewarden/config.yaml (left unchanged)");
  });

  it("points ExecStart at a custom --prefix", async () => {
    expectSuccess(runInstall(["--root", stage, "--prefix", "/srv/edgewarden", "--skip-npm", "--no-enable"]));
    const unit = await readFile(path.join(stage, "etc/systemd/system/edgewarden.service"), "utf8");
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node \/srv\/edgewarden\/dist\/cli\.js run -c /m);
    expect(unit).not.toContain("/opt/edgewarden/dist/cli.js");
    expect(existsSync(path.join(stage, "srv/edgewarden/dist/cli.js"))).toBe(true);
    expect(await readlink(path.join(stage, "usr/local/bin/edgewarden"))).toBe("/srv/edgewarden/dist/cli.js");
  });

  it("uninstalls the unit, symlink and prefix but keeps config and state until --purge", async () => {
    expectSuccess(runInstall(["--root", stage, "--skip-npm", "--no-enable"]));
    const unit = path.join(stage, "etc/systemd/system/edgewarden.service");
    const link = path.join(stage, "usr/local/bin/edgewarden");
    const prefix = path.join(stage, PREFIX);
    const config = path.join(stage, "etc/edgewarden/config.yaml");
    const state = path.join(stage, "var/lib/edgewarden");

    const uninstall = runInstall(["--uninstall", "--root", stage]);
    expectSuccess(uninstall);
    expect(existsSync(unit)).toBe(false);
    expect(await lexists(link)).toBe(false);
    expect(existsSync(prefix)).toBe(false);
    expect(existsSync(config)).toBe(true);
    expect(existsSync(state)).toBe(true);
    expect(uninstall.stdout).toContain("kept /etc/edgewarden");

    const purge = runInstall(["--uninstall", "--purge", "--root", stage]);
    expectSuccess(purge);
    expect(purge.stdout).toMatch(
      /--purge will now remove:[\s\S]*\/etc\/edgewarden[\s\S]*removed \/etc\/edgewarden/,
    );
    expect(existsSync(path.join(stage, "etc/edgewarden"))).toBe(false);
    expect(existsSync(state)).toBe(false);
  });

  it("rejects --purge without --uninstall and leaves the staging root untouched", () => {
    const result = runInstall(["--purge", "--root", stage]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("--purge only makes sense together with --uninstall");
    expect(existsSync(stage)).toBe(false);
  });

  // Dropping to an unprivileged uid is real, not faked; it needs root to do so.
  it.skipIf(process.getuid?.() !== 0)("refuses to install on the live system without root", async () => {
    // A copy of the script alone, in a directory "nobody" can read: the root check comes first.
    const dir = path.join(tmp, "bin");
    await mkdir(dir);
    await chmod(tmp, 0o755);
    await chmod(dir, 0o755);
    const copy = path.join(dir, "install.sh");
    await copyFile(script, copy);
    const result = spawnSync("bash", [copy, "--skip-npm"], {
      encoding: "utf8",
      uid: 65534,
      gid: 65534,
      timeout: 60_000,
    });
    expect(result.error).toBeUndefined();
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("must run as root");
  });
});
