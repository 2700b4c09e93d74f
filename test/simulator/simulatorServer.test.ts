import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import modbusSerial from "modbus-serial";
import type { ModbusRTU as ModbusClient } from "modbus-serial/ModbusRTU.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { loadConfigText } from "../../src/config/loadConfig.js";
import type { Sample } from "../../src/records.js";
import { listenControl } from "../../src/simulator/controlServer.js";
import { encodeValue } from "../../src/simulator/registerImage.js";
import { Simulator } from "../../src/simulator/simulator.js";
import { createSources } from "../../src/sources/sourceSet.js";
import { configText } from "../helpers/daemon.js";
import { memoryLogger } from "../helpers/memoryLogger.js";
import { devicesPath, shippedPlant } from "./plantFixture.js";

let simulator: Simulator;
let modbusPort: number;
let controlPort: number;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "edgewarden-sim-"));
  simulator = new Simulator(shippedPlant(), {
    modbusHost: "127.0.0.1",
    modbusPort: 0,
    controlPort: 0,
    clock: systemClock,
  });
  const ports = await simulator.start();
  modbusPort = ports.modbus;
  controlPort = ports.control ?? 0;
});

afterAll(async () => {
  await simulator.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe("the simulator's ports", () => {
  it("takes port 0 as any free port, not Modbus's 502 (modbus-serial reads 0 as unset)", () => {
    expect(modbusPort).toBeGreaterThan(1023);
    expect(controlPort).toBeGreaterThan(1023);
  });
});

describe("the shipped device config", () => {
  it("loads with a gateway section through the real loader and polls good values for every tag", async () => {
    const devices = readFileSync(devicesPath, "utf8").replaceAll("port: 5020", `port: ${modbusPort}`);
    const loaded = loadConfigText(`${configText({ dataDir })}${devices}`, {
      displayName: "plant-sim.yaml",
      baseDir: dataDir,
    });
    if (!loaded.ok) {
      throw new Error(loaded.errors.map((e) => `${e.line}:${e.col} ${e.message}`).join("\n"));
    }
    expect(loaded.warnings.filter((w) => w.severity === "error")).toEqual([]);
    const samples: Sample[] = [];
    const { logger } = memoryLogger();
    const sources = createSources(loaded.config.devices, {
      clock: systemClock,
      logger,
      emit: (s) => samples.push(s),
    });
    const stop = new AbortController();
    try {
      await Promise.all(sources.buses.map((bus) => bus.pollOnce(stop.signal)));
    } finally {
      stop.abort();
      await Promise.all(sources.buses.map((bus) => bus.stop()));
    }
    const tags = loaded.config.devices.flatMap((device) =>
      device.protocol === "serial-line"
        ? []
        : device.pollGroups.flatMap((group) => group.tags.map((tag) => `${device.name}/${tag.name}`)),
    );
    const read = new Map<string, { quality: string; value: unknown }>();
    for (const sample of samples) {
      for (const [tag, reading] of Object.entries(sample.values)) {
        read.set(`${sample.device}/${tag}`, { quality: reading.quality, value: reading.value });
      }
    }
    expect([...read.keys()].sort()).toEqual([...tags].sort());
    for (const [tag, reading] of read) {
      expect({ tag, quality: reading.quality }).toEqual({ tag, quality: "good" });
    }
    // The decoded values are the plant's (word order and scale agree); the plant may have stepped
    // since the poll, so they agree within a few per cent of noise, not exactly.
    const near = (tag: string, expected: number | undefined) => {
      const value = read.get(tag)?.value;
      expect(typeof value).toBe("number");
      expect(Math.abs((value as number) - (expected ?? 0))).toBeLessThan(Math.abs(expected ?? 0) * 0.05);
    };
    const drive = simulator.plant.values("mill-drive");
    near("mill-drive/motor_current", drive.current);
    near("mill-drive/supply_voltage", drive.voltage);
    near("mill-drive/active_power", drive.active_power);
    near("mill-drive/winding_temp", drive.winding_temp);
    near("reheat-furnace/zone3_temp", simulator.plant.values("reheat-furnace").zone3_temp);
    expect(read.get("press-line/run_state")?.value).toBe(true);
  });
});

describe("the Modbus server", () => {
  async function client(unitId: number) {
    // modbus-serial is CommonJS: its module object is the client class, typed as the namespace.
    const Client = modbusSerial as unknown as new () => ModbusClient;
    const c = new Client();
    await c.connectTCP("127.0.0.1", { port: modbusPort });
    c.setID(unitId);
    c.setTimeout(2000);
    return c;
  }

  it("refuses writes with exception 01 (illegal function)", async () => {
    const c = await client(1);
    try {
      await expect(c.writeRegister(100, 5)).rejects.toMatchObject({ modbusCode: 1 });
      await expect(c.writeRegisters(100, [1, 2])).rejects.toMatchObject({ modbusCode: 1 });
      await expect(c.writeCoil(0, true)).rejects.toMatchObject({ modbusCode: 1 });
    } finally {
      c.close(() => undefined);
    }
  });

  it("answers exception 0B for a unit the plant does not have", async () => {
    const c = await client(9);
    try {
      await expect(c.readHoldingRegisters(0, 2)).rejects.toMatchObject({ modbusCode: 0x0b });
    } finally {
      c.close(() => undefined);
    }
  });

  it("encodes each type as the register map says", () => {
    const base = { table: "holding", address: 0, order: "ABCD" } as const;
    expect(encodeValue(1, { ...base, type: "float32" })).toEqual([0x3f80, 0x0000]);
    expect(encodeValue(1, { ...base, type: "float32", order: "CDAB" })).toEqual([0x0000, 0x3f80]);
    expect(encodeValue(-1.5, { ...base, type: "int16", scale: 0.1 })).toEqual([0xfff1]);
    expect(encodeValue(70_000, { ...base, type: "uint32" })).toEqual([1, 70_000 - 65_536]);
    expect(encodeValue(70_000, { ...base, type: "uint16" })).toEqual([0xffff]);
  });
});

describe("the control interface", () => {
  const url = (path: string) => `http://127.0.0.1:${controlPort}${path}`;
  const post = (body: string) =>
    fetch(url("/faults"), { method: "POST", body, headers: { "content-type": "application/json" } });

  it("injects a fault on demand and shows it in the state", async () => {
    const response = await post(JSON.stringify({ machine: "mill-drive", fault: "overload", durationS: 600 }));
    expect(response.status).toBe(201);
    const state = (await (await fetch(url("/state"))).json()) as { faults: unknown[]; machines: object };
    expect(state.faults).toContainEqual(
      expect.objectContaining({ machine: "mill-drive", fault: "overload" }),
    );
    expect(Object.keys(state.machines)).toEqual(["mill-drive", "reheat-furnace", "press-line"]);
  });

  it("refuses a bad request with 400 and says why", async () => {
    const cases: [string, RegExp][] = [
      ["not json", /expected JSON/],
      [JSON.stringify({ machine: "mill-drive", fault: "meltdown", durationS: 5 }), /fault: expected one of/],
      [JSON.stringify({ machine: "press-line", fault: "overload", durationS: 5 }), /does not apply/],
      [JSON.stringify({ machine: "mill-drive", fault: "overload" }), /durationS/],
    ];
    for (const [body, message] of cases) {
      const response = await post(body);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toMatch(message);
    }
    expect((await post("x".repeat(10_000))).status).toBe(413);
    expect((await fetch(url("/faults"))).status).toBe(405);
  });

  it("refuses to bind anywhere but loopback", async () => {
    await expect(listenControl(simulator.plant, "0.0.0.0", 0)).rejects.toThrow(/loopback only/);
  });
});
