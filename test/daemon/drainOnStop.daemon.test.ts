/**
 * A clean stop hands over what the gateway holds when the broker is there (issue #7): the built
 * daemon, forwarding to the real Mosquitto on 127.0.0.1:1883 under a topic prefix and gateway id
 * of its own, gets SIGTERM right after its self-health source appended a sample (which waits up to
 * storage.commitInterval, 1s here, for its group commit). The forwarder drains before it stops
 * (uplink.drainOnStop, default 3s): the stopped ledger has no backlog, and a subscriber got every
 * record the ledger holds.
 */
import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import { connectAsync } from "mqtt";
import { expect, it } from "vitest";
import {
  componentMsg,
  daemonSandbox,
  edgewarden,
  hasMsg,
  ledgerEntries,
  RUNNING,
  spawnDaemon,
} from "../helpers/daemon.js";
import { CLEAN_EXIT, useResources } from "../helpers/lifecycle.js";
import { Subscriber, seqsOf } from "../uplink/support/subscriber.js";

const BROKER_PORT = 1883;
const DRAINED = /^uplink: drained \d+ records on stop; \d+ left for the next start$/;

const current = useResources();

it("SIGTERM right after an append: the forwarder drains, the stopped ledger's backlog is 0 and the subscriber has every record", async () => {
  const run = `${process.pid}-${Date.now().toString(36)}`;
  const gatewayId = `gw-drain-${run}`;
  const prefix = `edgewarden-drain-${run}`;
  const { dataDir, config } = await daemonSandbox(current(), {
    id: gatewayId,
    logLevel: "debug",
    interval: "1s",
    stopTimeout: "20s",
  });
  await appendFile(
    config,
    [
      "crypto:",
      "  encryption: none",
      "uplink:",
      `  url: mqtt://127.0.0.1:${BROKER_PORT}`,
      "  topics:",
      `    prefix: ${prefix}`,
      "storage:",
      "  commitInterval: 1s",
      "",
    ].join("\n"),
  );
  const subscriber = current().track(
    await Subscriber.connect(BROKER_PORT, [`${prefix}/lab/${gatewayId}/+/+`]),
  );
  current().track({
    kill: () => clearRetained([`${prefix}/lab/${gatewayId}/status`, `${prefix}/lab/${gatewayId}/health`]),
  });

  const daemon = spawnDaemon(current(), { config });
  await daemon.waitFor(RUNNING, "the daemon to run");
  const connected = await daemon.waitForIndex(hasMsg("uplink: connected"), "the uplink to connect");
  await daemon.waitForCount(componentMsg("self-health", "self-health"), 2, "two samples while connected", {
    from: connected,
  });
  daemon.signal("SIGTERM");
  expect(await daemon.waitForExit()).toEqual(CLEAN_EXIT);

  const drained = daemon.filter((line) => DRAINED.test(String(line.msg)));
  expect(drained).toEqual([expect.objectContaining({ left: 0, end: "acknowledged" })]);

  const ledgerDir = join(dataDir, "ledger");
  const stats = edgewarden(["ledger", "stats", "-d", ledgerDir]);
  expect(stats.code).toBe(0);
  const figures = JSON.parse(stats.stdout) as { lastSeq: number; ackedSeq: number; backlogRecords: number };
  expect(figures.backlogRecords).toBe(0);
  expect(figures.ackedSeq).toBe(figures.lastSeq);

  const stored = ledgerEntries(ledgerDir).map((entry) => Number(entry.seq));
  // At least the two samples; the second was most likely still waiting for its commit at SIGTERM.
  expect(stored.length).toBeGreaterThanOrEqual(2);
  const received = () => new Set(subscriber.messages.flatMap((m) => seqsOf([m.payload])));
  await subscriber.waitFor(() => stored.every((seq) => received().has(seq)), "every stored record");
});

/** The shared broker keeps no retained status or health message of this test's gateway. */
async function clearRetained(topics: readonly string[]): Promise<void> {
  const client = await connectAsync(`mqtt://127.0.0.1:${BROKER_PORT}`, { reconnectPeriod: 0 });
  for (const topic of topics) {
    await client.publishAsync(topic, "", { qos: 1, retain: true });
  }
  await client.endAsync();
}
