/**
 * The receiver composed (receiverService.ts) against the real mosquitto at 127.0.0.1:1883: a
 * gateway's sealed stream, published as the uplink publishes it, arrives decrypted in the JSONL
 * file; forged, replayed, moved and foreign-key messages are rejected, counted and written as
 * rejection lines while the good ones are still stored; a restart resumes from the file.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rotateGatewayKeys } from "../../src/crypto/keys/index.js";
import { Resources } from "../helpers/resources.js";
import { waitUntil } from "../helpers/waitUntil.js";
import { FakeGateway } from "./gatewayFixture.js";
import {
  connectPublisher,
  dropSession,
  type JsonLine,
  publish,
  type ReceiverSetup,
  readJsonl,
  receiverSetup,
  recordSeqs,
  startReceiverService,
} from "./receiverHarness.js";

const resources = new Resources();
const sessions: string[] = [];

beforeEach(() => {
  sessions.length = 0;
});

afterEach(async () => {
  await resources.release();
  await Promise.all(sessions.map(dropSession));
});

async function startService(setup: ReceiverSetup) {
  sessions.push(setup.clientId);
  return await startReceiverService(setup.configPath);
}

async function waitForLines(path: string, done: (lines: JsonLine[]) => boolean): Promise<JsonLine[]> {
  let lines: JsonLine[] = [];
  const deadline = performance.now() + 30_000;
  for (;;) {
    lines = await readJsonl(path);
    if (done(lines)) {
      return lines;
    }
    if (performance.now() > deadline) {
      throw new Error(`timed out; the file holds ${lines.length} line(s)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The payload with one character of its ciphertext changed. */
function flipCiphertext(payload: string): string {
  const at = payload.indexOf('"ct":"') + 10;
  const c = payload[at] === "A" ? "B" : "A";
  return `${payload.slice(0, at)}${c}${payload.slice(at + 1)}`;
}

describe("ReceiverService with a JSONL store, over the real mosquitto", () => {
  it("stores a gateway's sealed stream decrypted, one line per record, checkpoint verified", async () => {
    const setup = await receiverSetup(await resources.tempDir());
    const { gateway } = setup;
    gateway.appendSamples(120);
    gateway.appendCheckpoint();
    const { service } = await startService(setup);
    const publisher = await connectPublisher();
    // One record per message for most, a batch message (§11.2) for the last ten samples.
    const entries = gateway.entries;
    await publish(publisher, gateway.messagesOf(entries.slice(0, 110)));
    await publish(publisher, [gateway.message(entries.slice(110, 120)), gateway.message(entries.slice(120))]);
    await publisher.endAsync();

    const lines = await waitForLines(setup.outputPath, (l) => recordSeqs(l).length >= 121);
    await service.stop();

    expect(recordSeqs(lines)).toEqual(entries.map((e) => e.seq));
    const first = lines[0];
    expect(first).toMatchObject({
      type: "record",
      gateway: setup.gatewayId,
      seq: 1,
      kind: "sample",
      device: "press-2",
      hash: entries[0]?.hash,
      prev: entries[0]?.prev,
      body: { values: { motor_temp: { value: 1, quality: "good", unit: "degC" } } },
    });
    // The body is the gateway's own JSON, as it was hashed (a checkpoint names its seq as text, §8.3).
    expect(lines.at(-1)).toMatchObject({ kind: "checkpoint", body: { ofSeq: "120" } });
    expect(service.coreCounters).toMatchObject({
      messages: 112,
      accepted: 121,
      checkpointVerified: 1,
      tamper: 0,
      tampered: 0,
    });
    expect(service.counters).toMatchObject({ stored: 121, storeDuplicates: 0, shed: 0 });
  });

  it("rejects and counts a tampered, a replayed, a moved and an unknown-key message, and still stores the good ones", async () => {
    const setup = await receiverSetup(await resources.tempDir());
    const { gateway } = setup;
    const entries = gateway.appendSamples(10);
    const good = gateway.messagesOf(entries);
    const pick = (i: number) => {
      const message = good[i];
      if (message === undefined) {
        throw new Error(`no message ${i}`);
      }
      return message;
    };
    const [m3, m4, m5] = [pick(2), pick(3), pick(4)];
    const rotated = new FakeGateway(setup.gatewayId, rotateGatewayKeys(gateway.keyFile, new Date(0)));
    const foreign = rotated.message(rotated.appendSamples(1));
    const { service, logs } = await startService(setup);
    const publisher = await connectPublisher();

    await publish(publisher, good);
    await publish(publisher, [
      { topic: m3.topic, payload: flipCiphertext(m3.payload) },
      m4,
      { topic: m5.topic.replace(/\/data$/, "/alerts"), payload: m5.payload },
      foreign,
    ]);
    await publisher.endAsync();

    const lines = await waitForLines(
      setup.outputPath,
      (l) => l.filter((x) => x.type === "rejected").length >= 4,
    );
    await service.stop();

    expect(recordSeqs(lines)).toEqual(entries.map((e) => e.seq));
    const rejected = lines.filter((l) => l.type === "rejected");
    expect(rejected.map((l) => l.reason)).toEqual([
      "tampered",
      "replay-duplicate",
      "topic-mismatch",
      "unknown-key",
    ]);
    expect(rejected[2]).toMatchObject({
      topic: m5.topic.replace(/\/data$/, "/alerts"),
      gateway: setup.gatewayId,
    });
    expect(service.coreCounters).toMatchObject({
      messages: 14,
      accepted: 10,
      tampered: 1,
      "replay-duplicate": 1,
      "topic-mismatch": 1,
      "unknown-key": 1,
    });
    // Each rejection is also a log line (well under the per-minute limit).
    const logged = logs.filter((l) => typeof l.msg === "string" && l.msg.startsWith("receiver: rejected:"));
    expect(logged.map((l) => l.reason)).toEqual([
      "tampered",
      "replay-duplicate",
      "topic-mismatch",
      "unknown-key",
    ]);
  });

  it("resumes from what the file holds: a restart stores only what is new, with no false gap", async () => {
    const setup = await receiverSetup(await resources.tempDir());
    const { gateway } = setup;
    gateway.appendSamples(20);
    const first = await startService(setup);
    const publisher = await connectPublisher();
    await publish(publisher, gateway.messagesOf(gateway.entries));
    await waitForLines(setup.outputPath, (l) => recordSeqs(l).length >= 20);
    await first.service.stop();

    // The gateway resends 15..20 (fresh envelopes, as after its reconnect) and goes on to 30.
    const more = gateway.appendSamples(10);
    const second = await startService(setup);
    await publish(publisher, gateway.messagesOf([...gateway.entries.slice(14, 20), ...more]));
    await publisher.endAsync();
    const lines = await waitForLines(setup.outputPath, (l) => recordSeqs(l).length >= 30);
    await waitUntil(() => (second.service.coreCounters?.duplicate ?? 0) >= 6, "the resent records", {
      timeoutMs: 15_000,
    });
    await second.service.stop();

    expect(recordSeqs(lines)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(lines.filter((l) => l.type === "gap")).toEqual([]);
    expect(second.service.coreCounters).toMatchObject({ accepted: 10, duplicate: 6, gapOpened: 0 });
    expect(
      second.logs.find((l) => l.msg === "receiver: resuming after what the JSONL file holds"),
    ).toMatchObject({
      gateways: { [setup.gatewayId]: 20 },
    });
  });
});
