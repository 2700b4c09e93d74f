/**
 * `edgewarden decrypt --key-file F` on the built CLI (issue #3; docs/protocol.md §9): JSON lines
 * of topic and payload in, opened records out in order, every rejected line on stderr with its
 * number, exit 3 if any was rejected, 2 for a key file that cannot be used.
 */
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EnvelopeHeader, sealEnvelope } from "../../src/crypto/envelope/index.js";
import { gatewayRing, HEADER, MASTER_K1, MASTER_K2 } from "../fixtures/protocol/envelopeFixtures.js";
import { protocolExample } from "../fixtures/protocol/protocolDoc.js";
import { edgewarden } from "../helpers/daemon.js";

const ring = gatewayRing();
const topicOf = (device: string, stream = "data") => `edgewarden/hm3/hm3-gw-01/${device}/${stream}`;

function decrypt(keyFile: string, input: string) {
  return edgewarden(["decrypt", "--key-file", keyFile], { input, maxBuffer: 64 * 1024 * 1024 });
}

/** One input line: the record `{"seq": "<seq>", "device": ...}` sealed for `device`'s data topic. */
function line(seq: number, device = "press-2", change: Partial<EnvelopeHeader> = {}): string {
  const topic = topicOf(device);
  const record = JSON.stringify({ seq: String(seq), device });
  const header = { ...HEADER, device, seq: BigInt(seq), ...change };
  const payload = sealEnvelope(ring, { topic, header, plaintext: new TextEncoder().encode(record) });
  return JSON.stringify({ topic, payload });
}

const stdoutRecords = (stdout: string) =>
  stdout
    .trimEnd()
    .split("\n")
    .filter((text) => text !== "")
    .map((text) => JSON.parse(text) as { seq: string; device: string; record?: { seq: string } });

let dir: string;
let gatewayKeyFile: string;
let deviceKeyFile: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ew-decrypt-"));
  gatewayKeyFile = join(dir, "gateway.key");
  await writeFile(
    gatewayKeyFile,
    `${JSON.stringify({
      format: "edgewarden-gateway-key",
      version: 1,
      active: "k2",
      keys: [
        {
          id: "k1",
          created: "2026-01-01T00:00:00.000Z",
          secret: Buffer.from(MASTER_K1).toString("base64url"),
        },
        {
          id: "k2",
          created: "2026-06-01T00:00:00.000Z",
          secret: Buffer.from(MASTER_K2).toString("base64url"),
        },
      ],
    })}\n`,
    { mode: 0o600 },
  );
  deviceKeyFile = join(dir, "press-2.key");
  await writeFile(
    deviceKeyFile,
    `${JSON.stringify({
      format: "edgewarden-device-key",
      version: 1,
      device: "press-2",
      keys: [{ id: "k1", secret: Buffer.from(ring.deviceKey("press-2", "k1")).toString("base64url") }],
    })}\n`,
    { mode: 0o600 },
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("edgewarden decrypt", () => {
  it("prints every record in input order and exits 0 when all open", () => {
    const { code, stdout, stderr } = decrypt(
      gatewayKeyFile,
      `${[1, 2, 3].map((seq) => line(seq)).join("\n")}\n`,
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdoutRecords(stdout).map((r) => [r.seq, r.record?.seq])).toEqual([
      ["1", "1"],
      ["2", "2"],
      ["3", "3"],
    ]);
  });

  it("reports a tampered line with its number, prints the good ones in order, and exits 3", () => {
    const tampered = JSON.parse(line(3)) as { topic: string; payload: string };
    const bad = JSON.stringify({ ...tampered, payload: tampered.payload.replace('"seq":"3"', '"seq":"33"') });
    const input = [line(1), line(2), "", bad, line(4), line(5)].join("\n");
    const { code, stdout, stderr } = decrypt(gatewayKeyFile, input);
    expect(code).toBe(3);
    expect(stdoutRecords(stdout).map((r) => r.seq)).toEqual(["1", "2", "4", "5"]);
    expect(stderr).toMatch(/^line 4: auth-failed: the tag does not verify/);
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("reports a payload moved to another topic as auth-failed", () => {
    const moved = JSON.parse(line(1)) as { topic: string; payload: string };
    const input = JSON.stringify({ ...moved, topic: topicOf("press-2", "alerts") });
    const { code, stderr } = decrypt(gatewayKeyFile, input);
    expect(code).toBe(3);
    expect(stderr).toMatch(/^line 1: auth-failed: /);
  });

  it("opens with a device key file only that device's records; the rest are unknown-key", () => {
    const input = [line(1, "press-2"), line(2, "press-3"), line(3, "press-2"), line(4, "_gateway")].join(
      "\n",
    );
    const { code, stdout, stderr } = decrypt(deviceKeyFile, input);
    expect(code).toBe(3);
    expect(stdoutRecords(stdout).map((r) => [r.device, r.seq])).toEqual([
      ["press-2", "1"],
      ["press-2", "3"],
    ]);
    expect(stderr.trimEnd().split("\n")).toEqual([
      expect.stringMatching(/^line 2: unknown-key: .*not of device "press-3"/),
      expect.stringMatching(/^line 4: unknown-key: .*not of device "_gateway"/),
    ]);
  });

  it("opens envelopes of every key id a gateway key file holds", () => {
    const { code, stdout } = decrypt(
      gatewayKeyFile,
      [line(1), line(2, "press-2", { keyId: "k2" })].join("\n"),
    );
    expect(code).toBe(0);
    expect(stdoutRecords(stdout).map((r) => r.seq)).toEqual(["1", "2"]);
  });

  it("reports lines that are not {topic, payload} as bad-line and goes on", () => {
    const input = [
      "not json",
      "[1]",
      '{"topic":"t"}',
      '{"topic":"t","payload":{"v":1}}',
      `${line(5)}\r`,
      JSON.stringify({ topic: "t", payload: "not an envelope" }),
      `{"topic":"${"x".repeat(2 * 1024 * 1024)}"}`,
      line(8),
    ].join("\n");
    const { code, stdout, stderr } = decrypt(gatewayKeyFile, input);
    expect(code).toBe(3);
    expect(stdoutRecords(stdout).map((r) => r.seq)).toEqual(["5", "8"]);
    expect(stderr.trimEnd().split("\n")).toEqual([
      expect.stringMatching(/^line 1: bad-line: not JSON/),
      'line 2: bad-line: expected a JSON object {"topic": ..., "payload": ...}',
      'line 3: bad-line: "topic" and "payload" must both be text (got string and undefined)',
      'line 4: bad-line: "topic" and "payload" must both be text (got string and object)',
      expect.stringMatching(/^line 6: malformed: not JSON/),
      "line 7: bad-line: longer than 2097152 bytes; skipped",
    ]);
  });

  it("prints a plaintext that is not JSON as base64, and keeps big numbers of a JSON record exact", () => {
    const seal = (plaintext: string, seq: bigint) =>
      JSON.stringify({
        topic: topicOf("press-2"),
        payload: sealEnvelope(ring, {
          topic: topicOf("press-2"),
          header: { ...HEADER, seq },
          plaintext: new TextEncoder().encode(plaintext),
        }),
      });
    const { code, stdout } = decrypt(
      gatewayKeyFile,
      [seal("not json", 1n), seal('{\n  "counter": 18446744073709551615\n}', 2n ** 60n)].join("\n"),
    );
    expect(code).toBe(0);
    const [first, second] = stdout.trimEnd().split("\n");
    expect(JSON.parse(first ?? "")).toMatchObject({ plaintext: Buffer.from("not json").toString("base64") });
    expect(second).toBe(
      `{"topic":"${topicOf("press-2")}","gateway":"hm3-gw-01","device":"press-2","keyId":"k1","seq":"1152921504606846976","ts":${HEADER.ts},"record":{   "counter": 18446744073709551615 }}`,
    );
  });

  it("prints the output docs/protocol.md §7.6 shows for the worked example", () => {
    const input = JSON.stringify({
      topic: "edgewarden/hm3/hm3-gw-01/press-2/data",
      payload: protocolExample("payload"),
    });
    const { code, stdout } = decrypt(gatewayKeyFile, input);
    expect(code).toBe(0);
    expect(stdout).toBe(`${protocolExample("decrypt-output")}\n`);
  });

  it("exits 0 with no output for empty input", () => {
    expect(decrypt(gatewayKeyFile, "")).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("exits 2 for a key file that is missing, open to others, or not a key file", async () => {
    const missing = decrypt(join(dir, "absent.key"), line(1));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/absent\.key: does not exist/);
    expect(missing.stdout).toBe("");

    const open = join(dir, "open.key");
    await writeFile(open, "{}", { mode: 0o600 });
    await chmod(open, 0o644);
    const tooOpen = decrypt(open, line(1));
    expect(tooOpen.code).toBe(2);
    expect(tooOpen.stderr).toMatch(/readable by group or others \(mode 0644\); run: chmod 600/);

    const notKeys = join(dir, "not-keys.key");
    await writeFile(notKeys, '{"format":"something"}', { mode: 0o600 });
    expect(decrypt(notKeys, line(1)).code).toBe(2);
  });
});
