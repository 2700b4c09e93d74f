/**
 * `keys rotate` then SIGHUP (`systemctl reload edgewarden`): the running daemon loads the new
 * active key id without a restart (issue #3 rotation, issue #5 checkpoints). The reload rebuilds
 * the gateway keys and what uses them (checkpointer, forwarder); the ledger's checkpoints say
 * which key id made their MAC: k1 before the reload, k2 after it.
 */
import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import { expect, it } from "vitest";
import {
  componentMsg,
  daemonSandbox,
  edgewarden,
  eventOf,
  hasEvent,
  ledgerEntries,
  RUNNING,
  spawnDaemon,
} from "../helpers/daemon.js";
import { CLEAN_EXIT, useResources } from "../helpers/lifecycle.js";
import { isRecord } from "../helpers/lineChild.js";
import { freePort } from "../helpers/mosquitto.js";

const current = useResources();

it("loads the rotated key at a reload: checkpoints are made under k1 before it and k2 after it", async () => {
  const { dir, dataDir, config } = await daemonSandbox(current(), { logLevel: "debug" });
  const keyFile = join(dir, "gateway.key");
  expect(edgewarden(["keys", "generate", "--out", keyFile]).code).toBe(0);
  // Sealing on, so the gateway keys and the checkpointer run; no broker listens on the port, so
  // the forwarder only retries (what it seals is not the point here, the checkpoints are).
  await appendFile(
    config,
    [
      "crypto:",
      "  encryption: ascon-aead128",
      `  keyFile: ${keyFile}`,
      "uplink:",
      `  url: mqtt://127.0.0.1:${await freePort()}`,
      "storage:",
      "  checkpoints:",
      "    interval: 1s",
      "",
    ].join("\n"),
  );
  const daemon = spawnDaemon(current(), { config });
  await daemon.waitFor(RUNNING, "the daemon to run");
  const selfHealth = componentMsg("self-health", "self-health");
  await daemon.waitForCount(selfHealth, 3, "three self-health samples (a checkpoint a second)");

  expect(edgewarden(["keys", "rotate", "--key-file", keyFile]).code).toBe(0);
  const from = daemon.lines.length;
  daemon.signal("SIGHUP");
  const reloaded = eventOf(
    daemon.lines[await daemon.waitForIndex(hasEvent("config.reloaded"), "the reload", { from })] ?? {},
  );
  expect(reloaded?.details).toMatchObject({
    restarted: expect.arrayContaining(["gateway-keys", "checkpointer", "uplink-forwarder"]),
  });
  await daemon.waitForCount(selfHealth, 3, "three more self-health samples", { from });
  daemon.signal("SIGTERM");
  expect(await daemon.waitForExit()).toEqual(CLEAN_EXIT);

  const entries = ledgerEntries(join(dataDir, "ledger"));
  const reloadSeq = entries.find(
    (e) => e.kind === "event" && isRecord(e.body) && e.body.type === "config.reloaded",
  )?.seq;
  expect(reloadSeq).toBeDefined();
  const kids = (before: boolean) =>
    entries
      .filter((e) => e.kind === "checkpoint" && Number(e.seq) < Number(reloadSeq) === before)
      .map((e) => (isRecord(e.body) ? e.body.kid : undefined));
  expect(kids(true).length).toBeGreaterThan(0);
  expect(new Set(kids(true))).toEqual(new Set(["k1"]));
  expect(kids(false).length).toBeGreaterThan(0);
  expect(new Set(kids(false))).toEqual(new Set(["k2"]));
  // Both key ids verify: k1 from the file's kept secrets, k2 as the new active one.
  const verify = edgewarden(["ledger", "verify", "-d", join(dataDir, "ledger"), "--key-file", keyFile]);
  expect(verify.code).toBe(0);
});
