/**
 * From config to the uplink (issue #5): the schema's defaults (inflight 64, batching off), the
 * session's and forwarder's settings, and the mqtt.js options a connection attempt gets.
 */
import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema/index.js";
import { mqttClientOptions, STATUS_OFFLINE } from "../../src/uplink/mqttOptions.js";
import { TopicRenderer } from "../../src/uplink/topics.js";
import { forwarderSettingsOf, sessionSettingsOf, topicSettingsOf } from "../../src/uplink/uplinkSettings.js";

function parse(uplink: Record<string, unknown>) {
  const config = configSchema.parse({
    gateway: { id: "hm3-gw-01", site: "hm3" },
    uplink: { url: "mqtts://broker.plant.local:8883", ...uplink },
  });
  if (config.uplink === undefined) {
    throw new Error("no uplink");
  }
  return { config, uplink: config.uplink };
}

describe("uplink settings", () => {
  it("defaults: inflight 64, batching off, MQTT 5, client id from the gateway id", () => {
    const { config, uplink } = parse({});
    expect(uplink.inflight).toBe(64);
    expect(uplink.batch).toEqual({ maxRecords: 1, maxBytes: 65_536 });
    expect(uplink.maxPacketSize).toBeUndefined();
    const session = sessionSettingsOf(config, uplink);
    expect(session).toMatchObject({
      mqttVersion: "5",
      clientId: "edgewarden-hm3-gw-01",
      keepaliveMs: 30_000,
      connectTimeoutMs: 30_000,
      reconnect: { initialDelayMs: 1000, maxDelayMs: 60_000 },
      statusTopic: "edgewarden/hm3/hm3-gw-01/status",
    });
  });

  it("passes batching, the packet limit, encryption and the retry backoff to the forwarder", () => {
    const { config, uplink } = parse({
      batch: { maxRecords: 50, maxBytes: "32KiB" },
      maxPacketSize: "256KiB",
      inflight: 128,
      reconnect: { initialDelay: "500ms", maxDelay: "10s" },
    });
    const topics = new TopicRenderer(topicSettingsOf(config, uplink));
    expect(forwarderSettingsOf(config, uplink, topics, undefined)).toMatchObject({
      gateway: "hm3-gw-01",
      encryption: "ascon-aead128",
      inflight: 128,
      batch: { maxRecords: 50, maxBytes: 32_768 },
      maxPacketSize: 262_144,
      retry: { initialDelayMs: 500, maxDelayMs: 10_000 },
    });
    expect(topics.topic("press-2", "data").name).toBe("edgewarden/hm3/hm3-gw-01/press-2/data");
  });

  it("refuses batching beyond the envelope's plaintext limit", () => {
    expect(() => parse({ batch: { maxRecords: 2, maxBytes: "1MiB" } })).toThrow(/512KiB/);
  });

  it("gives mqtt.js a retained QoS 1 will, clean start, no own reconnects and the files' contents", () => {
    const { config, uplink } = parse({
      mqttVersion: "3.1.1",
      username: "gw",
      keepalive: "45500ms",
      tls: { serverName: "broker.test", rejectUnauthorized: true },
    });
    const options = mqttClientOptions(sessionSettingsOf(config, uplink), {
      ca: Buffer.from("CA"),
      password: Buffer.from("pw"),
    });
    expect(options).toMatchObject({
      protocolVersion: 4,
      clientId: "edgewarden-hm3-gw-01",
      clean: true,
      keepalive: 46,
      reconnectPeriod: 0,
      queueQoSZero: false,
      username: "gw",
      servername: "broker.test",
      rejectUnauthorized: true,
      will: { topic: "edgewarden/hm3/hm3-gw-01/status", qos: 1, retain: true },
    });
    expect(options.will?.payload?.toString()).toBe(STATUS_OFFLINE);
    expect(options.password?.toString()).toBe("pw");
    expect(options.ca?.toString()).toBe("CA");
  });
});
