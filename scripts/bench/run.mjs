#!/usr/bin/env node
// Benchmarks of the foundation (issue #2), JSON on stdout. Run with `npm run bench` (builds first).
//   configLoad:   parse + validate config/example.yaml in-process (warm), per load
//   cliCheck:     cold `edgewarden check -c config/example.yaml` wall time (Node start included)
//   daemonStart:  spawn `run` to its "edgewarden running" log line, and RSS of the idle daemon
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const cli = join(root, "dist", "cli.js");
const { loadConfigFile } = await import(join(root, "dist", "config", "loadConfig.js"));

const stats = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const pick = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: values.length, median: round(pick(0.5)), p90: round(pick(0.9)), min: round(sorted[0]) };
};
const round = (x) => Math.round(x * 100) / 100;

async function configLoad() {
  const example = join(root, "config", "example.yaml");
  for (let i = 0; i < 20; i++) {
    await loadConfigFile(example, { env: {} });
  }
  const times = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    const result = await loadConfigFile(example, { env: {} });
    times.push(performance.now() - t);
    if (!result.ok) {
      throw new Error("example config does not load");
    }
  }
  return { unit: "ms", ...stats(times) };
}

function cliCheck() {
  const times = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, [cli, "check", "-c", "config/example.yaml"], {
      cwd: root,
      stdio: "ignore",
    });
    times.push(performance.now() - t);
    if (r.status !== 0) {
      throw new Error(`check exited ${r.status}`);
    }
  }
  return { unit: "ms", ...stats(times) };
}

async function daemonStart() {
  const dir = mkdtempSync(join(tmpdir(), "ew-bench-"));
  const config = join(dir, "config.yaml");
  writeFileSync(
    config,
    `gateway: { id: bench, site: lab, dataDir: ${join(dir, "data")} }\nselfHealth: { interval: 1s }\n`,
  );
  const times = [];
  const rss = [];
  try {
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const child = spawn(process.execPath, [cli, "run", "-c", config], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      await new Promise((resolve, reject) => {
        let buffer = "";
        child.stdout.on("data", (chunk) => {
          buffer += chunk;
          if (buffer.includes('"msg":"edgewarden running"')) {
            resolve();
          }
        });
        child.on("exit", (code) => reject(new Error(`daemon exited ${code} before running`)));
      });
      times.push(performance.now() - t);
      await new Promise((resolve) => setTimeout(resolve, 3000)); // idle: a few self-health samples
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      rss.push(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024);
      child.removeAllListeners("exit");
      const exited = new Promise((resolve) => child.on("exit", resolve));
      child.kill("SIGTERM");
      const code = await exited;
      if (code !== 0) {
        throw new Error(`daemon exited ${code} on SIGTERM`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { toRunning: { unit: "ms", ...stats(times) }, idleRss: { unit: "MiB", ...stats(rss) } };
}

const result = {
  bench: "foundation",
  date: new Date().toISOString(),
  machine: {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? "unknown",
    node: process.version,
    arch: process.arch,
  },
  configLoad: await configLoad(),
  cliCheck: cliCheck(),
  daemonStart: await daemonStart(),
};
console.log(JSON.stringify(result, null, 2));
