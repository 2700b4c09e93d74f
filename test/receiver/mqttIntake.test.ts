/**
 * The receiver's MQTT intake against the real mosquitto at 127.0.0.1:1883: messages keep coming
 * while their PUBACKs are held (up to Receive Maximum, the connection does not stall), a message
 * never acked is delivered again to the same session after a reconnect, and one acked is not.
 */
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { type IntakeMessage, type IntakeSettings, MqttIntake } from "../../src/receiver/mqttIntake.js";
import { memoryLogger } from "../helpers/memoryLogger.js";
import { waitUntil } from "../helpers/waitUntil.js";
import { BROKER_URL, connectPublisher, dropSession } from "./receiverHarness.js";

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

function settings(clientId: string, topicRoot: string, receiveMaximum: number): IntakeSettings {
  return {
    url: BROKER_URL,
    clientId,
    keepaliveMs: 30_000,
    connectTimeoutMs: 10_000,
    reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
    subscription: `${topicRoot}/#`,
    sessionExpirySeconds: 300,
    receiveMaximum,
  };
}

async function startIntake(clientId: string, topicRoot: string, receiveMaximum = 100) {
  const received: IntakeMessage[] = [];
  const { logger, lines } = memoryLogger();
  const intake = new MqttIntake(
    settings(clientId, topicRoot, receiveMaximum),
    {},
    {
      clock: systemClock,
      logger,
      onMessage: (message) => received.push(message),
    },
  );
  cleanups.push(() => intake.stop());
  await intake.start();
  await waitUntil(() => lines.some((l) => l.msg === "receiver: subscribed"), "the subscription", {
    timeoutMs: 15_000,
  });
  return { intake, received, logs: lines };
}

const payloads = (received: readonly IntakeMessage[]) => received.map((m) => m.payload.toString());

describe("MqttIntake", () => {
  it("holds PUBACKs without stalling, and the broker redelivers what was not acked to the same session", async () => {
    const root = `receiver-intake-test/${randomBytes(4).toString("hex")}`;
    const clientId = `intake-test-${randomBytes(4).toString("hex")}`;
    cleanups.push(() => dropSession(clientId));
    const publisher = await connectPublisher();
    cleanups.push(() => publisher.endAsync());

    const first = await startIntake(clientId, root);
    const sent = Array.from({ length: 40 }, (_, i) => `m${i}`);
    await Promise.all(sent.map((p) => publisher.publishAsync(`${root}/a`, p, { qos: 1 })));
    // All 40 arrive although none is acked: the client goes on reading while PUBACKs are held.
    await waitUntil(() => first.received.length === 40, "40 messages without acks", { timeoutMs: 15_000 });
    expect(first.intake.status().unacked).toBe(40);
    // Ack the first 25 only, then go away without acking the rest.
    for (const message of first.received.slice(0, 25)) {
      message.ack();
    }
    await waitUntil(() => first.intake.status().unacked === 15, "25 acks sent", { timeoutMs: 15_000 });
    await first.intake.stop();

    const second = await startIntake(clientId, root);
    await publisher.publishAsync(`${root}/a`, "after", { qos: 1 });
    await waitUntil(() => payloads(second.received).includes("after"), "the message after restart", {
      timeoutMs: 15_000,
    });
    expect(payloads(second.received)).toEqual([...sent.slice(25), "after"]);
    expect(
      second.logs.find((l) => typeof l.msg === "string" && l.msg.startsWith("receiver: connected")),
    ).toMatchObject({
      sessionPresent: true,
    });
  });

  it("receives no more than Receive Maximum unacknowledged messages at once", async () => {
    const root = `receiver-intake-test/${randomBytes(4).toString("hex")}`;
    const clientId = `intake-test-${randomBytes(4).toString("hex")}`;
    cleanups.push(() => dropSession(clientId));
    const publisher = await connectPublisher();
    cleanups.push(() => publisher.endAsync());
    const { received } = await startIntake(clientId, root, 10);

    await Promise.all(
      Array.from({ length: 30 }, (_, i) => publisher.publishAsync(`${root}/a`, `m${i}`, { qos: 1 })),
    );
    await waitUntil(() => received.length >= 10, "the first ten", { timeoutMs: 15_000 });
    // Nothing more comes until some are acked: the broker honours the window.
    await publisher.publishAsync(`${root}/probe`, "probe", { qos: 0 });
    await waitUntil(() => payloads(received).includes("probe"), "a QoS 0 probe past the window", {
      timeoutMs: 15_000,
    });
    expect(received.filter((m) => m.topic.endsWith("/a"))).toHaveLength(10);

    for (const message of received.splice(0)) {
      message.ack();
    }
    await waitUntil(() => received.length >= 20, "the other twenty after the acks", { timeoutMs: 15_000 });
    expect(payloads(received)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i + 10}`));
  });
});
