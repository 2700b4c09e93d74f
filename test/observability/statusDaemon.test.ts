/**
 * The status endpoint of a real daemon (issue #7 item 3): `node dist/cli.js run` with
 * observability.status enabled on a free loopback port serves /metrics and /status while it runs
 * (the self-health source's readings show as the "gateway" device), `edgewarden status` renders
 * them, and once the daemon has stopped `status` exits 1.
 */
import { spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { StatusDocument } from "../../src/observability/statusReport.js";
import { assertBuilt, configText, hasMsg, RUNNING, spawnDaemon } from "../helpers/daemon.js";
import { cliPath, repoRoot } from "../helpers/paths.js";
import { Resources } from "../helpers/resources.js";

let resources: Resources;

beforeAll(() => {
  assertBuilt();
});

beforeEach(() => {
  resources = new Resources();
});

afterEach(async () => {
  await resources.release();
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return typeof address === "object" && address !== null ? address.port : 0;
}

/** GET /status until `ready` holds: the self-health source samples once a second. */
async function statusWhen(port: number, ready: (doc: StatusDocument) => boolean): Promise<StatusDocument> {
  const deadline = performance.now() + 20_000;
  for (;;) {
    const doc = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as StatusDocument;
    if (ready(doc) || performance.now() > deadline) {
      return doc;
    }
    await delay(100);
  }
}

function statusCommand(config: string, ...args: string[]) {
  return spawnSync(process.execPath, [cliPath, "status", "-c", config, ...args], {
    cwd: repoRoot,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
  });
}

describe("the status endpoint of a running daemon", () => {
  it("serves metrics and status while it runs; `status` renders them, and exits 1 once it has stopped", async () => {
    const dir = await resources.tempDir("edgewarden-status-");
    const port = await freePort();
    const config = join(dir, "config.yaml");
    await writeFile(
      config,
      `${configText({ dataDir: join(dir, "data") })}  status:\n    enabled: true\n    port: ${port}\n`,
    );
    const daemon = spawnDaemon(resources, { config });
    await daemon.waitFor(RUNNING, "the daemon to run");
    await daemon.waitFor(hasMsg("status endpoint listening"), "the status endpoint");

    const doc = await statusWhen(
      port,
      (d) => d.devices.some((device) => device.name === "gateway") && (d.ledger.headSeq ?? 0) > 0,
    );
    expect(doc.gateway).toEqual({ id: "gw-test", site: "lab" });
    expect(doc.ledger).toMatchObject({ health: "ok", headSeq: expect.any(Number) });
    const gateway = doc.devices.find((device) => device.name === "gateway");
    expect(gateway?.tags.length).toBeGreaterThan(0);
    expect(gateway?.tags.every((tag) => ["good", "bad", "uncertain"].includes(tag.quality))).toBe(true);

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^edgewarden_ledger_head_seq [1-9]\d*$/m);
    expect(metrics).toMatch(/^edgewarden_ledger_backlog_records \d+$/m);
    expect(metrics).toMatch(/^# TYPE edgewarden_poll_duration_seconds histogram$/m);

    const rendered = statusCommand(config);
    expect(rendered.status).toBe(0);
    expect(rendered.stdout).toMatch(/gateway gw-test \(lab\)/);
    expect(rendered.stdout).toMatch(/^ {2}gateway {2}last reading/m);
    const json = statusCommand(config, "--json");
    expect(json.status).toBe(0);
    expect((JSON.parse(json.stdout) as StatusDocument).gateway.id).toBe("gw-test");

    daemon.signal("SIGTERM");
    expect(await daemon.waitForExit()).toEqual({ code: 0, signal: null });
    const after = statusCommand(config);
    expect(after.status).toBe(1);
    expect(after.stderr).toMatch(
      /the daemon is not reachable at http:\/\/127\.0\.0\.1:\d+\/status \(ECONNREFUSED\)/,
    );
  });
});
