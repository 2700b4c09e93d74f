/**
 * `edgewarden poll` as a technician runs it, against Debian's pymodbus 3.0: --once prints one JSON
 * line per sample and exits 1 when a tag is bad, --explain prints the plan without touching the
 * wire, --decode-all shows every order side by side, and bad usage exits 2.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { edgewardenAsync } from "../helpers/daemon.js";
import { type PymodbusServer, startPymodbusServer } from "../helpers/pymodbusServer.js";
import { Resources } from "../helpers/resources.js";

// Not the blocking edgewarden(): the pymodbus server's pipes are read by this process.
const edgewarden = edgewardenAsync;

// pi as float32 in CDAB (0x0FDB 0x4049); 2^64 - 59 as uint64 ABCD; 90.0 as float32 ABCD.
const HOLDING = [0x42b4, 0x0000, 0x0fdb, 0x4049, 0xffff, 0xffff, 0xffff, 0xffc5];

let resources: Resources;
let server: PymodbusServer;
let config: string;

beforeAll(async () => {
  resources = new Resources();
  const dir = await resources.tempDir();
  server = resources.track(
    await startPymodbusServer({ transport: "tcp", units: { 3: { holding: { 0: HOLDING } } } }),
  );
  const yaml = (tags: string) => `gateway: { id: gw-1, site: plant }
devices:
  - name: press
    protocol: modbus-tcp
    host: 127.0.0.1
    port: ${server.port}
    unitId: 3
    timeout: 500ms
    pollGroups:
      - name: fast
        interval: 2s
        tags:
          - { name: temp, table: holding, address: 0, type: float32, unit: degC }
          - { name: pi, table: holding, address: 2, type: float32, order: CDAB }
          - { name: energy, table: holding, address: 4, type: uint64, unit: Wh }
${tags}`;
  config = join(dir, "good.yaml");
  await writeFile(config, yaml(""));
  await writeFile(
    join(dir, "hole.yaml"),
    yaml("          - { name: absent, table: holding, address: 50, type: uint16 }\n"),
  );
});
afterAll(async () => {
  await resources.release();
});

describe("edgewarden poll", () => {
  it("--once prints one JSON line per sample, 64-bit values exact, and exits 0 when every tag is good", async () => {
    const { code, stdout, stderr } = await edgewarden(["poll", "-c", config, "--once"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const sample = JSON.parse(lines[0] ?? "{}");
    expect(sample).toMatchObject({
      kind: "sample",
      device: "press",
      group: "fast",
      values: {
        temp: { value: 90, quality: "good", unit: "degC" },
        pi: { value: Math.fround(Math.PI), quality: "good" },
        energy: { value: "18446744073709551557", valueKind: "bigint", quality: "good", unit: "Wh" },
      },
    });
  });

  it("--once marks a refused tag bad with the exception, logs the hint on stderr, and exits 1", async () => {
    const { code, stdout, stderr } = await edgewarden([
      "poll",
      "-c",
      join(config, "..", "hole.yaml"),
      "--once",
    ]);
    expect(code).toBe(1);
    const sample = JSON.parse(stdout.trim());
    expect(sample.values.absent).toEqual({
      value: null,
      quality: "bad",
      reason: "exception 02 (illegal data address)",
    });
    expect(sample.values.temp).toMatchObject({ value: 90, quality: "good" });
    expect(stderr).toMatch(/check the address, the table and the addressing option/);
  });

  it("--explain prints each read with its range and tags, without polling", async () => {
    const { code, stdout } = await edgewarden(["poll", "-c", join(config, "..", "hole.yaml"), "--explain"]);
    expect(code).toBe(0);
    expect(stdout).toContain("press/fast (unit 3, every 2000 ms): 2 read(s)");
    expect(stdout).toContain("holding 0..7 (8 registers): temp@0, pi@2, energy@4");
    expect(stdout).toContain("holding 50..50 (1 register): absent@50");
  });

  it("--decode-all shows the raw registers and every order, marking the configured one", async () => {
    const { code, stdout } = await edgewarden(["poll", "-c", config, "--decode-all", "pi"]);
    expect(code).toBe(0);
    expect(stdout).toContain("raw registers: 0x0fdb 0x4049");
    const row = stdout.split("\n").find((line) => line.startsWith("float32*"));
    expect(row?.split(/\s{2,}/)).toEqual([
      "float32*",
      "2.1619829021905496e-29",
      "3.1415927410125732",
      expect.any(String),
      expect.any(String),
    ]);
    expect(stdout).toMatch(/^type\s+ABCD\s+CDAB\*/m);
  });

  it("exits 2 for an unknown device or tag, and for a bad config with FILE:LINE:COL", async () => {
    const unknown = await edgewarden(["poll", "-c", config, "--device", "nope"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no device "nope"; devices: press');
    const tag = await edgewarden(["poll", "-c", config, "--decode-all", "nope"]);
    expect(tag.code).toBe(2);
    const bad = join(config, "..", "bad.yaml");
    await writeFile(
      bad,
      "gateway: { id: gw-1, site: plant }\ndevices:\n  - name: x\n    protocol: modbus-tcp\n",
    );
    const invalid = await edgewarden(["poll", "-c", bad, "--once"]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/bad\.yaml:3:\d+: devices\[0\]/);
  });
});
