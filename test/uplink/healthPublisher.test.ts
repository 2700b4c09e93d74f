/**
 * The health publisher (issue #7 item 3; docs/protocol.md §1, "Health") on a session whose
 * connections the test hands out and answers: a retained, sealed snapshot right after each
 * connect and then at every interval; nothing queued while offline (skipped and counted); at most
 * one health message in flight; with `encryption: none` the JSON in clear. The real broker's side
 * (retained delivery to a fresh subscriber) is test/daemon/health.daemon.test.ts.
 */
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { keyRingOf, newGatewayKeyFile } from "../../src/crypto/keys/index.js";
import { openHealthMessage } from "../../src/receiver/healthMessage.js";
import { ReceiverKeys } from "../../src/receiver/index.js";
import {
  HealthPublisher,
  type HealthPublisherSettings,
  type HealthSnapshot,
  healthTopicOf,
} from "../../src/uplink/healthPublisher.js";
import type { Connection, ConnectionListener, PublishOutcome } from "../../src/uplink/mqttSession.js";
import { memoryLogger } from "../helpers/memoryLogger.js";
import { waitUntil } from "../helpers/waitUntil.js";

const TOPICS = { prefix: "edgewarden", template: "{prefix}/{site}/{gateway}/{device}/{stream}" };
const TOPIC = healthTopicOf({ prefix: "edgewarden", site: "lab", gateway: "gw-test" });
const KEY_FILE = newGatewayKeyFile(new Date());

interface Published {
  readonly topic: string;
  readonly payload: string;
  readonly retain: boolean;
  readonly answer: (outcome: PublishOutcome) => void;
}

/** A connection that records what it is handed, with the retain flag; the test answers. */
class RecordingConnection implements Connection {
  readonly id: number;
  readonly protocolVersion = 5 as const;
  readonly maximumPacketSize = undefined;
  readonly receiveMaximum = undefined;
  readonly published: Published[] = [];
  open = true;

  constructor(
    id: number,
    readonly autoAck = true,
  ) {
    this.id = id;
  }

  publish(
    topic: string,
    payload: string | Buffer,
    done: (outcome: PublishOutcome) => void,
    options?: { readonly retain?: boolean },
  ): boolean {
    if (!this.open) {
      return false;
    }
    this.published.push({
      topic,
      payload: payload.toString(),
      retain: options?.retain === true,
      answer: done,
    });
    if (this.autoAck) {
      setImmediate(() => done({ kind: "acked", reasonCode: 0 }));
    }
    return true;
  }
}

class RecordingSession {
  readonly #listeners = new Set<ConnectionListener>();
  #current: RecordingConnection | undefined;

  onConnection(listener: ConnectionListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  current(): Connection | undefined {
    return this.#current;
  }

  connect(connection: RecordingConnection): void {
    this.#current = connection;
    for (const listener of this.#listeners) {
      listener.connected(connection);
    }
  }

  disconnect(): void {
    const connection = this.#current;
    if (connection === undefined) {
      return;
    }
    connection.open = false;
    this.#current = undefined;
    for (const listener of this.#listeners) {
      listener.disconnected(connection, "test");
    }
  }
}

const started: HealthPublisher[] = [];

afterEach(async () => {
  for (const publisher of started.splice(0)) {
    await publisher.stop();
  }
});

async function startPublisher(
  session: RecordingSession,
  settings: Partial<HealthPublisherSettings> = {},
): Promise<{ publisher: HealthPublisher; snapshots: () => number }> {
  let taken = 0;
  const publisher = new HealthPublisher(
    {
      topic: TOPIC,
      intervalMs: 60_000,
      gateway: "gw-test",
      encryption: "ascon-aead128",
      keyRing: keyRingOf(KEY_FILE, "test"),
      ...settings,
    },
    {
      session,
      snapshot: (): Promise<HealthSnapshot> => {
        taken++;
        return Promise.resolve({
          seq: 100 + taken,
          document: { v: 1, gateway: "gw-test", site: "lab", ledger: { headSeq: 100 + taken } },
        });
      },
      clock: systemClock,
      logger: memoryLogger().logger,
    },
  );
  await publisher.start(new AbortController().signal);
  started.push(publisher);
  return { publisher, snapshots: () => taken };
}

const receiverKeys = new ReceiverKeys([{ file: KEY_FILE, source: "gateway.key", gateway: "gw-test" }]);

describe("the health publisher", () => {
  it("publishes a retained, sealed snapshot right after each connect, naming the chain head", async () => {
    const session = new RecordingSession();
    const { publisher } = await startPublisher(session);
    const first = new RecordingConnection(1);
    session.connect(first);
    await waitUntil(() => publisher.stats().acked === 1, "the first health PUBACK");
    session.disconnect();
    const second = new RecordingConnection(2);
    session.connect(second);
    await waitUntil(() => publisher.stats().acked === 2, "the health PUBACK after the reconnect");

    for (const [connection, seq] of [
      [first, 101],
      [second, 102],
    ] as const) {
      expect(connection.published).toHaveLength(1);
      const [message] = connection.published;
      expect(message).toMatchObject({ topic: TOPIC, retain: true });
      expect(openHealthMessage(receiverKeys, TOPICS, TOPIC, message?.payload ?? "")).toMatchObject({
        ok: true,
        gateway: "gw-test",
        site: "lab",
        seq,
        health: { ledger: { headSeq: seq } },
      });
    }
    expect(publisher.stats()).toMatchObject({ published: 2, acked: 2, skippedOffline: 0, failed: 0 });
  });

  it("publishes again at every interval", async () => {
    const session = new RecordingSession();
    const connection = new RecordingConnection(1);
    session.connect(connection);
    const { publisher } = await startPublisher(session, { intervalMs: 20 });
    await waitUntil(() => publisher.stats().acked >= 3, "three health messages");
    expect(new Set(connection.published.map((message) => message.topic))).toEqual(new Set([TOPIC]));
    expect(connection.published.every((message) => message.retain)).toBe(true);
  });

  it("skips and counts the ticks while offline, and queues nothing for the next connection", async () => {
    const session = new RecordingSession();
    const { publisher, snapshots } = await startPublisher(session, { intervalMs: 10 });
    await waitUntil(() => publisher.stats().skippedOffline >= 3, "three ticks while offline");
    expect(snapshots()).toBe(0);
    const connection = new RecordingConnection(1);
    session.connect(connection);
    await waitUntil(() => publisher.stats().acked >= 1, "the health PUBACK on connect");
    // One snapshot for the connect, taken then: nothing from the offline ticks went out.
    expect(
      connection.published[0] &&
        openHealthMessage(receiverKeys, TOPICS, TOPIC, connection.published[0].payload),
    ).toMatchObject({ ok: true, seq: 101 });
  });

  it("keeps at most one health message in flight while the broker does not answer", async () => {
    const session = new RecordingSession();
    const connection = new RecordingConnection(1, false);
    session.connect(connection);
    const { publisher } = await startPublisher(session, { intervalMs: 10 });
    await waitUntil(() => publisher.stats().skippedBusy >= 3, "three ticks while one is unanswered");
    expect(connection.published).toHaveLength(1);
    connection.published[0]?.answer({ kind: "acked", reasonCode: 0 });
    await waitUntil(() => connection.published.length >= 2, "the next tick after the PUBACK");
    expect(publisher.stats()).toMatchObject({ acked: 1, published: 2 });
  });

  it("counts a refused health message and carries on", async () => {
    const session = new RecordingSession();
    const connection = new RecordingConnection(1, false);
    session.connect(connection);
    const { publisher } = await startPublisher(session, { intervalMs: 10 });
    await waitUntil(() => connection.published.length === 1, "the first health message");
    connection.published[0]?.answer({ kind: "refused", reasonCode: 0x87 });
    await waitUntil(() => connection.published.length >= 2, "the next one");
    expect(publisher.stats()).toMatchObject({ refused: 1 });
  });

  it("publishes the JSON in clear with encryption none", async () => {
    const session = new RecordingSession();
    const connection = new RecordingConnection(1);
    session.connect(connection);
    const { publisher } = await startPublisher(session, { encryption: "none", keyRing: undefined });
    await waitUntil(() => publisher.stats().acked === 1, "the health PUBACK");
    expect(JSON.parse(connection.published[0]?.payload ?? "")).toEqual({
      v: 1,
      gateway: "gw-test",
      site: "lab",
      ledger: { headSeq: 101 },
    });
  });

  it("refuses to start sealing without the gateway key ring", async () => {
    const publisher = new HealthPublisher(
      { topic: TOPIC, intervalMs: 1_000, gateway: "gw-test", encryption: "ascon-aead128" },
      {
        session: new RecordingSession(),
        snapshot: () => Promise.resolve({ seq: 0, document: {} }),
        clock: systemClock,
        logger: memoryLogger().logger,
      },
    );
    await expect(publisher.start(new AbortController().signal)).rejects.toThrow(/key ring/);
    await publisher.stop();
  });
});
