/**
 * Poll benchmark (issue #4): 2,000 tags scattered over 4 unit ids of a pymodbus 3.0 TCP server
 * (Debian python3-pymodbus, the same third-party peer as the tests). For the planned map it
 * reports reads per cycle, cycle time and CPU time per tag value; in the same run, the same map
 * read one request per tag, as a naive poller would. Cycles of the two are interleaved (this
 * VM's speed swings 2x over seconds) and figures are medians and bests of N. Prints JSON.
 *
 *   npm run bench:poll     (builds, then runs)
 */
import { availableParallelism, cpus } from "node:os";
import { systemClock } from "../../src/clock.js";
import { configSchema, type ModbusDeviceConfig } from "../../src/config/schema/index.js";
import { createLogger } from "../../src/observability/logger.js";
import type { Sample } from "../../src/records.js";
import { createLink } from "../../src/sources/modbus/createLink.js";
import { decodeTagValue } from "../../src/sources/modbus/decodeTag.js";
import { createBus } from "../../src/sources/modbus/modbusBuses.js";
import { type PymodbusDatastore, startPymodbusServer } from "./support/pymodbusServer.js";

const UNITS = [1, 2, 3, 4];
const TAGS_PER_UNIT = 500;
const CYCLES = 15;
const TYPES = [
  ["uint16", 1],
  ["int16", 1],
  ["int32", 2],
  ["float32", 2],
  ["uint32", 2],
  ["float64", 4],
] as const;

/** A deterministic scatter: mostly small gaps (coalescable), now and then a jump past maxGap. */
function scatteredMap(seed: number) {
  let state = seed;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const tags: { name: string; table: "holding"; address: number; type: string }[] = [];
  let address = 0;
  for (let i = 0; i < TAGS_PER_UNIT; i++) {
    const [type, span] = TYPES[Math.floor(random() * TYPES.length)] ?? TYPES[0];
    tags.push({ name: `t${i}`, table: "holding", address, type });
    address += span + (random() < 0.1 ? 20 + Math.floor(random() * 200) : Math.floor(random() * 4));
  }
  return { tags, end: address };
}

function devices(): ModbusDeviceConfig[] {
  const parsed = configSchema.parse({
    gateway: { id: "bench", site: "bench" },
    devices: UNITS.map((unit) => ({
      name: `unit${unit}`,
      protocol: "modbus-tcp",
      host: "127.0.0.1",
      port: 1, // replaced below, once the server has its port
      unitId: unit,
      timeout: "2s",
      pollGroups: [{ name: "all", interval: "1h", tags: scatteredMap(unit).tags }],
    })),
  });
  return parsed.devices as ModbusDeviceConfig[];
}

/** Every unit serves the same holding registers 0..end+7. */
function datastore(end: number): PymodbusDatastore {
  // Below 0x4000 in every register: no float pattern is NaN or Inf, so every value reads good.
  const values = Array.from({ length: end + 8 }, (_, i) => (i * 7919) & 0x3fff);
  return { units: Object.fromEntries(UNITS.map((u) => [String(u), { holding: { "0": values } }])) };
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  const base = devices();
  const end = Math.max(...UNITS.map((u) => scatteredMap(u).end));
  const { port, child } = await startPymodbusServer(datastore(end));
  try {
    const configs = base.map((device) => ({ ...device, port }) as ModbusDeviceConfig);
    const logger = createLogger({ level: "warn", repeatWindowMs: 60_000, destination: { write: () => {} } });
    let values = 0;
    let bad = 0;
    const emit = (sample: Sample) => {
      for (const reading of Object.values(sample.values)) {
        values++;
        bad += reading.quality === "good" ? 0 : 1;
      }
    };
    const bus = createBus(
      { key: "bench", label: "bench", devices: configs },
      { clock: systemClock, logger, emit },
    );
    const naive = createLink(configs);
    const signal = new AbortController().signal;
    await naive.start(signal);
    const tags = configs.flatMap((device) =>
      device.pollGroups.flatMap((g) => g.tags.map((tag) => ({ device, tag }))),
    );

    const planned = { ms: [] as number[], cpuUsPerValue: [] as number[], reads: [] as number[] };
    const perTag = { ms: [] as number[], cpuUsPerValue: [] as number[], reads: [] as number[] };
    for (let cycle = 0; cycle < CYCLES + 1; cycle++) {
      // Planned: the bus scheduler, planner, decoders, publish filter and Sample building.
      const requestsBefore = bus.link.stats().requests;
      values = 0;
      let cpu = process.cpuUsage();
      let t = performance.now();
      await bus.pollOnce(signal);
      const plannedMs = performance.now() - t;
      const plannedCpu = process.cpuUsage(cpu);
      if (values !== tags.length || bad > 0) {
        throw new Error(`planned cycle read ${values} values, ${bad} bad`);
      }
      // One request per tag, through the same link and decoder.
      const naiveBefore = naive.stats().requests;
      cpu = process.cpuUsage();
      t = performance.now();
      for (const { device, tag } of tags) {
        const span = tag.type === "float64" ? 4 : tag.type.endsWith("32") ? 2 : 1;
        const result = await naive.read(
          { unitId: device.unitId, functionCode: 3, address: tag.address, quantity: span },
          { timeoutMs: device.timeout },
        );
        if (result.kind !== "ok" || !("registers" in result)) {
          throw new Error(`per-tag read failed: ${JSON.stringify(result)}`);
        }
        decodeTagValue(tag, result.registers, device.byteOrder);
      }
      const naiveMs = performance.now() - t;
      const naiveCpu = process.cpuUsage(cpu);
      if (cycle === 0) {
        continue; // warm-up: JIT, connections
      }
      planned.ms.push(plannedMs);
      planned.cpuUsPerValue.push((plannedCpu.user + plannedCpu.system) / tags.length);
      planned.reads.push(bus.link.stats().requests - requestsBefore);
      perTag.ms.push(naiveMs);
      perTag.cpuUsPerValue.push((naiveCpu.user + naiveCpu.system) / tags.length);
      perTag.reads.push(naive.stats().requests - naiveBefore);
    }
    await bus.stop();
    await naive.stop();
    const summary = (run: typeof planned) => ({
      readsPerCycle: median(run.reads),
      cycleMs: { median: round(median(run.ms)), best: round(Math.min(...run.ms)) },
      cpuUsPerTagValue: {
        median: round(median(run.cpuUsPerValue), 3),
        best: round(Math.min(...run.cpuUsPerValue), 3),
      },
    });
    const result = {
      bench: "poll",
      machine: { nproc: availableParallelism(), cpu: cpus()[0]?.model, node: process.version },
      map: { units: UNITS.length, tags: tags.length, cycles: CYCLES, server: "pymodbus 3.0 TCP (Debian)" },
      planned: summary(planned),
      onePerTag: summary(perTag),
      rssMiB: round(process.memoryUsage().rss / 2 ** 20, 1),
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    child.kill("SIGTERM");
  }
}

await main();
