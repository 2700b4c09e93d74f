/**
 * The MQTT session against a real mosquitto (issue #5, item 5; docs/protocol.md §1): the retained
 * birth and will on the status topic, a clean stop, reconnects after a broker restart, nothing
 * handed to the client while disconnected, MQTT 3.1.1 on request, and what the CONNACK announces.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Mosquitto } from "../helpers/mosquitto.js";
import { Resources } from "../helpers/resources.js";
import { waitUntil } from "../helpers/waitUntil.js";
import { GATEWAY, STATUS_TOPIC, sessionSettings, TestSession } from "./support/session.js";
import { Subscriber } from "./support/subscriber.js";
import { TcpProxy } from "./support/tcpProxy.js";

let resources: Resources;
beforeEach(() => {
  resources = new Resources();
});
afterEach(async () => {
  await resources.release();
});

async function broker(options: { global?: string[] } = {}): Promise<Mosquitto> {
  const dir = await resources.tempDir("edgewarden-uplink-");
  return resources.track(await Mosquitto.start({ dir, ...options }));
}

const statusPayloads = (subscriber: Subscriber) => subscriber.on(STATUS_TOPIC).map((m) => m.payload);

describe("MqttSession", () => {
  it("publishes a retained 'online' on connect and a retained 'offline' on a clean stop", async () => {
    const mosquitto = await broker();
    const gateway = resources.track(new TestSession(sessionSettings(mosquitto.port)));
    await gateway.start();
    await gateway.connected();

    // A subscriber that comes later still gets the retained birth.
    const late = resources.track(await Subscriber.connect(mosquitto.port, [STATUS_TOPIC]));
    await late.waitFor((m) => m.some((x) => x.payload === "online" && x.retain), "the retained birth");

    await gateway.session.stop();
    await late.waitFor((m) => m.some((x) => x.payload === "offline"), "the offline status");
    expect(gateway.session.status().state).toBe("stopped");

    const after = resources.track(await Subscriber.connect(mosquitto.port, [STATUS_TOPIC]));
    await after.waitFor((m) => m.length > 0, "the retained status");
    expect(after.messages).toEqual([{ topic: STATUS_TOPIC, payload: "offline", retain: true }]);
  });

  it("has the broker publish the will 'offline' when the connection dies without a DISCONNECT", async () => {
    const mosquitto = await broker();
    const proxy = resources.track(await TcpProxy.start(mosquitto.port));
    const subscriber = resources.track(await Subscriber.connect(mosquitto.port, [STATUS_TOPIC]));
    const gateway = resources.track(new TestSession(sessionSettings(proxy.port)));
    await gateway.start();
    await gateway.connected();
    await subscriber.waitFor(() => statusPayloads(subscriber).includes("online"), "the birth");

    proxy.refuse(true);
    proxy.cut(); // as a power cut looks to the broker: the socket goes, no DISCONNECT
    await subscriber.waitFor(() => statusPayloads(subscriber).at(-1) === "offline", "the will");
    expect(gateway.session.current()).toBeUndefined();

    proxy.refuse(false);
    await gateway.connected();
    await subscriber.waitFor(() => statusPayloads(subscriber).at(-1) === "online", "the birth again");
    expect(statusPayloads(subscriber)).toEqual(["online", "offline", "online"]);
    expect(gateway.session.status().connections).toBe(2);
  });

  it("reconnects after a broker restart on the same port and tells its listeners both ways", async () => {
    const mosquitto = await broker();
    const gateway = resources.track(new TestSession(sessionSettings(mosquitto.port)));
    const events: string[] = [];
    gateway.session.onConnection({
      connected: (connection) => events.push(`connected ${connection.id}`),
      disconnected: (connection) => events.push(`disconnected ${connection.id}`),
    });
    await gateway.start();
    const first = await gateway.connected();

    await mosquitto.stop();
    await waitUntil(() => !first.open && gateway.session.current() === undefined, "the session to notice");
    // Nothing is handed to a client that is not connected: publish refuses at once.
    let called = false;
    expect(first.publish("edgewarden/lab/gw-test/x/data", "late", () => (called = true))).toBe(false);

    await mosquitto.start();
    const second = await gateway.connected();
    expect(second.id).toBe(2);
    expect(events).toEqual(["connected 1", "disconnected 1", "connected 2"]);
    expect(called).toBe(false);
    expect(gateway.messages()).toContain("uplink: connection lost");
  });

  it("leaks no listener and no handle over many reconnects (FAULTS 8.1, mqttjs#1038)", async () => {
    const mosquitto = await broker();
    const proxy = resources.track(await TcpProxy.start(mosquitto.port));
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on("warning", onWarning);
    try {
      const gateway = resources.track(new TestSession(sessionSettings(proxy.port)));
      await gateway.start();
      await gateway.connected();
      const handles = process.getActiveResourcesInfo().length;
      for (let cut = 1; cut <= 10; cut++) {
        proxy.cut();
        await waitUntil(() => gateway.session.status().connections === cut + 1, `reconnect ${cut}`);
      }
      await gateway.connected();
      // Back to the handles of the first connection (one socket, one keepalive timer) once the
      // cut sockets have finished closing; a leak would never get there.
      await waitUntil(
        () => process.getActiveResourcesInfo().length <= handles,
        `no more than ${handles} active resources (${process.getActiveResourcesInfo().join(", ")})`,
      );
      expect(warnings).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("keeps trying while the broker is down at start, with growing delays", async () => {
    const mosquitto = await broker();
    await mosquitto.stop();
    const gateway = resources.track(new TestSession(sessionSettings(mosquitto.port)));
    await gateway.start(); // the start does not wait for a broker
    await waitUntil(() => gateway.session.status().failures >= 3, "three failed attempts");
    expect(gateway.session.current()).toBeUndefined();
    expect(gateway.messages().filter((m) => m === "uplink: connection failed").length).toBeGreaterThanOrEqual(
      3,
    );

    await mosquitto.start();
    await gateway.connected();
  });

  it("speaks MQTT 3.1.1 when configured, and reads the MQTT 5 CONNACK's limits otherwise", async () => {
    const mosquitto = await broker({ global: ["max_packet_size 4096"] });
    const v4 = resources.track(
      new TestSession(sessionSettings(mosquitto.port, { mqttVersion: "3.1.1", clientId: "gw-v4" })),
    );
    await v4.start();
    const old = await v4.connected();
    expect(old.protocolVersion).toBe(4);
    expect(old.maximumPacketSize).toBeUndefined();
    // mosquitto logs its protocol enum: p2 is MQTT 3.1.1, p5 is MQTT 5.
    await waitUntil(() => /as gw-v4 \(p2,/.test(mosquitto.log()), "the broker to log the v3.1.1 client");

    const v5 = resources.track(new TestSession(sessionSettings(mosquitto.port, { clientId: "gw-v5" })));
    await v5.start();
    const current = await v5.connected();
    expect(current.protocolVersion).toBe(5);
    expect(current.maximumPacketSize).toBe(4096);
    expect(current.receiveMaximum).toBe(1000);
    expect(mosquitto.log()).toMatch(/as gw-v5 \(p5,/);
  });

  it("uses the configured client id and the default from the gateway id", async () => {
    const mosquitto = await broker();
    const gateway = resources.track(new TestSession(sessionSettings(mosquitto.port)));
    await gateway.start();
    await gateway.connected();
    await waitUntil(
      () => mosquitto.log().includes(`as edgewarden-${GATEWAY} (p5,`),
      "the client id in the log",
    );
  });
});
