/** Where things are in the repository, for tests that spawn the built CLI or use fixtures. */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const cliPath = join(repoRoot, "dist", "cli.js");

export function fixturePath(name: string): string {
  return join(repoRoot, "test", "fixtures", name);
}
