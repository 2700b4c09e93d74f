/**
 * The demo's receiver (issue #7 item 4: "anomalies as they are raised, decrypted on the receiver
 * side"): an in-process MQTT subscriber on the embedded broker that hands every message to the
 * receiver's verification core (ReceiverCore: open with the demo's gateway key, check the chain
 * and the checkpoints) and reports each outcome to the live view. Nothing is stored: the demo
 * shows what an upstream consumer gets, the `receive` command stores it.
 *
 * The constructor does no I/O; start() connects and subscribes, stop() disconnects.
 */
import { connectAsync, type MqttClient } from "mqtt";
import type { GatewayKeyFile } from "../crypto/keys/index.js";
import {
  ReceiverCore,
  type ReceiverCounters,
  ReceiverKeys,
  type ReceiverOutcome,
  type TopicSettings,
} from "../receiver/index.js";

export interface DemoReceiverOptions {
  /** mqtt://127.0.0.1:N of the embedded broker. */
  readonly url: string;
  readonly topics: TopicSettings;
  readonly gateway: string;
  readonly key: GatewayKeyFile;
  readonly onOutcome: (outcome: ReceiverOutcome) => void;
}

export class DemoReceiver {
  readonly #options: DemoReceiverOptions;
  readonly #core: ReceiverCore;
  #client: MqttClient | undefined;

  constructor(options: DemoReceiverOptions) {
    this.#options = options;
    this.#core = new ReceiverCore({
      topics: options.topics,
      keys: new ReceiverKeys([
        { file: options.key, source: "the demo's gateway key", gateway: options.gateway },
      ]),
    });
  }

  get counters(): Readonly<ReceiverCounters> {
    return this.#core.counters;
  }

  async start(): Promise<void> {
    const client = await connectAsync(this.#options.url, {
      // aedes speaks MQTT 3.1.1 (embeddedBroker.ts).
      protocolVersion: 4,
      clientId: `edgewarden-demo-receiver-${process.pid}`,
      clean: true,
      reconnectPeriod: 500,
      connectTimeout: 5_000,
    });
    this.#client = client;
    client.on("message", (topic, payload) => this.#receive(topic, payload));
    await client.subscribeAsync(`${this.#options.topics.prefix}/#`, { qos: 1 });
  }

  async stop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.endAsync(true);
  }

  /** Records, the sealed health snapshot and the birth/LWT status word all go to the core. */
  #receive(topic: string, payload: Buffer): void {
    for (const outcome of this.#core.receive({ topic, payload, receivedAt: Date.now() })) {
      this.#options.onOutcome(outcome);
    }
  }
}
