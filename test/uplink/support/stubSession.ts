/**
 * A session whose PUBACKs the test hands out: for the faults no real broker produces on demand
 * (PUBACKs out of order, a broker that never answers, PUBACK 0x99 or 0x90), the forwarder runs
 * on this instead of an MqttSession. Everything else in those tests is real (Ledger, LevelDB).
 */
import type { Connection, ConnectionListener, PublishOutcome } from "../../../src/uplink/mqttSession.js";

export interface StubPublish {
  readonly topic: string;
  readonly payload: string;
  readonly connection: number;
  readonly answer: (outcome: PublishOutcome) => void;
}

export class StubConnection implements Connection {
  readonly id: number;
  readonly protocolVersion = 5 as const;
  readonly maximumPacketSize: number | undefined;
  readonly receiveMaximum: number | undefined;
  readonly published: StubPublish[] = [];
  open = true;
  readonly #auto: ((publish: StubPublish) => PublishOutcome | undefined) | undefined;

  constructor(
    id: number,
    options: {
      maximumPacketSize?: number;
      receiveMaximum?: number;
      /** Answers at once (on the next tick) when it returns an outcome; undefined leaves it pending. */
      auto?: (publish: StubPublish) => PublishOutcome | undefined;
    } = {},
  ) {
    this.id = id;
    this.maximumPacketSize = options.maximumPacketSize;
    this.receiveMaximum = options.receiveMaximum;
    this.#auto = options.auto;
  }

  publish(topic: string, payload: string | Buffer, done: (outcome: PublishOutcome) => void): boolean {
    if (!this.open) {
      return false;
    }
    const publish = { topic, payload: payload.toString(), connection: this.id, answer: done };
    this.published.push(publish);
    const outcome = this.#auto?.(publish);
    if (outcome !== undefined) {
      setImmediate(() => done(outcome));
    }
    return true;
  }
}

export const ACKED: PublishOutcome = { kind: "acked", reasonCode: 0 };

export class StubSession {
  readonly #listeners = new Set<ConnectionListener>();
  #current: StubConnection | undefined;

  onConnection(listener: ConnectionListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  current(): Connection | undefined {
    return this.#current;
  }

  connect(connection: StubConnection): void {
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

/** The seq of an unencrypted payload (encryption none publishes the entry text). */
export function seqOfPayload(payload: string): number {
  const match = /^\{"seq":"(\d+)"/.exec(payload);
  return Number(match?.[1] ?? Number.NaN);
}
