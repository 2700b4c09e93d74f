/**
 * Readers of the gateway's own health from /proc and /sys: cheap reads of small files, no child
 * processes (a Pi Zero should not fork every 30 s to learn its load). Each reader returns
 * undefined when its file is missing (containers, non-Linux) rather than failing the sample.
 */
import { readdir, readFile, statfs } from "node:fs/promises";

export interface CpuTimes {
  readonly busy: number;
  readonly total: number;
}

export async function readCpuTimes(): Promise<CpuTimes | undefined> {
  const text = await readFile("/proc/stat", "utf8").catch(() => undefined);
  const line = text?.split("\n").find((l) => l.startsWith("cpu "));
  if (line === undefined) {
    return undefined;
  }
  // user nice system idle iowait irq softirq steal (guest is already inside user)
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const total = fields.reduce((sum, value) => sum + value, 0);
  return { busy: total - idle, total };
}

export async function readMemoryUsedPercent(): Promise<number | undefined> {
  const text = await readFile("/proc/meminfo", "utf8").catch(() => undefined);
  if (text === undefined) {
    return undefined;
  }
  const value = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(text)?.[1]);
  const total = value("MemTotal");
  const available = value("MemAvailable");
  return total > 0 && Number.isFinite(available) ? (100 * (total - available)) / total : undefined;
}

export async function readLoadAverage(): Promise<number | undefined> {
  const text = await readFile("/proc/loadavg", "utf8").catch(() => undefined);
  const load = Number(text?.split(" ")[0]);
  return Number.isFinite(load) ? load : undefined;
}

export async function readDiskFreePercent(path: string): Promise<number | undefined> {
  try {
    const stats = await statfs(path);
    return stats.blocks > 0 ? (100 * stats.bavail) / stats.blocks : undefined;
  } catch {
    return undefined;
  }
}

/** Highest temperature over the thermal zones (the SoC on a Pi is thermal_zone0), in °C. */
export async function readTemperatureC(): Promise<number | undefined> {
  const base = "/sys/class/thermal";
  const zones = await readdir(base).catch(() => [] as string[]);
  let highest: number | undefined;
  for (const zone of zones.filter((name) => name.startsWith("thermal_zone"))) {
    const milli = Number(await readFile(`${base}/${zone}/temp`, "utf8").catch(() => Number.NaN));
    if (Number.isFinite(milli)) {
      highest = Math.max(highest ?? Number.NEGATIVE_INFINITY, milli / 1000);
    }
  }
  return highest;
}

export interface NetworkBytes {
  readonly rx: number;
  readonly tx: number;
}

/** Bytes over all interfaces but loopback since boot. */
export async function readNetworkBytes(): Promise<NetworkBytes | undefined> {
  const text = await readFile("/proc/net/dev", "utf8").catch(() => undefined);
  if (text === undefined) {
    return undefined;
  }
  let rx = 0;
  let tx = 0;
  for (const line of text.split("\n").slice(2)) {
    const [name, data] = line.split(":");
    if (data === undefined || name?.trim() === "lo") {
      continue;
    }
    const fields = data.trim().split(/\s+/).map(Number);
    rx += fields[0] ?? 0;
    tx += fields[8] ?? 0;
  }
  return { rx, tx };
}
