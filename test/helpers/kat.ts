/** Reads the gzip-compressed Ascon known-answer files under test/vectors/ascon/. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";

export const VECTORS = join(import.meta.dirname, "..", "vectors", "ascon");

/** The uncompressed text of `path` (relative to VECTORS, without .gz). */
export function readVectorFile(path: string): string {
  return gunzipSync(readFileSync(join(VECTORS, `${path}.gz`))).toString("utf8");
}

/** Upstream SHA-256 of each vector file, from SHA256SUMS. */
export function upstreamChecksums(): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of readFileSync(join(VECTORS, "SHA256SUMS"), "utf8").split("\n")) {
    const match = /^([0-9a-f]{64})\s+\.\/(.+)$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) {
      sums.set(match[2], match[1]);
    }
  }
  return sums;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

export type KatRecord = Readonly<Record<string, string>>;

/** Records of `Field = value` lines separated by blank lines (LWC and ACVP formats alike). */
export function parseKat(text: string): KatRecord[] {
  return text
    .split(/\r?\n\s*\r?\n/)
    .map((block) => {
      const record: Record<string, string> = {};
      for (const line of block.split(/\r?\n/)) {
        const at = line.indexOf("=");
        if (at > 0) {
          record[line.slice(0, at).trim()] = line.slice(at + 1).trim();
        }
      }
      return record;
    })
    .filter((record) => record.Count !== undefined);
}

export function hex(text: string | undefined): Uint8Array {
  if (text === undefined) {
    throw new Error("missing field in a KAT record");
  }
  return Uint8Array.from(Buffer.from(text, "hex"));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex").toUpperCase();
}
