/**
 * Health on MQTT from a real daemon (issue #7 item 3: "Health is also published on MQTT (retained)
 * at an interval"; docs/protocol.md §1, "Health"): `node dist/cli.js run` with a gateway key file
 * and the uplink pointed at the real mosquitto on 127.0.0.1:1883, under a topic prefix of its own.
 * A subscriber that connects afterwards gets the retained health message, it opens with the gateway
 * key file, and it names a chain head that the ledger holds. The retained messages are cleared at
 * the end, so the shared broker keeps nothing of this test.
 */
import { randomBytes } from "node:crypto";
import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import { connectAsync } from "mqtt";
import { expect, it } from "vitest";
import { loadKeyFile } from "../../src/crypto/keys/index.js";
import { openHealthMessage } from "../../src/receiver/healthMessage.js";
import { ReceiverKeys } from "../../src/receiver/index.js";
import {
  componentMsg,
  daemonSandbox,
  edgewarden,
  ledgerEntries,
  RUNNING,
  spawnDaemon,
} from "../helpers/daemon.js";
import { CLEAN_EXIT, useResources } from "../helpers/lifecycle.js";
import { Subscriber } from "../uplink/support/subscriber.js";

const BROKER_PORT = 1883;
const current = useResources();

/** Empty retained payloads delete what the broker retains on these topics (MQTT 3.3.1.3). */
async function clearRetained(topics: readonly string[]): Promise<void> {
  const client = await connectAsync(`mqtt://127.0.0.1:${BROKER_PORT}`, { reconnectPeriod: 0 });
  try {
    for (const topic of topics) {
      await client.publishAsync(topic, "", { qos: 1, retain: true });
    }
  } finally {
    await client.endAsync();
  }
}

it("publishes a retained, sealed health message that a later subscriber gets and opens, naming the chain head", async () => {
  const { dir, dataDir, config } = await daemonSandbox(current(), { logLevel: "debug" });
  const keyFile = join(dir, "gateway.key");
  expect(edgewarden(["keys", "generate", "--out", keyFile]).code).toBe(0);
  const prefix = `ew-health-test-${randomBytes(6).toString("hex")}`;
  const healthTopic = `${prefix}/lab/gw-test/health`;
  // observability: is the config's last section; health goes under it.
  await appendFile(
    config,
    [
      "  health:",
      "    interval: 5s",
      "crypto:",
      "  encryption: ascon-aead128",
      `  keyFile: ${keyFile}`,
      "uplink:",
      `  url: mqtt://127.0.0.1:${BROKER_PORT}`,
      "  topics:",
      `    prefix: ${prefix}`,
      "",
    ].join("\n"),
  );
  try {
    const daemon = spawnDaemon(current(), { config });
    await daemon.waitFor(RUNNING, "the daemon to run");
    const published = componentMsg("health-publisher", "uplink: health published");
    // One right after the connect, one more at the interval: the second names a later chain head.
    await daemon.waitForCount(published, 2, "two health messages", { timeoutMs: 30_000 });

    const subscriber = current().track(await Subscriber.connect(BROKER_PORT, [healthTopic]));
    await subscriber.waitFor((messages) => messages.length > 0, "the retained health message");
    const [message] = subscriber.messages;
    expect(message).toMatchObject({ topic: healthTopic, retain: true });

    daemon.signal("SIGTERM");
    expect(await daemon.waitForExit()).toEqual(CLEAN_EXIT);

    const keys = new ReceiverKeys([
      { file: await loadKeyFile(keyFile), source: keyFile, gateway: "gw-test" },
    ]);
    const opened = openHealthMessage(
      keys,
      { prefix, template: "{prefix}/{site}/{gateway}/{device}/{stream}" },
      healthTopic,
      message?.payload ?? "",
    );
    if (opened?.ok !== true) {
      throw new Error(`the health message did not open: ${JSON.stringify(opened)}`);
    }
    expect(opened).toMatchObject({ gateway: "gw-test", site: "lab", keyId: "k1" });
    const health = opened.health as {
      ledger: { headSeq: number; headHash: string | null };
      self: { cpuPercent: number | null } | null;
      version: string;
    };
    expect(opened.seq).toBeGreaterThan(0);
    expect(health.ledger.headSeq).toBe(opened.seq);
    expect(health.self).not.toBeNull();

    // The head it names is in the ledger, hash and all; and no health snapshot was written there.
    const entries = ledgerEntries(join(dataDir, "ledger"));
    const head = entries.find((entry) => Number(entry.seq) === opened.seq);
    expect(head?.hash).toBe(health.ledger.headHash);
    expect(entries.some((entry) => JSON.stringify(entry.body).includes('"headSeq"'))).toBe(false);
  } finally {
    await clearRetained([healthTopic, `${prefix}/lab/gw-test/status`]);
  }
});
