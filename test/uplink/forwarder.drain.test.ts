/**
 * The forwarder's drain at a clean stop (issue #7), against the real Mosquitto on 127.0.0.1:1883
 * (a topic prefix and client id of this test file's own) and a real Ledger on LevelDB: a stop
 * right after appending hands over every record before it ends; uplink.drainOnStop 0s stops at
 * once as before; with the broker unreachable the drain does not wait; and PUBACKs that do not
 * come end the drain at half of the stop budget the daemon gives the forwarder.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { connectAsync } from "mqtt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { Ledger } from "../../src/ledger/ledger.js";
import { Forwarder } from "../../src/uplink/forwarder.js";
import { TopicRenderer } from "../../src/uplink/topics.js";
import type { JsonRecord } from "../helpers/lineChild.js";
import { type MemoryLogger, memoryLogger } from "../helpers/memoryLogger.js";
import { freePort } from "../helpers/mosquitto.js";
import { Resources } from "../helpers/resources.js";
import { waitUntil } from "../helpers/waitUntil.js";
import { samples } from "./support/gateway.js";
import { sessionSettings, TestSession } from "./support/session.js";
import { Subscriber, seqsOf } from "./support/subscriber.js";

const BROKER_PORT = 1883;
const RUN = `${process.pid}-${Date.now().toString(36)}`;
const PREFIX = `edgewarden-drain-${RUN}`;
const SITE = "lab";
const GATEWAY = "gw-drain";
const RECORDS = 500;
const DRAINED = /^uplink: drained \d+ records on stop; \d+ left for the next start$/;

let resources: Resources;
let testNo = 0;
beforeEach(() => {
  resources = new Resources();
  testNo++;
});
afterEach(async () => {
  await resources.release();
});

/** A ledger, session and forwarder in the daemon's order, with this test's own topics and client id. */
class DrainRig {
  readonly log: MemoryLogger = memoryLogger();
  readonly prefix = `${PREFIX}-${testNo}`;
  ledger: Ledger | undefined;
  session: TestSession | undefined;
  forwarder: Forwarder | undefined;

  constructor(
    readonly dir: string,
    readonly brokerPort: number,
    readonly drainOnStopMs: number,
  ) {}

  get theLedger(): Ledger {
    if (this.ledger === undefined) {
      throw new Error("the ledger is not open");
    }
    return this.ledger;
  }

  /** Appends without waiting: the promises resolve once the records are durable. */
  append(count: number): Promise<unknown>[] {
    const ledger = this.theLedger;
    return samples(count).map((fields) => ledger.append(fields));
  }

  /** Resources calls this at the end of a test; the shared broker keeps no retained status of ours. */
  async kill(): Promise<void> {
    await this.forwarder?.stop();
    await this.session?.kill();
    await this.ledger?.stop();
    const client = await connectAsync(`mqtt://127.0.0.1:${BROKER_PORT}`, { reconnectPeriod: 0 });
    await client.publishAsync(`${this.prefix}/${SITE}/${GATEWAY}/status`, "", { qos: 1, retain: true });
    await client.endAsync();
  }

  async openLedger(): Promise<Ledger> {
    this.ledger = new Ledger(
      {
        dir: join(this.dir, "ledger"),
        commitIntervalMs: 10,
        commitMaxRecords: 1_000,
        degradedBufferRecords: 100_000,
        retention: { maxBytes: 2 ** 40, maxAgeMs: 3_650 * 86_400_000, checkIntervalMs: 3_600_000 },
      },
      { clock: systemClock, logger: this.log.logger },
    );
    await this.ledger.start(new AbortController().signal);
    return this.ledger;
  }

  async startUplink(): Promise<Forwarder> {
    const ledger = this.ledger ?? (await this.openLedger());
    this.session = new TestSession(
      sessionSettings(this.brokerPort, {
        clientId: `edgewarden-${this.prefix}`,
        statusTopic: `${this.prefix}/${SITE}/${GATEWAY}/status`,
        connectTimeoutMs: 2_000,
      }),
    );
    this.forwarder = new Forwarder(
      {
        gateway: GATEWAY,
        topics: new TopicRenderer({
          prefix: this.prefix,
          site: SITE,
          gateway: GATEWAY,
          template: "{prefix}/{site}/{gateway}/{device}/{stream}",
        }),
        encryption: "none",
        inflight: 64,
        batch: { maxRecords: 1, maxBytes: 65_536 },
        retry: { initialDelayMs: 100, maxDelayMs: 400 },
        drainOnStopMs: this.drainOnStopMs,
      },
      {
        reader: ledger,
        appender: ledger,
        session: this.session.session,
        clock: systemClock,
        logger: this.log.logger,
      },
    );
    await this.session.start();
    await this.forwarder.start(new AbortController().signal);
    return this.forwarder;
  }

  /** Stops the forwarder (with the daemon's stop budget for it, if given), then the session and the ledger. */
  async stop(budgetMs?: number): Promise<void> {
    await this.forwarder?.stop(budgetMs);
    this.forwarder = undefined;
    await this.session?.kill();
    this.session = undefined;
    await this.ledger?.stop();
    this.ledger = undefined;
  }

  /** The acked cursor the stopped ledger stored (opens and closes it again). */
  async storedAckedSeq(): Promise<number> {
    const ledger = await this.openLedger();
    const acked = ledger.ackedSeq();
    await ledger.stop();
    this.ledger = undefined;
    return acked;
  }

  drainLines(): JsonRecord[] {
    return this.log.lines.filter((line) => DRAINED.test(String(line.msg)));
  }
}

async function rig(options: { drainOnStopMs: number; brokerPort?: number }): Promise<DrainRig> {
  const dir = await resources.tempDir("edgewarden-drain-");
  return resources.track(new DrainRig(dir, options.brokerPort ?? BROKER_PORT, options.drainOnStopMs));
}

async function subscribe(gateway: DrainRig): Promise<Subscriber> {
  return resources.track(await Subscriber.connect(BROKER_PORT, [`${gateway.prefix}/#`]));
}

/** The seqs of the records (not the status messages) a subscriber received. */
function recordSeqs(subscriber: Subscriber): number[] {
  return subscriber.messages.filter((m) => !m.topic.endsWith("/status")).flatMap((m) => seqsOf([m.payload]));
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("Forwarder drain on stop (issue #7)", () => {
  it("publishes every record appended before a stop, not yet durable, before the stop ends", async () => {
    const gateway = await rig({ drainOnStopMs: 30_000 });
    const subscriber = await subscribe(gateway);
    const forwarder = await gateway.startUplink();
    await waitUntil(() => forwarder.stats().connected, "the forwarder to connect");

    // Appended in the same turn as the stop: none is durable yet, none has been published.
    const appended = gateway.append(RECORDS);
    await gateway.stop(60_000);
    await Promise.all(appended);

    expect(gateway.drainLines()).toEqual([
      expect.objectContaining({
        msg: `uplink: drained ${RECORDS} records on stop; 0 left for the next start`,
        drained: RECORDS,
        left: 0,
        end: "acknowledged",
      }),
    ]);
    expect(await gateway.storedAckedSeq()).toBe(RECORDS);
    await subscriber.waitFor(() => recordSeqs(subscriber).length >= RECORDS, `${RECORDS} records`);
    expect(recordSeqs(subscriber)).toEqual(range(1, RECORDS));
  });

  it("with drainOnStop 0s stops at once: what was not published waits for the next start", async () => {
    const gateway = await rig({ drainOnStopMs: 0 });
    const subscriber = await subscribe(gateway);
    const forwarder = await gateway.startUplink();
    await waitUntil(() => forwarder.stats().connected, "the forwarder to connect");

    const appended = gateway.append(RECORDS);
    await gateway.stop(60_000);
    await Promise.all(appended);

    expect(forwarder.stats().publishedRecords).toBe(0);
    expect(gateway.drainLines()).toEqual([]);
    expect(await gateway.storedAckedSeq()).toBe(0);

    // The next start sends them.
    const next = await gateway.startUplink();
    await waitUntil(() => gateway.ledger?.ackedSeq() === RECORDS, "the next start to send them");
    await subscriber.waitFor(() => recordSeqs(subscriber).length >= RECORDS, `${RECORDS} records`);
    expect(recordSeqs(subscriber)).toEqual(range(1, RECORDS));
    expect(next.stats().backlog).toBe(0);
  });

  it("with the broker unreachable stops without waiting: 0 drained, everything left", async () => {
    const gateway = await rig({ drainOnStopMs: 30_000, brokerPort: await freePort() });
    await gateway.openLedger();
    await gateway.startUplink();
    await Promise.all(gateway.append(RECORDS));
    await waitUntil(
      () => gateway.session?.messages().includes("uplink: connection failed") === true,
      "a failed connection attempt",
    );

    await gateway.stop(60_000);

    expect(gateway.drainLines()).toEqual([
      expect.objectContaining({
        msg: `uplink: drained 0 records on stop; ${RECORDS} left for the next start`,
        drained: 0,
        left: RECORDS,
        end: "not-connected",
      }),
    ]);
    expect(await gateway.storedAckedSeq()).toBe(0);
  });

  it("ends the drain at half of the stop budget the daemon gives it when PUBACKs do not come", async () => {
    const relay = resources.track(await AckHoldingRelay.start(BROKER_PORT));
    const gateway = await rig({ drainOnStopMs: 30_000, brokerPort: relay.port });
    const forwarder = await gateway.startUplink();
    await waitUntil(() => forwarder.stats().connected, "the forwarder to connect");
    await Promise.all(gateway.append(10));
    await waitUntil(() => forwarder.stats().ackedSeq === 10, "the first 10 acknowledged");

    relay.holdReplies();
    const appended = gateway.append(RECORDS);
    await gateway.stop(1_000);
    await Promise.all(appended);

    expect(gateway.drainLines()).toEqual([
      expect.objectContaining({ drained: 0, left: RECORDS, end: "budget", drainMs: 500 }),
    ]);
    expect(await gateway.storedAckedSeq()).toBe(10);
  });
});

/**
 * A TCP relay to the broker that can stop passing the broker's replies on (PUBACKs among them)
 * while the connection stays open: a broker that has gone quiet.
 */
class AckHoldingRelay {
  readonly port: number;
  readonly #server: Server;
  readonly #pairs = new Set<{ readonly client: Socket; readonly upstream: Socket }>();

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  static async start(targetPort: number): Promise<AckHoldingRelay> {
    let relay: AckHoldingRelay | undefined;
    const server = createServer((client) => {
      if (relay === undefined) {
        client.destroy();
      } else {
        relay.#pipe(client, targetPort);
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === "string") {
      throw new Error("relay has no TCP address");
    }
    relay = new AckHoldingRelay(server, address.port);
    return relay;
  }

  /** From now on the broker's replies stay in the relay. */
  holdReplies(): void {
    for (const { client, upstream } of this.#pairs) {
      upstream.unpipe(client);
      upstream.pause();
    }
  }

  async kill(): Promise<void> {
    for (const { client, upstream } of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.#pairs.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #pipe(client: Socket, targetPort: number): void {
    const upstream = createConnection({ host: "127.0.0.1", port: targetPort });
    const pair = { client, upstream };
    this.#pairs.add(pair);
    for (const socket of [client, upstream]) {
      socket.on("error", () => undefined);
      socket.once("close", () => {
        this.#pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
