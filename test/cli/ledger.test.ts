/**
 * `edgewarden ledger verify|tail|stats` on the built CLI (issue #5 item 4): the JSON it prints,
 * the exit codes it promises (0 intact, 3 tampered, 1 not an openable ledger, 2 usage), the
 * tamper cases of the issue through the command an operator runs, and -c for the directory.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exportCheckpointKeys, exportDeviceKeys, serializeKeyFile } from "../../src/crypto/keys/index.js";
import type { LedgerEntry } from "../../src/ledger/ledgerEntry.js";
import { gatewayRing, MASTER_K1, MASTER_K2 } from "../fixtures/protocol/envelopeFixtures.js";
import { edgewarden } from "../helpers/daemon.js";
import {
  deleteRawEntry,
  flipCharacter,
  openRawLedger,
  putRawEntries,
  putRawEntry,
  rewriteConsistently,
  swapRawEntries,
  writeLedgerDir,
} from "../helpers/ledgerDir.js";
import { Resources } from "../helpers/resources.js";

const keys = gatewayRing();
const GATEWAY_FILE = {
  kind: "gateway" as const,
  active: "k2",
  keys: [
    { id: "k1", created: "2026-01-01T00:00:00.000Z", secret: MASTER_K1 },
    { id: "k2", created: "2026-06-01T00:00:00.000Z", secret: MASTER_K2 },
  ],
};
const RECORDS = 120;

const resources = new Resources();
let work: string;
let dir: string;
let keyFile: string;
let entries: LedgerEntry[];
beforeEach(async () => {
  work = await resources.tempDir("ew-cli-ledger-");
  dir = join(work, "ledger");
  keyFile = join(work, "gateway.key");
  await writeFile(keyFile, serializeKeyFile(GATEWAY_FILE), { mode: 0o600 });
  entries = await writeLedgerDir(dir, { records: RECORDS, checkpointEvery: 25, keys, ackedSeq: 100 });
});
afterEach(() => resources.release());

function verify(...extra: string[]) {
  const result = edgewarden(["ledger", "verify", "-d", dir, ...extra]);
  return { ...result, summary: result.stdout === "" ? undefined : (JSON.parse(result.stdout) as unknown) };
}

describe("edgewarden ledger verify", () => {
  it("prints the summary of an intact chain as one JSON line and exits 0", () => {
    const { code, stdout, stderr } = verify();
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout.endsWith("}\n") && stdout.split("\n")).toHaveLength(2);
    expect(JSON.parse(stdout)).toEqual({
      records: RECORDS,
      firstSeq: 1,
      lastSeq: RECORDS,
      head: entries.at(-1)?.hash,
      ok: true,
      firstBad: null,
      checkpoints: { checked: 4, bad: 0, keyed: false },
    });
    expect(verify("--key-file", keyFile)).toMatchObject({
      code: 0,
      summary: { checkpoints: { checked: 4, keyed: true } },
    });
  });

  it("exits 3 naming the seq of one changed byte, a deleted record and the first of two swapped", async () => {
    const text = entries[40]?.text ?? "";
    await putRawEntry(dir, 41, flipCharacter(text, text.indexOf('"value":') + 9));
    expect(verify()).toMatchObject({
      code: 3,
      summary: { ok: false, firstBad: { seq: 41, reason: "hash mismatch" } },
    });
    await putRawEntry(dir, 41, text);
    expect(verify().code).toBe(0);

    await deleteRawEntry(dir, 60);
    expect(verify()).toMatchObject({ code: 3, summary: { firstBad: { seq: 60, reason: "missing" } } });
    await putRawEntry(dir, 60, entries[59]?.text ?? "");

    await swapRawEntries(dir, 90, 91);
    expect(verify()).toMatchObject({ code: 3, summary: { firstBad: { seq: 90, reason: "seq mismatch" } } });
  });

  it("passes a consistently rewritten chain without a key and exits 3 with --key-file", async () => {
    await putRawEntries(
      dir,
      rewriteConsistently(entries, 10, (entry) => ({ ...entry, body: entry.body.replace("rpm", "RPM") })),
    );
    expect(verify()).toMatchObject({ code: 0, summary: { ok: true } });
    expect(verify("--key-file", keyFile)).toMatchObject({
      code: 3,
      summary: { ok: false, firstBad: { seq: 25, reason: "checkpoint mac mismatch" } },
    });
  });

  it("exits 1 for a directory that is not a ledger, without creating it, and when the daemon holds it", async () => {
    const missing = join(work, "nothing-here");
    expect(edgewarden(["ledger", "verify", "-d", missing])).toEqual({
      code: 1,
      stdout: "",
      stderr: `edgewarden ledger verify: ledger ${missing} does not exist\n`,
    });
    expect(existsSync(missing)).toBe(false);
    expect(edgewarden(["ledger", "verify", "-d", work])).toMatchObject({
      code: 1,
      stderr: `edgewarden ledger verify: ${work} holds no ledger (no LevelDB CURRENT file)\n`,
    });
    const held = openRawLedger(dir);
    await held.open();
    try {
      expect(verify()).toMatchObject({
        code: 1,
        stdout: "",
        stderr: `edgewarden ledger verify: ledger ${dir} is in use by a running daemon (LevelDB lock); stop it or copy the directory\n`,
      });
    } finally {
      await held.close();
    }
  });

  it("exits 2 without a directory, and for a key file that cannot check MACs", async () => {
    expect(edgewarden(["ledger", "verify"])).toMatchObject({
      code: 2,
      stderr:
        "edgewarden ledger verify: name the ledger directory with -d DIR, or a config file with -c FILE\n",
    });
    expect(verify("--key-file", join(work, "absent.key"))).toMatchObject({
      code: 2,
      stderr: /does not exist/,
    });
    const deviceFile = join(work, "press-2.key");
    await writeFile(deviceFile, serializeKeyFile(exportDeviceKeys(GATEWAY_FILE, "press-2")), { mode: 0o600 });
    expect(verify("--key-file", deviceFile)).toMatchObject({ code: 2, stderr: /need the gateway key file/ });
  });

  it("verifies the MACs with an exported checkpoint key file as with the gateway key file", async () => {
    const checkpointFile = join(work, "gw.checkpoint.key");
    await writeFile(checkpointFile, serializeKeyFile(exportCheckpointKeys(GATEWAY_FILE)), { mode: 0o600 });
    expect(verify("--key-file", checkpointFile)).toMatchObject({
      code: 0,
      summary: { ok: true, checkpoints: { checked: 4, bad: 0, keyed: true } },
    });
    // Exported before k2 existed: the checkpoints made under k2 cannot be verified, so not sound.
    const beforeRotation = join(work, "k1-only.checkpoint.key");
    const k1Only = { ...GATEWAY_FILE, active: "k1", keys: GATEWAY_FILE.keys.slice(0, 1) };
    await writeFile(beforeRotation, serializeKeyFile(exportCheckpointKeys(k1Only)), { mode: 0o600 });
    expect(verify("--key-file", beforeRotation)).toMatchObject({
      code: 3,
      summary: { firstBad: { seq: 25, reason: "checkpoint key unknown" } },
    });
    await putRawEntries(
      dir,
      rewriteConsistently(entries, 10, (entry) => ({ ...entry, body: entry.body.replace("rpm", "RPM") })),
    );
    expect(verify("--key-file", checkpointFile)).toMatchObject({
      code: 3,
      summary: { ok: false, firstBad: { seq: 25, reason: "checkpoint mac mismatch" } },
    });
  });

  it("takes the directory from the config's storage.dir with -c", async () => {
    const config = join(work, "edgewarden.yaml");
    await writeFile(config, "gateway: { id: gw-1, site: lab }\nstorage: { dir: ledger }\n");
    expect(edgewarden(["ledger", "verify", "-c", config])).toMatchObject({
      code: 0,
      stdout: /"records":120/,
    });
    await writeFile(config, "gateway: { id: gw 1, site: lab }\n");
    expect(edgewarden(["ledger", "verify", "-c", config])).toMatchObject({ code: 2, stderr: /gateway\.id/ });
  });
});

describe("edgewarden ledger tail", () => {
  it("prints the last n entries as stored, oldest first; 10 by default", () => {
    const three = edgewarden(["ledger", "tail", "-d", dir, "-n", "3"]);
    expect(three).toMatchObject({ code: 0, stderr: "" });
    expect(three.stdout).toBe(
      `${entries
        .slice(-3)
        .map((entry) => entry.text)
        .join("\n")}\n`,
    );
    const ten = edgewarden(["ledger", "tail", "-d", dir]);
    expect(
      ten.stdout
        .trimEnd()
        .split("\n")
        .map((line) => (JSON.parse(line) as { seq: string }).seq),
    ).toEqual(Array.from({ length: 10 }, (_, i) => String(RECORDS - 9 + i)));
    expect(edgewarden(["ledger", "tail", "-d", dir, "-n", "100000"]).stdout.split("\n")).toHaveLength(
      RECORDS + 1,
    );
    expect(edgewarden(["ledger", "tail", "-d", dir, "-n", "0"])).toMatchObject({ code: 0, stdout: "" });
  });

  it("exits 2 for a bad -n and 1 for a missing directory", () => {
    expect(edgewarden(["ledger", "tail", "-d", dir, "-n", "-3"])).toMatchObject({
      code: 2,
      stderr: /-n "-3"/,
    });
    expect(edgewarden(["ledger", "tail", "-d", join(work, "none")]).code).toBe(1);
  });
});

describe("edgewarden ledger stats", () => {
  it("prints records, seqs, bytes, the acked cursor, backlog and the oldest unacknowledged ts", () => {
    const { code, stdout, stderr } = edgewarden(["ledger", "stats", "-d", dir]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      records: RECORDS,
      firstSeq: 1,
      lastSeq: RECORDS,
      head: entries.at(-1)?.hash,
      approxBytes: expect.any(Number) as number,
      ackedSeq: 100,
      backlogRecords: RECORDS - 100,
      oldestUnackedTs: entries[100]?.ts,
    });
  });

  it("exits 1 for a directory that is not a ledger", () => {
    expect(edgewarden(["ledger", "stats", "-d", join(work, "none")])).toMatchObject({
      code: 1,
      stderr: /does not exist/,
    });
  });
});
