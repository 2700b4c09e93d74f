/**
 * `edgewarden receive -c FILE` as a child process (dist/cli.js; build first) against the real
 * mosquitto at 127.0.0.1:1883: killed with SIGKILL mid-stream while the gateway goes on
 * publishing, then restarted with the same client id, it ends with every record in its JSONL
 * file (the broker kept the session; nothing was acknowledged before it was on disk). Config and
 * key-file problems print FILE:LINE:COL and exit 2; SIGTERM is a clean stop, exit 0.
 */
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { assertBuilt } from "../helpers/daemon.js";
import { LineChild } from "../helpers/lineChild.js";
import { cliPath, repoRoot } from "../helpers/paths.js";
import { Resources } from "../helpers/resources.js";
import {
  auditedSeq,
  connectPublisher,
  dropSession,
  publishRange as publishMessages,
  type ReceiverSetup,
  readJsonl,
  receiverSetup,
  recordSeqs,
} from "../receiver/receiverHarness.js";
import { PG_URL, uniqueSchema } from "../receiver/store/pgFixture.js";

const resources = new Resources();
const sessions: string[] = [];

afterEach(async () => {
  await resources.release();
  await Promise.all(sessions.splice(0).map(dropSession));
});

function spawnReceiver(config: string, name = "receiver"): LineChild {
  assertBuilt();
  return resources.track(
    new LineChild(name, process.execPath, [cliPath, "receive", "-c", config], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    }),
  );
}

async function startReceiver(setup: ReceiverSetup, name: string): Promise<LineChild> {
  sessions.push(setup.clientId);
  const child = spawnReceiver(setup.configPath, name);
  await child.waitFor((l) => l.msg === "receiver: subscribed", "the subscription", { timeoutMs: 30_000 });
  return child;
}

async function waitForRecords(path: string, count: number, child?: LineChild): Promise<number[]> {
  const deadline = performance.now() + 60_000;
  for (;;) {
    const seqs = recordSeqs(await readJsonl(path));
    if (new Set(seqs).size >= count) {
      return seqs;
    }
    if (performance.now() > deadline) {
      throw new Error(`timed out: ${new Set(seqs).size} of ${count} records\n${child?.describe() ?? ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("edgewarden receive", () => {
  it("loses nothing the broker holds when SIGKILLed mid-stream and restarted with the same client id", async () => {
    const dir = await resources.tempDir();
    const setup = await receiverSetup(dir);
    // mosquitto keeps at most max_queued_messages (default 1000) for a session that is away, and
    // drops the rest: what is published while the receiver is dead stays below that.
    const total = 1200;
    const messages = setup.gateway.messagesOf(setup.gateway.appendSamples(total));
    const first = await startReceiver(setup, "receiver-1");
    const publisher = await connectPublisher();

    // The gateway publishes all along, in chunks, whatever happens to the receiver: the first
    // part while it runs (it is killed in the middle of it), the rest while it is dead.
    const publishRange = (from: number, to: number) => publishMessages(publisher, messages, from, to);
    const whileRunning = publishRange(0, 500);
    await waitForRecords(setup.outputPath, 300, first);
    first.signal("SIGKILL");
    expect(await first.waitForExit()).toMatchObject({ signal: "SIGKILL" });
    await whileRunning;
    await publishRange(500, total);
    await publisher.endAsync();

    const second = await startReceiver(setup, "receiver-2");
    const seqs = await waitForRecords(setup.outputPath, total, second);
    second.signal("SIGTERM");
    expect(await second.waitForExit(30_000)).toEqual({ code: 0, signal: null });

    // Every record, and each once: what was on disk before the kill is resumed from, and what
    // the broker redelivered of it counts as a duplicate instead of a second line.
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    const lines = await readJsonl(setup.outputPath);
    expect(lines.filter((l) => l.type !== "record")).toEqual([]);
    const stopped = await second.waitFor((l) => l.msg === "receiver: stopped", "the totals line");
    const counters = stopped.counters as Record<string, number>;
    const count = (name: string) => counters[name] ?? Number.NaN;
    const resumedAt = (
      second.lines.find((l) => l.msg === "receiver: resuming after what the JSONL file holds")?.gateways as
        | Record<string, number>
        | undefined
    )?.[setup.gatewayId];
    expect(resumedAt).toBeGreaterThanOrEqual(300);
    // What the second run stored is exactly what the first had not; redeliveries are counted.
    expect(count("stored")).toBe(total - (resumedAt ?? 0));
    expect(count("stored")).toBeGreaterThanOrEqual(total - 500);
    expect(count("accepted")).toBe(count("stored"));
    expect(count("messages")).toBe(count("accepted") + count("duplicate") + count("replay-duplicate"));
  }, 180_000);

  it("with PostgreSQL too: SIGKILLed mid-stream and restarted, every record is stored once and the chain has no gap", async () => {
    const dir = await resources.tempDir();
    const schema = uniqueSchema("kill");
    const db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
    try {
      const setup = await receiverSetup(dir, {
        store: [
          "  postgres:",
          `    url: ${PG_URL}`,
          `    schema: ${schema}`,
          "    auditInterval: 1s",
          "    gapGrace: 5s",
        ],
      });
      const total = 1200;
      const messages = setup.gateway.messagesOf(setup.gateway.appendSamples(total));
      const first = await startReceiver(setup, "receiver-pg-1");
      const stored = async () =>
        Number(
          (
            await db
              .query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".chain`)
              .catch(() => ({ rows: [] }))
          ).rows[0]?.n ?? 0,
        );
      const publisher = await connectPublisher();
      const publishRange = (from: number, to: number) => publishMessages(publisher, messages, from, to);
      const whileRunning = publishRange(0, 500);
      for (const deadline = performance.now() + 60_000; (await stored()) < 300; ) {
        expect(performance.now()).toBeLessThan(deadline);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      first.signal("SIGKILL");
      expect(await first.waitForExit()).toMatchObject({ signal: "SIGKILL" });
      await whileRunning;
      await publishRange(500, total);
      await publisher.endAsync();

      const second = await startReceiver(setup, "receiver-pg-2");
      const audited = await auditedSeq(db, schema, undefined, total, 90_000);
      expect(audited, `stored ${await stored()} of ${total}\n${second.describe()}`).toBe(total);
      second.signal("SIGTERM");
      expect(await second.waitForExit(30_000)).toEqual({ code: 0, signal: null });
      const chain = await db.query<{ n: string; lo: string; hi: string }>(
        `SELECT count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM "${schema}".chain`,
      );
      expect(chain.rows).toEqual([{ n: String(total), lo: "1", hi: String(total) }]);
      expect((await db.query(`SELECT * FROM "${schema}".gaps`)).rows).toEqual([]);
      expect((await db.query(`SELECT * FROM "${schema}".events`)).rows).toEqual([]);
    } finally {
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await db.end();
    }
  }, 180_000);

  it('writes the records to stdout with path "-", its log lines to stderr, and stops cleanly on SIGTERM', async () => {
    const dir = await resources.tempDir();
    const setup = await receiverSetup(dir, { store: ["  jsonl:", '    path: "-"'] });
    sessions.push(setup.clientId);
    const child = spawnReceiver(setup.configPath);
    await child.waitForStderr('"msg":"receiver: subscribed"', { timeoutMs: 30_000 });
    const publisher = await connectPublisher();
    const entries = setup.gateway.appendSamples(20);
    await Promise.all(
      setup.gateway.messagesOf(entries).map((m) => publisher.publishAsync(m.topic, m.payload, { qos: 1 })),
    );
    await publisher.endAsync();

    await child.waitForCount((l) => l.type === "record", 20, "20 records on stdout", { timeoutMs: 30_000 });
    child.signal("SIGTERM");
    expect(await child.waitForExit(30_000)).toEqual({ code: 0, signal: null });
    expect(child.lines.map((l) => l.seq)).toEqual(entries.map((e) => e.seq));
    expect(child.stderr).toContain('"msg":"receiver: stopped"');
  });

  it("prints every config error as FILE:LINE:COL: path: message and exits 2", async () => {
    const dir = await resources.tempDir();
    const config = join(dir, "receiver.yaml");
    await writeFile(
      config,
      [
        "mqtt:", // 1
        "  url: http://broker:1883", // 2
        "  clientId: receiver-1", // 3
        "  grup: plant", // 4
        "keys: []", // 5
        "store:", // 6
        "  jsonl:", // 7
        "    path: out.jsonl", // 8
        "  postgres:", // 9
        "    url: postgres://db/plant", // 10
        "batch:", // 11
        "  maxDelay: 50", // 12
        "",
      ].join("\n"),
    );
    const child = spawnReceiver(config);
    expect(await child.waitForExit()).toEqual({ code: 2, signal: null });
    expect(child.stderr.trim().split("\n")).toEqual([
      `${config}:2:8: mqtt.url: expected a broker URL such as mqtts://broker.plant.local:8883 (schemes mqtt, mqtts, ws, wss; got "http://broker:1883")`,
      `${config}:4:3: mqtt.grup: unknown key "grup"; did you mean "group"?`,
      `${config}:5:1: keys: expected at least one key file`,
      `${config}:6:1: store: expected exactly one of "postgres" or "jsonl" (got both)`,
      `${config}:12:13: batch.maxDelay: expected a duration with a unit, such as "50ms" (got the bare number 50; write 50ms or 50s)`,
      `${config}: 5 error(s); not starting`,
    ]);
  });

  it("refuses a key file readable by others (mode 0644) with exit 2, at the key that names it", async () => {
    const dir = await resources.tempDir();
    const setup = await receiverSetup(dir);
    await chmod(setup.keyPath, 0o644);
    const child = spawnReceiver(setup.configPath);
    expect(await child.waitForExit()).toEqual({ code: 2, signal: null });
    // keys: is line 10 of the harness's config, "  - file: gateway.key" line 11.
    expect(child.stderr).toContain(
      `${setup.configPath}:11:11: keys[0].file: ${setup.keyPath}: holds a secret but is readable by group or others (mode 0644); run: chmod 600 ${setup.keyPath}`,
    );
    expect(child.stderr).toContain("1 error(s); not starting");
  });
});
