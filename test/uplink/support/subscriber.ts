/**
 * An mqtt.js subscriber on a test broker: collects what arrives (topic, payload text, retain
 * flag), and opens envelopes with the gateway key ring the way a receiver would.
 */
import { connectAsync, type IClientOptions, type MqttClient } from "mqtt";
import { openEnvelope } from "../../../src/crypto/envelope/index.js";
import type { KeyRing } from "../../../src/crypto/keys/index.js";
import { waitUntil } from "../../helpers/waitUntil.js";

export interface Received {
  readonly topic: string;
  readonly payload: string;
  readonly retain: boolean;
}

export class Subscriber {
  readonly messages: Received[] = [];
  readonly #client: MqttClient;

  private constructor(client: MqttClient) {
    this.#client = client;
    client.on("message", (topic, payload, packet) => {
      this.messages.push({ topic, payload: payload.toString("utf8"), retain: packet.retain });
    });
  }

  static async connect(
    port: number,
    topics: readonly string[],
    options: IClientOptions = {},
  ): Promise<Subscriber> {
    const client = await connectAsync(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      ...options,
    });
    const subscriber = new Subscriber(client);
    await client.subscribeAsync([...topics], { qos: 1 });
    return subscriber;
  }

  on(topic: string): Received[] {
    return this.messages.filter((message) => message.topic === topic);
  }

  async waitFor(
    predicate: (messages: readonly Received[]) => boolean,
    description: string,
    timeoutMs = 15_000,
  ) {
    await waitUntil(() => predicate(this.messages), description, { timeoutMs });
  }

  async close(): Promise<void> {
    await this.#client.endAsync(true);
  }

  /** Resources calls this at the end of a test. */
  kill(): Promise<void> {
    return this.close();
  }
}

/** The ledger entry texts a message carries: its plaintext split at LF (docs/protocol.md, Batches). */
export function openRecords(keys: KeyRing | undefined, message: Received): string[] {
  const text =
    keys === undefined
      ? message.payload
      : Buffer.from(openEnvelope(keys, message.topic, message.payload).plaintext).toString("utf8");
  return text.split("\n");
}

/** The seq of each entry text. */
export function seqsOf(texts: readonly string[]): number[] {
  return texts.map((text) => {
    const match = /^\{"seq":"(\d+)"/.exec(text);
    if (match?.[1] === undefined) {
      throw new Error(`not an entry: ${text.slice(0, 80)}`);
    }
    return Number(match[1]);
  });
}
