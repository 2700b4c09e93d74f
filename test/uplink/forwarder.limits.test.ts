/**
 * The forwarder at the broker's limits (issue #5, item 6), against a real mosquitto and Ledger:
 * a record over the maximum packet size becomes a dead-letter record (from the MQTT 5 CONNACK,
 * or from uplink.maxPacketSize under MQTT 3.1.1), a publish refused by an ACL (PUBACK 0x87) holds
 * the cursor and is retried until the ACL allows it, and batching sends one contiguous seq range
 * of one topic per message.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openEnvelope } from "../../src/crypto/envelope/index.js";
import { NO_DEVICE, parseEntryText } from "../../src/ledger/ledgerEntry.js";
import type { ForwarderSettings } from "../../src/uplink/forwarder.js";
import type { SessionSettings } from "../../src/uplink/mqttOptions.js";
import { Mosquitto } from "../helpers/mosquitto.js";
import { Resources } from "../helpers/resources.js";
import { waitUntil } from "../helpers/waitUntil.js";
import { sample, samples, TestGateway, topicOf } from "./support/gateway.js";
import { gatewayKeyRing } from "./support/keys.js";
import { openRecords, Subscriber, seqsOf } from "./support/subscriber.js";

const ALL_RECORDS = "edgewarden/lab/gw-test/+/+";

let resources: Resources;
beforeEach(() => {
  resources = new Resources();
});
afterEach(async () => {
  await resources.release();
});

async function setup(options: {
  global?: string[];
  forwarder?: Partial<ForwarderSettings>;
  session?: Partial<SessionSettings>;
}) {
  const dir = await resources.tempDir("edgewarden-forwarder-");
  const mosquitto = resources.track(await Mosquitto.start({ dir, global: options.global ?? [] }));
  const { ring } = await gatewayKeyRing(dir);
  const gateway = resources.track(
    new TestGateway({
      ledgerDir: join(dir, "ledger"),
      brokerPort: mosquitto.port,
      keyRing: ring,
      forwarder: options.forwarder ?? {},
      session: options.session ?? {},
    }),
  );
  await gateway.openLedger();
  const subscriber = resources.track(await Subscriber.connect(mosquitto.port, [ALL_RECORDS]));
  return { dir, mosquitto, ring, gateway, subscriber };
}

const big = (device: string) => sample(device, { body: `{"blob":"${"x".repeat(3000)}"}` });

describe("Forwarder dead letters", () => {
  for (const variant of [
    { name: "the MQTT 5 CONNACK's Maximum Packet Size", session: {}, forwarder: {} },
    {
      name: "uplink.maxPacketSize under MQTT 3.1.1",
      session: { mqttVersion: "3.1.1" as const },
      forwarder: { maxPacketSize: 2000 },
    },
  ]) {
    it(`turns a record over ${variant.name} into a dead-letter record and moves on`, async () => {
      const { mosquitto, ring, gateway, subscriber } = await setup({
        global: ["max_packet_size 2000"],
        session: variant.session,
        forwarder: variant.forwarder,
      });
      await gateway.append([sample("press-2"), big("press-2"), sample("press-2")]);
      const forwarder = await gateway.startUplink();
      const ledger = gateway.theLedger;
      await waitUntil(
        () => ledger.durableSeq() === 4 && ledger.ackedSeq() === 4,
        "the dead letter, published",
      );
      await subscriber.waitFor((m) => m.length === 3, "three messages");

      expect(subscriber.on(topicOf("press-2", "data")).flatMap((m) => seqsOf(openRecords(ring, m)))).toEqual([
        1, 3,
      ]);
      const [deadLetter] = subscriber.on(topicOf(NO_DEVICE, "events"));
      const entry = parseEntryText(
        openRecords(ring, deadLetter ?? { topic: "", payload: "", retain: false })[0] ?? "",
      );
      expect(entry?.kind).toBe("deadletter");
      expect(JSON.parse(entry?.body ?? "{}")).toMatchObject({
        seq: "2",
        reason: "packet-too-large",
        limit: 2000,
      });
      expect(JSON.parse(entry?.body ?? "{}").bytes).toBeGreaterThan(2000);
      expect(forwarder.stats().deadLettered).toBe(1);
      // The broker never saw the oversize packet: no disconnect, no reconnect loop.
      expect(gateway.session?.session.status().connections).toBe(1);
      expect(mosquitto.log()).not.toMatch(/oversize packet/);
    });
  }
});

describe("Forwarder and refused publishes", () => {
  it("holds the cursor on PUBACK 0x87 (not authorized), retries, and delivers once the ACL allows it", async () => {
    const dir = await resources.tempDir("edgewarden-acl-");
    const acl = join(dir, "acl");
    const allow = (devices: string[]) =>
      writeFile(
        acl,
        [
          "topic read #",
          "topic write edgewarden/lab/gw-test/status",
          ...devices.map((d) => `topic write edgewarden/lab/gw-test/${d}/#`),
          "",
        ].join("\n"),
      );
    await allow(["press-2"]);
    const { mosquitto, ring, gateway, subscriber } = await setup({ global: [`acl_file ${acl}`] });
    await gateway.append([...samples(5, "press-2"), sample("press-3"), ...samples(5, "press-2")]);
    const forwarder = await gateway.startUplink();
    await waitUntil(() => forwarder.stats().refusedPublishes >= 2, "the refusal and a retry");
    await subscriber.waitFor((m) => m.length === 10, "the allowed records");
    expect(gateway.theLedger.ackedSeq()).toBe(5);
    expect(forwarder.stats().backlog).toBe(6);
    expect(
      gateway.log.lines.some((l) => l.msg === "uplink: the broker refused a publish; retrying later"),
    ).toBe(true);

    await allow(["press-2", "press-3"]);
    mosquitto.reload();
    await waitUntil(() => gateway.theLedger.ackedSeq() === 11, "everything acknowledged");
    await subscriber.waitFor((m) => m.length === 11, "record 6");
    const seqs = subscriber.messages.flatMap((m) => seqsOf(openRecords(ring, m)));
    expect([...seqs].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(forwarder.stats().deadLettered).toBe(0);
  });
});

describe("Forwarder batching", () => {
  it("sends consecutive records of one topic in one message, one contiguous seq range each", async () => {
    const { ring, gateway, subscriber } = await setup({
      forwarder: { batch: { maxRecords: 10, maxBytes: 65_536 } },
    });
    await gateway.append([...samples(25, "press-2"), ...samples(3, "press-3"), ...samples(5, "press-2")]);
    await gateway.startUplink();
    await waitUntil(() => gateway.theLedger.ackedSeq() === 33, "33 acknowledged");
    await subscriber.waitFor((m) => m.length === 5, "five messages");

    const messages = subscriber.messages.map((m) => {
      const opened = openEnvelope(ring, m.topic, m.payload);
      return { topic: m.topic, headerSeq: Number(opened.header.seq), seqs: seqsOf(openRecords(ring, m)) };
    });
    const press2 = topicOf("press-2", "data");
    const press3 = topicOf("press-3", "data");
    const ranges = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    expect(messages).toEqual([
      { topic: press2, headerSeq: 1, seqs: ranges(1, 10) },
      { topic: press2, headerSeq: 11, seqs: ranges(11, 20) },
      { topic: press2, headerSeq: 21, seqs: ranges(21, 25) },
      { topic: press3, headerSeq: 26, seqs: ranges(26, 28) },
      { topic: press2, headerSeq: 29, seqs: ranges(29, 33) },
    ]);
  });
});
