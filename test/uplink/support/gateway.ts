/**
 * The gateway side of an uplink test: a real Ledger in a temp dir, an MqttSession and a Forwarder,
 * started and stopped in the daemon's order (ledger, session, forwarder; stop in reverse). The
 * ledger directory survives stop(), so a test can start the gateway again (a restart).
 */
import { type Clock, systemClock } from "../../../src/clock.js";
import type { KeyRing } from "../../../src/crypto/keys/index.js";
import { Ledger, type LedgerOptions } from "../../../src/ledger/ledger.js";
import type { EntryFields, LedgerEntry } from "../../../src/ledger/ledgerEntry.js";
import { Forwarder, type ForwarderSettings } from "../../../src/uplink/forwarder.js";
import type { SessionSettings } from "../../../src/uplink/mqttOptions.js";
import { TopicRenderer } from "../../../src/uplink/topics.js";
import { type MemoryLogger, memoryLogger } from "../../helpers/memoryLogger.js";
import { GATEWAY, SITE, sessionSettings, TestSession } from "./session.js";

export const TEMPLATE = "{prefix}/{site}/{gateway}/{device}/{stream}";

export function topicOf(device: string, stream: string): string {
  return `edgewarden/${SITE}/${GATEWAY}/${device}/${stream}`;
}

export interface GatewayOptions {
  readonly ledgerDir: string;
  readonly brokerPort: number;
  readonly keyRing?: KeyRing;
  readonly forwarder?: Partial<Omit<ForwarderSettings, "topics" | "gateway">>;
  readonly session?: Partial<SessionSettings>;
  readonly ledger?: Partial<LedgerOptions>;
  /** The ledger's clock (default systemClock). */
  readonly ledgerClock?: Clock;
}

export class TestGateway {
  readonly options: GatewayOptions;
  readonly log: MemoryLogger = memoryLogger();
  ledger: Ledger | undefined;
  session: TestSession | undefined;
  forwarder: Forwarder | undefined;

  constructor(options: GatewayOptions) {
    this.options = options;
  }

  get theLedger(): Ledger {
    if (this.ledger === undefined) {
      throw new Error("the ledger is not open");
    }
    return this.ledger;
  }

  get theForwarder(): Forwarder {
    if (this.forwarder === undefined) {
      throw new Error("the forwarder is not running");
    }
    return this.forwarder;
  }

  async openLedger(): Promise<Ledger> {
    const ledger = new Ledger(
      {
        dir: this.options.ledgerDir,
        commitIntervalMs: 10,
        commitMaxRecords: 1_000,
        degradedBufferRecords: 100_000,
        retention: { maxBytes: 2 ** 40, maxAgeMs: 3_650 * 86_400_000, checkIntervalMs: 3_600_000 },
        ...this.options.ledger,
      },
      { clock: this.options.ledgerClock ?? systemClock, logger: this.log.logger },
    );
    await ledger.start(new AbortController().signal);
    this.ledger = ledger;
    return ledger;
  }

  /** Session and forwarder, on the open ledger. */
  async startUplink(): Promise<Forwarder> {
    const ledger = this.theLedger;
    const session = new TestSession(sessionSettings(this.options.brokerPort, this.options.session));
    const forwarder = new Forwarder(
      {
        gateway: GATEWAY,
        topics: new TopicRenderer({ prefix: "edgewarden", site: SITE, gateway: GATEWAY, template: TEMPLATE }),
        encryption: this.options.keyRing === undefined ? "none" : "ascon-aead128",
        keyRing: this.options.keyRing,
        inflight: 64,
        batch: { maxRecords: 1, maxBytes: 65_536 },
        retry: { initialDelayMs: 100, maxDelayMs: 400 },
        ...this.options.forwarder,
      },
      {
        reader: ledger,
        appender: ledger,
        session: session.session,
        clock: systemClock,
        logger: this.log.logger,
      },
    );
    this.session = session;
    this.forwarder = forwarder;
    await session.start();
    await forwarder.start(new AbortController().signal);
    return forwarder;
  }

  async stopUplink(): Promise<void> {
    await this.forwarder?.stop();
    await this.session?.kill();
    this.forwarder = undefined;
    this.session = undefined;
  }

  async stop(): Promise<void> {
    await this.stopUplink();
    await this.ledger?.stop();
    this.ledger = undefined;
  }

  kill(): Promise<void> {
    return this.stop();
  }

  /** Appends and waits until every one is durable. */
  append(fields: readonly EntryFields[]): Promise<LedgerEntry[]> {
    const ledger = this.theLedger;
    return Promise.all(fields.map((f) => ledger.append(f)));
  }
}

let counter = 0;

export function sample(device = "press-2", extra: Partial<EntryFields> = {}): EntryFields {
  counter++;
  return {
    ts: 1_767_225_600_000 + counter,
    clockSynced: true,
    kind: "sample",
    device,
    body: `{"device":"${device}","values":{"temp":{"value":${counter % 1000},"quality":"good"}}}`,
    ...extra,
  };
}

export function samples(count: number, device = "press-2"): EntryFields[] {
  return Array.from({ length: count }, () => sample(device));
}
