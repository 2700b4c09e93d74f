/**
 * Opening a gateway's health message on the receiver (issue #7 item 3; docs/protocol.md §1,
 * "Health"): what the gateway's sealHealth writes opens with the gateway key file and names the
 * chain head; a health payload moved anywhere else, a record moved onto the health topic, an
 * altered payload, a key the receiver does not hold and a plaintext that is not this gateway's
 * health are each rejected with a reason; and a topic that is not a health topic is left to the
 * record path.
 */
import { describe, expect, it } from "vitest";
import { exportDeviceKeys, newGatewayKeyFile } from "../../src/crypto/keys/index.js";
import { healthTopicLevels, openHealthMessage } from "../../src/receiver/healthMessage.js";
import { ReceiverCore, ReceiverKeys } from "../../src/receiver/index.js";
import { openMessage } from "../../src/receiver/openMessage.js";
import { TopicPattern } from "../../src/receiver/topicPattern.js";
import { type HealthSnapshot, healthTopicOf, sealHealth } from "../../src/uplink/healthPublisher.js";
import { FakeGateway, GATEWAY, TOPICS } from "./gatewayFixture.js";

const SITE = "hm3";
const TS = 1_795_320_900_000;
const HEALTH_TOPIC = healthTopicOf({ prefix: TOPICS.prefix, site: SITE, gateway: GATEWAY });

function snapshot(seq: number, overrides: Record<string, unknown> = {}): HealthSnapshot {
  return {
    seq,
    document: {
      v: 1,
      gateway: GATEWAY,
      site: SITE,
      ledger: { health: "ok", headSeq: seq, headHash: "ab".repeat(32), ackedSeq: seq, backlog: 0 },
      devices: [{ name: "press-2", state: "ok" }],
      ...overrides,
    },
  };
}

function sealed(gateway: FakeGateway, topic: string, health: HealthSnapshot, gatewayId = GATEWAY): string {
  return sealHealth(
    { gateway: gatewayId, encryption: "ascon-aead128", keyRing: gateway.ring },
    topic,
    health,
    TS,
  );
}

function keysOf(gateway: FakeGateway): ReceiverKeys {
  return new ReceiverKeys([{ file: gateway.keyFile, source: "gateway.key", gateway: GATEWAY }]);
}

describe("openHealthMessage", () => {
  it("opens a sealed snapshot with the gateway key file and names the chain head", () => {
    const gateway = new FakeGateway();
    const opened = openHealthMessage(
      keysOf(gateway),
      TOPICS,
      HEALTH_TOPIC,
      sealed(gateway, HEALTH_TOPIC, snapshot(42)),
    );
    expect(opened).toEqual({
      ok: true,
      gateway: GATEWAY,
      site: SITE,
      seq: 42,
      ts: TS,
      keyId: "k1",
      health: snapshot(42).document,
    });
  });

  it("leaves record and status topics, and other prefixes, to the record path", () => {
    const gateway = new FakeGateway();
    const keys = keysOf(gateway);
    const payload = sealed(gateway, HEALTH_TOPIC, snapshot(1));
    for (const topic of [
      `edgewarden/${SITE}/${GATEWAY}/press-2/data`,
      `edgewarden/${SITE}/${GATEWAY}/status`,
      `other/${SITE}/${GATEWAY}/health`,
      `edgewarden/${SITE}/${GATEWAY}/health/extra`,
    ]) {
      expect(openHealthMessage(keys, TOPICS, topic, payload), topic).toBeUndefined();
    }
    // A template whose record topics can look like a health topic: the record pattern wins.
    const odd = { prefix: "edgewarden", template: "{prefix}/{stream}/{site}/{gateway}" };
    expect(healthTopicLevels(odd, "edgewarden/data/lab/health")).toBeUndefined();
    expect(healthTopicLevels(odd, "edgewarden/lab/gw-1/health")).toEqual({ site: "lab", gateway: "gw-1" });
  });

  it("rejects a health payload moved to another gateway's or another site's health topic", () => {
    const gateway = new FakeGateway();
    const keys = keysOf(gateway);
    const payload = sealed(gateway, HEALTH_TOPIC, snapshot(7));
    expect(openHealthMessage(keys, TOPICS, `edgewarden/${SITE}/gw-other/health`, payload)).toMatchObject({
      ok: false,
      reason: "topic-mismatch",
      gateway: GATEWAY,
      seq: 7,
    });
    expect(openHealthMessage(keys, TOPICS, `edgewarden/other-site/${GATEWAY}/health`, payload)).toMatchObject(
      {
        ok: false,
        reason: "tampered",
      },
    );
  });

  it("never opens a health payload as a record, nor a record as health", () => {
    const gateway = new FakeGateway();
    const keys = keysOf(gateway);
    const pattern = new TopicPattern(TOPICS);
    // Health moved onto the gateway's own record topics: the record path refuses it.
    const health = sealed(gateway, HEALTH_TOPIC, snapshot(3));
    for (const stream of ["data", "alerts", "events", "checkpoints"]) {
      const topic = `edgewarden/${SITE}/${GATEWAY}/_gateway/${stream}`;
      expect(openMessage(keys, pattern, topic, health), topic).toMatchObject({ ok: false });
    }
    // A `_gateway` record (an event) moved onto the health topic: told apart as moved.
    gateway.appendSamples(2);
    const event = gateway.append({
      ts: TS,
      clockSynced: true,
      kind: "event",
      device: "_gateway",
      body: '{"type":"config.reloaded","severity":"info","message":"reloaded"}',
    });
    const record = gateway.message([event]);
    expect(openHealthMessage(keys, TOPICS, HEALTH_TOPIC, record.payload)).toMatchObject({
      ok: false,
      reason: "topic-mismatch",
      message: expect.stringContaining(`sealed for ${record.topic}`),
    });
    // A device's record on the health topic: its header names the device, not _gateway.
    const sample = gateway.message([gateway.entries[0] ?? event]);
    expect(openHealthMessage(keys, TOPICS, HEALTH_TOPIC, sample.payload)).toMatchObject({
      ok: false,
      reason: "topic-mismatch",
    });
  });

  it("rejects an altered payload, a key it does not hold, and text that is not an envelope", () => {
    const gateway = new FakeGateway();
    const keys = keysOf(gateway);
    const payload = sealed(gateway, HEALTH_TOPIC, snapshot(9));
    const altered = payload.replace(
      /"ct":"(.)/,
      (_whole, first: string) => `"ct":"${first === "A" ? "B" : "A"}`,
    );
    expect(openHealthMessage(keys, TOPICS, HEALTH_TOPIC, altered)).toMatchObject({
      ok: false,
      reason: "tampered",
    });

    const stranger = new FakeGateway(GATEWAY, newGatewayKeyFile(new Date()));
    expect(openHealthMessage(keysOf(stranger), TOPICS, HEALTH_TOPIC, payload)).toMatchObject({
      ok: false,
      reason: "tampered",
    });
    // A consumer holding only press-2's exported keys cannot read the gateway's health.
    const pressOnly = new ReceiverKeys([
      { file: exportDeviceKeys(gateway.keyFile, "press-2"), source: "press-2.key", gateway: GATEWAY },
    ]);
    expect(openHealthMessage(pressOnly, TOPICS, HEALTH_TOPIC, payload)).toMatchObject({
      ok: false,
      reason: "unknown-key",
    });
    const clear = JSON.stringify(snapshot(9).document);
    expect(openHealthMessage(keys, TOPICS, HEALTH_TOPIC, clear)).toMatchObject({
      ok: false,
      reason: "malformed",
    });
  });

  it("rejects a sealed plaintext that is not this gateway's health document", () => {
    const gateway = new FakeGateway();
    const keys = keysOf(gateway);
    const otherGateway = sealed(gateway, HEALTH_TOPIC, snapshot(5, { gateway: "gw-other" }));
    expect(openHealthMessage(keys, TOPICS, HEALTH_TOPIC, otherGateway)).toMatchObject({
      ok: false,
      reason: "bad-entry",
    });
    const notAnObject = sealed(gateway, HEALTH_TOPIC, { seq: 5, document: [1, 2, 3] });
    expect(openHealthMessage(keys, TOPICS, HEALTH_TOPIC, notAnObject)).toMatchObject({
      ok: false,
      reason: "bad-entry",
    });
  });
});

describe("ReceiverCore and health messages", () => {
  it("reports a health snapshot as health, again on redelivery, and never as a record", () => {
    const gateway = new FakeGateway();
    const core = new ReceiverCore({ topics: TOPICS, keys: keysOf(gateway) });
    const payload = sealed(gateway, HEALTH_TOPIC, snapshot(7));
    for (const receivedAt of [1, 2]) {
      // A retained snapshot comes again with every new subscription: not a replay.
      const [outcome, ...rest] = core.receive({ topic: HEALTH_TOPIC, payload, receivedAt });
      expect(rest).toEqual([]);
      expect(outcome).toMatchObject({ type: "health", gateway: GATEWAY, site: SITE, seq: 7, receivedAt });
    }
    expect(core.counters).toMatchObject({ messages: 2, health: 2, accepted: 0, "replay-duplicate": 0 });
  });

  it("rejects and counts a health payload that does not open", () => {
    const gateway = new FakeGateway();
    const core = new ReceiverCore({ topics: TOPICS, keys: keysOf(new FakeGateway()) });
    const outcomes = core.receive({
      topic: HEALTH_TOPIC,
      payload: sealed(gateway, HEALTH_TOPIC, snapshot(7)),
      receivedAt: 1,
    });
    expect(outcomes).toMatchObject([{ type: "rejected", reason: "tampered" }]);
    expect(core.counters).toMatchObject({ health: 0, tampered: 1 });
  });
});
