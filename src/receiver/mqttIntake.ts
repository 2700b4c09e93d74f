/**
 * The receiver's MQTT side (issue #7 item 2): one mqtt.js 5 client at a time, a persistent session
 * (clean false + Session Expiry Interval) so the broker queues QoS 1 messages while the receiver
 * is down, a QoS 1 subscription (`$share/GROUP/FILTER` when a group is set), Receive Maximum to
 * bound what is held unacknowledged, reconnects with the uplink's doubling, jittered backoff.
 *
 * PUBACK only after the store has the message: each message comes with `ack()`, which the
 * service calls once the store's write() resolved; a message never acked is redelivered by the
 * broker (to this session, or to another receiver of the group) after a reconnect, so a receiver
 * killed mid-stream loses nothing the broker holds.
 *
 * Why not mqtt.js's `customHandleAcks`: in v5 (handlers/publish.js) the client handles the next
 * incoming packet only after the PUBACK of the current one is written, so holding that callback
 * until a store write resolves stalls the whole connection, one message per write and no
 * PINGRESP meanwhile. Instead the client's PUBACK write is held back here (its `_sendPacket` is
 * wrapped, for puback packets only, on each client we create) and released by `ack()`, so
 * messages keep flowing up to Receive Maximum. The wrapper is checked at start: an mqtt.js
 * without `_sendPacket` stops the start rather than acking early. Acks are per connection: after
 * a reconnect the old connection's acks are dropped and the broker redelivers those messages.
 */
import { connect, type IClientOptions, type IConnackPacket, type MqttClient, type Packet } from "mqtt";
import type { Clock } from "../clock.js";
import type { Logger } from "../observability/logger.js";
import { brokerLabel, mqttClientOptions, type SessionSettings } from "../uplink/mqttOptions.js";
import { ReconnectBackoff, STABLE_CONNECTION_MS } from "../uplink/reconnectBackoff.js";
import type { UplinkFiles } from "../uplink/uplinkFiles.js";

export interface IntakeSettings {
  readonly url: string;
  readonly clientId: string;
  readonly username?: string | undefined;
  readonly tls?: SessionSettings["tls"];
  readonly keepaliveMs: number;
  readonly connectTimeoutMs: number;
  readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number };
  /** The full subscription, `$share/GROUP/...` included. */
  readonly subscription: string;
  readonly sessionExpirySeconds: number;
  readonly receiveMaximum: number;
}

export interface IntakeMessage {
  readonly topic: string;
  readonly payload: Buffer;
  /** Wall-clock ms when it arrived. */
  readonly receivedAt: number;
  /** Sends the PUBACK, if the connection it came on is still open; idempotent. */
  ack(): void;
}

export interface IntakeDependencies {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Every message, in arrival order. */
  readonly onMessage: (message: IntakeMessage) => void;
  /** Tests only: a stand-in for mqtt.connect. */
  readonly createClient?: (url: string, options: IClientOptions) => MqttClient;
}

export interface IntakeStatus {
  readonly connected: boolean;
  readonly connections: number;
  readonly failures: number;
  /** Messages received and not yet acknowledged on the current connection. */
  readonly unacked: number;
}

type SendPacket = (packet: Packet, cb?: (error?: Error) => void, ...rest: unknown[]) => void;

/** One connection's held PUBACKs, by packet id. */
class HeldAcks {
  readonly #held = new Map<number, () => void>();
  readonly #early = new Set<number>();
  #open = true;

  hold(messageId: number, send: () => void): void {
    if (!this.#open) {
      return;
    }
    if (this.#early.delete(messageId)) {
      send();
    } else {
      this.#held.set(messageId, send);
    }
  }

  release(messageId: number): void {
    if (!this.#open) {
      return;
    }
    const send = this.#held.get(messageId);
    if (send === undefined) {
      // ack() before mqtt.js wrote the PUBACK (a synchronous handler): send it when it does.
      this.#early.add(messageId);
      return;
    }
    this.#held.delete(messageId);
    send();
  }

  get size(): number {
    return this.#held.size;
  }

  close(): void {
    this.#open = false;
    this.#held.clear();
    this.#early.clear();
  }
}

export class MqttIntake {
  readonly name = "receiver-intake";
  readonly #settings: IntakeSettings;
  readonly #files: UplinkFiles;
  readonly #deps: IntakeDependencies;
  readonly #logger: Logger;
  readonly #backoff: ReconnectBackoff;
  #client: MqttClient | undefined;
  #acks: HeldAcks | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;
  #connected = false;
  #connectedAt = 0;
  #connections = 0;
  #failures = 0;

  constructor(settings: IntakeSettings, files: UplinkFiles, deps: IntakeDependencies) {
    this.#settings = settings;
    this.#files = files;
    this.#deps = deps;
    this.#logger = deps.logger.child({ component: "intake" });
    this.#backoff = new ReconnectBackoff(settings.reconnect);
  }

  async start(): Promise<void> {
    this.#stopping = false;
    if (this.#settings.tls?.rejectUnauthorized === false) {
      this.#logger.warn(
        { broker: brokerLabel(this.#settings.url) },
        "receiver: tls.rejectUnauthorized is false: the broker's certificate is not verified",
      );
    }
    this.#logger.info(
      {
        broker: brokerLabel(this.#settings.url),
        clientId: this.#settings.clientId,
        subscription: this.#settings.subscription,
        sessionExpirySeconds: this.#settings.sessionExpirySeconds,
        receiveMaximum: this.#settings.receiveMaximum,
      },
      "receiver: connecting",
    );
    this.#attempt();
    await Promise.resolve();
  }

  /** Disconnects without acking anything more: what is not acked stays with the broker's session. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#acks?.close();
    this.#acks = undefined;
    const client = this.#client;
    this.#client = undefined;
    this.#connected = false;
    if (client === undefined) {
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        client.stream?.destroy();
        resolve();
      }, 2_000);
      // A normal DISCONNECT keeps the session: its expiry was set at CONNECT (MQTT 5 §3.14.2.2.2).
      client.end(!client.connected, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    client.removeAllListeners();
    client.on("error", () => undefined);
  }

  /** Drops the connection (held PUBACKs with it) and connects again after the backoff delay. */
  reconnect(): void {
    this.#client?.stream?.destroy();
  }

  status(): IntakeStatus {
    return {
      connected: this.#connected,
      connections: this.#connections,
      failures: this.#failures,
      unacked: this.#acks?.size ?? 0,
    };
  }

  #options(): IClientOptions {
    const session: SessionSettings = {
      url: this.#settings.url,
      mqttVersion: "5",
      clientId: this.#settings.clientId,
      username: this.#settings.username,
      keepaliveMs: this.#settings.keepaliveMs,
      connectTimeoutMs: this.#settings.connectTimeoutMs,
      reconnect: this.#settings.reconnect,
      tls: this.#settings.tls,
      statusTopic: "",
    };
    // The uplink's options (TLS, password, keepalive, no offline queue, our own reconnects), with
    // what a subscriber needs instead: a session the broker keeps, and no will (no status topic).
    const { will: _gatewayWill, ...options } = mqttClientOptions(session, this.#files);
    return {
      ...options,
      clean: false,
      properties: {
        sessionExpiryInterval: this.#settings.sessionExpirySeconds,
        receiveMaximum: this.#settings.receiveMaximum,
      },
    };
  }

  #attempt(): void {
    this.#timer = undefined;
    if (this.#stopping) {
      return;
    }
    const create = this.#deps.createClient ?? ((url, options) => connect(url, options));
    const client = create(this.#settings.url, this.#options());
    const acks = new HeldAcks();
    holdPubacks(client, acks);
    this.#client = client;
    this.#acks = acks;
    let connected = false;
    const why: { error?: string; serverReason?: number | undefined } = {};
    client.on("connect", (connack) => {
      if (client === this.#client && !connected) {
        connected = true;
        this.#onConnected(client, connack);
      }
    });
    client.on("message", (topic, payload, packet) => {
      if (client !== this.#client) {
        return;
      }
      const messageId = packet.qos > 0 ? packet.messageId : undefined;
      let acked = false;
      this.#deps.onMessage({
        topic,
        payload,
        receivedAt: this.#deps.clock.wallNow(),
        ack: () => {
          if (!acked && messageId !== undefined) {
            acked = true;
            acks.release(messageId);
          }
        },
      });
    });
    client.on("error", (error) => {
      why.error = error.message;
    });
    client.on("disconnect", (packet) => {
      why.serverReason = packet.reasonCode;
    });
    client.on("close", () => {
      if (client === this.#client) {
        this.#onClosed(client, acks, connected, why);
      }
    });
    client.connect();
  }

  #onConnected(client: MqttClient, connack: IConnackPacket): void {
    this.#connections++;
    this.#connected = true;
    this.#connectedAt = this.#deps.clock.monotonicNow();
    this.#logger.info(
      {
        broker: brokerLabel(this.#settings.url),
        connection: this.#connections,
        sessionPresent: connack.sessionPresent,
      },
      connack.sessionPresent
        ? "receiver: connected, the broker kept the session"
        : "receiver: connected with a new session",
    );
    // Subscribing again on a kept session is harmless (it replaces the same subscription);
    // rh 2: no retained messages on subscribing: the status words and health snapshots (§1) are
    // the only retained ones, and both are the latest state, not records to store.
    client.subscribe(this.#settings.subscription, { qos: 1, rh: 2 }, (error, granted) => {
      const code = granted?.[0]?.qos;
      if (error !== null && error !== undefined) {
        this.#logger.error({ err: error }, "receiver: the subscription failed");
      } else if (typeof code === "number" && code >= 0x80) {
        this.#logger.error(
          { subscription: this.#settings.subscription, reasonCode: code },
          "receiver: the broker refused the subscription",
        );
      } else {
        this.#logger.info({ subscription: this.#settings.subscription }, "receiver: subscribed");
      }
    });
  }

  #onClosed(
    client: MqttClient,
    acks: HeldAcks,
    wasConnected: boolean,
    why: { readonly error?: string; readonly serverReason?: number | undefined },
  ): void {
    this.#client = undefined;
    this.#acks = undefined;
    this.#connected = false;
    this.#failures++;
    acks.close();
    const reason =
      why.serverReason !== undefined && why.serverReason !== 0
        ? `the broker disconnected with reason code 0x${why.serverReason.toString(16)}`
        : (why.error ?? "the connection closed");
    if (wasConnected && this.#deps.clock.monotonicNow() - this.#connectedAt >= STABLE_CONNECTION_MS) {
      this.#backoff.reset();
    }
    this.#logger.warn(
      { broker: brokerLabel(this.#settings.url), reason },
      wasConnected ? "receiver: connection lost" : "receiver: connection failed",
    );
    client.removeAllListeners();
    client.on("error", () => undefined);
    client.end(true);
    if (!this.#stopping) {
      this.#timer = setTimeout(() => this.#attempt(), this.#backoff.next());
    }
  }
}

/** Holds the client's PUBACK writes in `acks` until released (see the file comment). */
function holdPubacks(client: MqttClient, acks: HeldAcks): void {
  const target = client as unknown as { _sendPacket?: SendPacket };
  const original = target._sendPacket;
  if (typeof original !== "function") {
    throw new Error("this mqtt.js has no _sendPacket: PUBACKs cannot be held until records are stored");
  }
  target._sendPacket = function (this: MqttClient, packet: Packet, cb?: (error?: Error) => void, ...rest) {
    if (packet.cmd !== "puback" || packet.messageId === undefined) {
      original.call(this, packet, cb, ...rest);
      return;
    }
    // mqtt.js goes on with the next incoming packet as soon as this callback runs.
    acks.hold(packet.messageId, () => {
      if (client.connected) {
        original.call(this, packet, undefined, ...rest);
      }
    });
    cb?.();
  };
}
