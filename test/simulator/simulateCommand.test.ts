import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/commands/program.js";
import { waitUntil } from "../helpers/waitUntil.js";
import { plantPath } from "./plantFixture.js";

let dir: string;
let stderr: string[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "edgewarden-simulate-"));
  stderr = [];
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(String(chunk));
    return true;
  });
});

afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

async function plantFile(text: string): Promise<string> {
  const path = join(dir, "plant.yaml");
  await writeFile(path, text);
  return path;
}

describe("edgewarden simulate", () => {
  it("exits 2 on a bad plant file and locates every schema error as FILE:LINE:COL", async () => {
    const shipped = await readFile(plantPath, "utf8");
    const path = await plantFile(
      shipped
        .replace("kind: furnace", "kind: blast-furnace")
        .replace("cycleTime: 2500ms", "cycleTime: 2500")
        .replace("scrapRate: 0.03", "scrapRate: 1.5"),
    );
    const lines = shipped.split("\n");
    const lineOf = (text: string) => lines.findIndex((line) => line.includes(text)) + 1;
    expect(await main(["node", "edgewarden", "simulate", "--plant", path, "--port", "0"])).toBe(2);
    const out = stderr.join("");
    expect(out).toMatch(
      new RegExp(
        `plant\\.yaml:${lineOf("kind: furnace")}:\\d+: machines\\[1\\]\\.kind: .*expected one of drive, furnace, press`,
      ),
    );
    expect(out).toMatch(
      new RegExp(`plant\\.yaml:${lineOf("cycleTime:")}:\\d+: machines\\[2\\]\\.cycleTime: .*2500ms`),
    );
    expect(out).toMatch(
      new RegExp(`plant\\.yaml:${lineOf("scrapRate:")}:\\d+: machines\\[2\\]\\.scrapRate: `),
    );
  });

  it("exits 2 on overlapping registers and faults for unknown machines, located", async () => {
    const shipped = await readFile(plantPath, "utf8");
    const path = await plantFile(
      shipped
        .replace("gas_flow: { table: input, address: 10,", "gas_flow: { table: holding, address: 203,")
        .replace("machine: press-line, fault: counter-stall", "machine: press-2, fault: counter-stall"),
    );
    expect(await main(["node", "edgewarden", "simulate", "--plant", path, "--port", "0"])).toBe(2);
    const out = stderr.join("");
    expect(out).toMatch(
      /plant\.yaml:\d+:\d+: machines\[1\]\.signals\.gas_flow\.address: holding 203 of unit 2 is already reheat-furnace\.zone2_temp/,
    );
    expect(out).toMatch(/plant\.yaml:\d+:\d+: faults\[1\]: no machine "press-2"/);
  });

  it("exits 2 on a missing plant file", async () => {
    expect(
      await main(["node", "edgewarden", "simulate", "--plant", join(dir, "none.yaml"), "--port", "0"]),
    ).toBe(2);
    expect(stderr.join("")).toMatch(/none\.yaml:1:1: .*no such file/);
  });

  it("serves until SIGTERM and then exits 0", async () => {
    const run = main([
      "node",
      "edgewarden",
      "simulate",
      "--plant",
      plantPath,
      "--port",
      "0",
      "--control-port",
      "0",
    ]);
    await waitUntil(() => stderr.join("").includes("serving Modbus TCP"), "the simulator to listen");
    const control = /control on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr.join(""))?.[1];
    const state = (await (await fetch(`${control}/state`)).json()) as { shift: string };
    expect(state.shift).toBe("early");
    // Emitting the event runs the command's own handler without a real signal reaching the worker.
    process.emit("SIGTERM", "SIGTERM");
    expect(await run).toBe(0);
    expect(stderr.join("")).toMatch(/simulate: stopping/);
  });
});
