/**
 * The package version, read once from the nearest package.json above this module: dist/ in a
 * build, dist-scripts/src/ when the benchmarks and evaluations import the product code.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

export function packageVersion(): string {
  if (cached === undefined) {
    let dir = dirname(fileURLToPath(import.meta.url));
    while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) {
      dir = dirname(dir);
    }
    cached = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
  }
  return cached;
}
