/** Shared by the lifecycle suites (test/daemon/lifecycle.*.test.ts). */
import { afterEach, beforeAll, beforeEach } from "vitest";
import { assertBuilt } from "./daemon.js";
import { isRecord, type JsonRecord } from "./lineChild.js";
import { Resources } from "./resources.js";

export const CLEAN_EXIT = { code: 0, signal: null };
export const WAITING_FOR_LOCK = "another edgewarden holds this data directory; waiting for it to stop";
export const WITHHOLDING = "watchdog: a component shows no progress; withholding the ping";

/** Registers the per-test child processes and temp dirs; returns a getter for the current set. */
export function useResources(): () => Resources {
  let resources: Resources | undefined;
  beforeAll(() => {
    assertBuilt();
  });
  beforeEach(() => {
    resources = new Resources();
  });
  afterEach(async () => {
    await resources?.release();
  });
  return () => {
    if (resources === undefined) {
      throw new Error("resources are only available inside a test");
    }
    return resources;
  };
}

export function pidInFile(text: string): string | undefined {
  return text.split("\n")[0];
}

export function failedNames(line: JsonRecord): string[] {
  const failed = line.failed;
  if (!Array.isArray(failed)) {
    throw new Error(`no failed list in ${JSON.stringify(line)}`);
  }
  return failed.map((entry: unknown) => (isRecord(entry) ? String(entry.name) : String(entry)));
}

export function errMessage(line: JsonRecord): string | undefined {
  return isRecord(line.err) && typeof line.err.message === "string" ? line.err.message : undefined;
}
