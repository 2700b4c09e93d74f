/**
 * What a test started and must clean up: child processes (killed) and temp dirs (removed).
 * Create one in beforeEach and call release() in afterEach.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

interface Killable {
  kill(): Promise<void>;
}

export class Resources {
  readonly #children: Killable[] = [];
  readonly #dirs: string[] = [];

  async tempDir(prefix = "edgewarden-test-"): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.#dirs.push(dir);
    return dir;
  }

  track<T extends Killable>(child: T): T {
    this.#children.push(child);
    return child;
  }

  async release(): Promise<void> {
    const children = this.#children.splice(0);
    const dirs = this.#dirs.splice(0);
    await Promise.all(children.map((child) => child.kill()));
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}
