/**
 * The whole southbound Modbus path — config, planner, bus scheduler, device poller, real links,
 * decoders, publish filter — against Debian's pymodbus 3.0 (issue #4 "must show"): every type ×
 * order decodes to the value the server holds, over TCP and over RTU on a socat pty; three unit ids
 * on one RTU bus are polled fairly; exception 02 on a coalesced range is learnt and split; a server
 * killed and restarted is reconnected within 5 s, with quality bad in between.
 */
import { spawnSync } from "node:child_process";
import { realpathSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../../../../src/clock.js";
import type { ModbusDeviceConfig } from "../../../../src/config/schema/index.js";
import type { ByteOrder, RegisterType } from "../../../../src/config/schema/tags.js";
import type { Sample } from "../../../../src/records.js";
import type { BusScheduler } from "../../../../src/sources/modbus/busScheduler.js";
import { createBus } from "../../../../src/sources/modbus/modbusBuses.js";
import { memoryLogger } from "../../../helpers/memoryLogger.js";
import { startPtyPair } from "../../../helpers/ptyPair.js";
import {
  type PymodbusServer,
  type PymodbusUnit,
  startPymodbusServer,
} from "../../../helpers/pymodbusServer.js";
import { Resources } from "../../../helpers/resources.js";
import { waitUntil } from "../../../helpers/waitUntil.js";
import { modbusDevices, valuesOf } from "./pollFixtures.js";

const ORDERS: readonly ByteOrder[] = ["ABCD", "CDAB", "BADC", "DCBA"];
const ENCODER = join(import.meta.dirname, "..", "..", "..", "fixtures", "pymodbus", "encode_payloads.py");
const VALUES: Readonly<Record<string, string>> = {
  int16: "-12345",
  uint16: "54321",
  int32: "-305419896",
  uint32: "4023233417",
  int64: "-9007199254740993",
  uint64: "18446744073709551557",
  float32: "-1234.5",
  float64: "3.141592653589793",
};

interface TypedCase {
  readonly name: string;
  readonly type: RegisterType;
  readonly order: ByteOrder;
  readonly value: string;
  registers: number[];
  address: number;
}

/** Every numeric type in every order, plus a string, laid out in holding registers by pymodbus's own encoder. */
function typedCases(): TypedCase[] {
  const cases: TypedCase[] = [];
  for (const [type, value] of Object.entries(VALUES)) {
    for (const order of ORDERS) {
      cases.push({
        name: `${type}_${order}`,
        type: type as RegisterType,
        order,
        value,
        registers: [],
        address: 0,
      });
    }
  }
  cases.push({ name: "label", type: "string", order: "ABCD", value: "PRESS-7", registers: [], address: 0 });
  const encoded = spawnSync("/usr/bin/python3", [ENCODER], {
    input: JSON.stringify(cases.map(({ type, value, order }) => ({ type, value, order }))),
    encoding: "utf8",
  });
  if (encoded.status !== 0) {
    throw new Error(`pymodbus encoder: ${encoded.stderr}`);
  }
  const registers = JSON.parse(encoded.stdout) as number[][];
  let address = 0;
  cases.forEach((c, i) => {
    c.registers = registers[i] ?? [];
    c.address = address;
    address += c.registers.length + (i % 3 === 0 ? 30 : 1); // some gaps beyond maxGap: several reads
  });
  return cases;
}

function expected(c: TypedCase): unknown {
  if (c.type === "string") {
    return c.value;
  }
  if (c.type === "int64" || c.type === "uint64") {
    return BigInt(c.value); // both test values are beyond 2^53: exact bigints, never rounded
  }
  return c.type === "float32" ? Math.fround(Number(c.value)) : Number(c.value);
}

/** The cases' registers, with zeros in the short gaps between them (a dense map, as on most devices). */
function holdingOf(cases: readonly TypedCase[]): PymodbusUnit {
  const runs: Record<number, number[]> = {};
  cases.forEach((c, i) => {
    const next = cases[i + 1];
    const gap = next === undefined ? 0 : next.address - c.address - c.registers.length;
    runs[c.address] = [...c.registers, ...(gap <= 1 ? new Array<number>(gap).fill(0) : [])];
  });
  return { holding: runs };
}

function tagsOf(cases: readonly TypedCase[]) {
  return cases.map((c) => ({
    name: c.name,
    table: "holding",
    address: c.address,
    type: c.type,
    order: c.order,
    ...(c.type === "string" ? { length: c.registers.length } : {}),
  }));
}

describe("Modbus polling against pymodbus 3.0", () => {
  let resources: Resources;
  let buses: BusScheduler[];
  beforeEach(() => {
    resources = new Resources();
    buses = [];
  });
  afterEach(async () => {
    await Promise.all(buses.map((bus) => bus.stop()));
    await resources.release();
  });

  function bus(devices: readonly Record<string, unknown>[]) {
    const samples: Sample[] = [];
    const { logger, lines } = memoryLogger();
    const configs: ModbusDeviceConfig[] = modbusDevices(devices);
    const scheduler = createBus(
      { key: "test", label: "test", devices: configs },
      { clock: systemClock, logger, emit: (s) => samples.push(s) },
    );
    buses.push(scheduler);
    return { scheduler, samples, lines };
  }

  async function server(options: Parameters<typeof startPymodbusServer>[0]): Promise<PymodbusServer> {
    return resources.track(await startPymodbusServer(options));
  }

  it("decodes every type in every byte order over Modbus TCP to the value pymodbus holds", async () => {
    const cases = typedCases();
    const pymodbus = await server({ transport: "tcp", units: { 1: holdingOf(cases) } });
    const { scheduler, samples } = bus([
      {
        name: "plc",
        protocol: "modbus-tcp",
        host: "127.0.0.1",
        port: pymodbus.port,
        unitId: 1,
        pollGroups: [{ name: "all", interval: "1s", tags: tagsOf(cases) }],
      },
    ]);
    await scheduler.pollOnce(new AbortController().signal);
    const values = valuesOf(samples, "plc");
    for (const c of cases) {
      expect(values[c.name], `${c.name} registers ${JSON.stringify(c.registers)}`).toEqual(expected(c));
    }
    expect(scheduler.link.stats().requests).toBeLessThan(cases.length); // coalesced, not one per tag
  });

  it("polls three units on one RTU bus fairly and decodes every type and order over RTU", async () => {
    const dir = await resources.tempDir();
    const pty = resources.track(await startPtyPair(dir));
    const cases = typedCases();
    await server({
      transport: "rtu",
      device: pty.b,
      baud: 38400,
      units: { 1: holdingOf(cases), 2: holdingOf(cases), 3: holdingOf(cases) },
    });
    // The config wants a device path; the pty behind socat's link is one (/dev/pts/N).
    const serial = { path: realpathSync(pty.a), baudRate: 38400 };
    const device = (unit: number) => ({
      name: `unit${unit}`,
      protocol: "modbus-rtu",
      serial,
      unitId: unit,
      timeout: "300ms",
      pollGroups: [{ name: "all", interval: "1500ms", tags: tagsOf(cases) }],
    });
    const { scheduler, samples } = bus([device(1), device(2), device(3)]);
    await scheduler.start(new AbortController().signal);
    await waitUntil(
      () => [1, 2, 3].every((u) => samples.filter((s) => s.device === `unit${u}`).length >= 2),
      "two cycles of every unit",
      { timeoutMs: 15_000 },
    );
    for (const unit of [1, 2, 3]) {
      const values = valuesOf(samples, `unit${unit}`);
      for (const c of cases) {
        expect(values[c.name], `unit ${unit} ${c.name}`).toEqual(expected(c));
      }
    }
    const stats = scheduler.stats();
    // Fair: the three units' cycles finish within one cycle of each other, none overran.
    const counts = [1, 2, 3].map((u) => samples.filter((s) => s.device === `unit${u}`).length);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(stats.overruns).toBe(0);
  });

  it("learns the hole behind exception 02 on a coalesced range and splits around it", async () => {
    const registers = Array.from({ length: 40 }, (_, i) => 1000 + i);
    const pymodbus = await server({
      transport: "tcp",
      units: { 7: { holding: { 0: registers }, holes: { holding: [17, 18] } } },
    });
    const tags = [0, 4, 8, 12, 16, 17, 20, 24, 28, 32, 36].map((address) => ({
      name: `r${address}`,
      table: "holding",
      address,
      type: "uint16",
    }));
    const { scheduler, samples, lines } = bus([
      {
        name: "meter",
        protocol: "modbus-tcp",
        host: "127.0.0.1",
        port: pymodbus.port,
        unitId: 7,
        pollGroups: [{ name: "g", interval: "1s", tags }],
      },
    ]);
    const signal = new AbortController().signal;
    await scheduler.pollOnce(signal);
    const first = scheduler.link.stats().requests;
    await scheduler.pollOnce(signal);
    const second = scheduler.link.stats().requests - first;
    await scheduler.pollOnce(signal);
    const third = scheduler.link.stats().requests - first - second;
    expect(valuesOf(samples, "meter"), JSON.stringify(valuesOf(samples, "meter"))).toEqual({
      ...Object.fromEntries(tags.filter((t) => t.address !== 17).map((t) => [t.name, 1000 + t.address])),
      r17: "bad: exception 02 (illegal data address)",
    });
    expect(second).toBeLessThan(first); // learnt: no more bisecting
    expect(third).toBe(second); // and stable
    expect(second).toBe(3); // left of the hole, the refused tag alone, right of it
    expect(
      lines.filter((l) => String(l.msg).startsWith("learnt the device's read limits")).length,
    ).toBeGreaterThan(0);
  });

  it("marks tags bad while the server is down and reconnects within 5 s of its restart", async () => {
    const units = { 1: { holding: { 0: [11, 22, 33] } } };
    let pymodbus = await server({ transport: "tcp", units });
    const { port } = pymodbus;
    const { scheduler, samples } = bus([
      {
        name: "plc",
        protocol: "modbus-tcp",
        host: "127.0.0.1",
        port,
        timeout: "200ms",
        retries: 0,
        reconnect: { initialDelay: "100ms", maxDelay: "1s" },
        pollGroups: [
          {
            name: "g",
            interval: "250ms",
            tags: [0, 1, 2].map((a) => ({ name: `r${a}`, table: "holding", address: a, type: "uint16" })),
          },
        ],
      },
    ]);
    await scheduler.start(new AbortController().signal);
    await waitUntil(() => valuesOf(samples, "plc").r0 === 11, "a good first poll");
    await pymodbus.kill();
    await waitUntil(
      () => String(valuesOf(samples, "plc").r0).startsWith("bad: "),
      "tags bad while the server is down",
      { timeoutMs: 5_000 },
    );
    pymodbus = await server({ transport: "tcp", port, units });
    const restarted = performance.now();
    await waitUntil(() => valuesOf(samples, "plc").r0 === 11, "good again after the restart", {
      timeoutMs: 5_000,
    });
    expect(performance.now() - restarted).toBeLessThan(5_000);
    const reasons = samples.flatMap((s) =>
      Object.values(s.values).flatMap((r) => (r.quality === "bad" ? [r.reason] : [])),
    );
    expect(reasons.some((r) => r?.startsWith("disconnected: ") || r === "timeout")).toBe(true);
  });
});
