/**
 * The MQTT session (issue #5, item 5): one broker connection at a time on mqtt.js 5, the retained
 * birth "online" on every connect, the LWT "offline", a clean stop that says "offline" itself, and
 * reconnects with doubling, jittered delays (reconnectBackoff.ts).
 *
 * Why a fresh MqttClient per connection attempt, with mqtt.js's own reconnect off:
 * - mqtt.js only has a fixed reconnectPeriod; we need initialDelay..maxDelay with jitter.
 * - mqtt.js keeps QoS 1 publishes made while offline in memory and replays its outgoing store
 *   after a reconnect; both have lost or duplicated data (mqttjs#607, #2015). The rule here
 *   (issue #5) is that nothing is handed to the client while it is disconnected and records live
 *   in the ledger only. A new client has empty stores, so a reconnect replays nothing; the
 *   forwarder resumes from the acked cursor instead. The old client is ended with force, which
 *   fails its pending callbacks at once (reconnectPeriod 0 + clean), and all its listeners go with
 *   it: no listener accumulates across reconnects (FAULTS 8.1, mqttjs#1038).
 * - A Connection is the forwarder's handle on one connected client: publish() refuses, handing
 *   nothing over, from the moment the client is not connected.
 */
import { connect, type IClientOptions, type IConnackPacket, type MqttClient } from "mqtt";
import type { Clock } from "../clock.js";
import { abortable, type Component } from "../daemon/component.js";
import type { Logger } from "../observability/logger.js";
import { type Connection, type ConnectionListener, LiveConnection, outcomeOf } from "./connection.js";
import {
  brokerLabel,
  mqttClientOptions,
  protocolVersionOf,
  type SessionSettings,
  STATUS_OFFLINE,
  STATUS_ONLINE,
} from "./mqttOptions.js";
import { ReconnectBackoff, STABLE_CONNECTION_MS } from "./reconnectBackoff.js";
import { readUplinkFiles, type UplinkFiles } from "./uplinkFiles.js";

/** How long a clean stop waits for the PUBACK of "offline", and then for the DISCONNECT to go out. */
export const STOP_STEP_TIMEOUT_MS = 2_000;

export type { Connection, ConnectionListener, PublishOutcome } from "./connection.js";

export type SessionState = "idle" | "connecting" | "connected" | "waiting" | "stopped";

export interface SessionStatus {
  readonly state: SessionState;
  /** Monotonic ms when the state was entered. */
  readonly since: number;
  /** Successful connections so far. */
  readonly connections: number;
  /** Attempts that did not reach a CONNACK, and connections lost. */
  readonly failures: number;
  /** Why the last attempt failed or the last connection was lost; undefined once connected again. */
  readonly lastError: string | undefined;
}

export type ClientFactory = (url: string, options: IClientOptions) => MqttClient;

export interface SessionDependencies {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Tests only: a stand-in for mqtt.connect. */
  readonly createClient?: ClientFactory;
  /** Tests only: the jitter source. */
  readonly random?: () => number;
}

export class MqttSession implements Component {
  readonly name = "uplink-session";
  readonly #settings: SessionSettings;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #createClient: ClientFactory;
  readonly #backoff: ReconnectBackoff;
  readonly #listeners = new Set<ConnectionListener>();
  #files: UplinkFiles = {};
  #client: MqttClient | undefined;
  #connection: LiveConnection | undefined;
  #connectedAt = 0;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #stopping = false;
  #state: SessionState = "idle";
  #since: number;
  #connections = 0;
  #failures = 0;
  #lastError: string | undefined;

  constructor(settings: SessionSettings, deps: SessionDependencies) {
    this.#settings = settings;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#createClient = deps.createClient ?? ((url, options) => connect(url, options));
    this.#backoff = new ReconnectBackoff(
      { initialDelayMs: settings.reconnect.initialDelayMs, maxDelayMs: settings.reconnect.maxDelayMs },
      deps.random,
    );
    this.#since = deps.clock.monotonicNow();
  }

  async start(signal: AbortSignal): Promise<void> {
    this.#stopping = false;
    this.#files = await abortable(readUplinkFiles(this.#settings), signal);
    if (this.#settings.tls?.rejectUnauthorized === false) {
      this.#logger.warn(
        { broker: brokerLabel(this.#settings.url) },
        "uplink: tls.rejectUnauthorized is false: the broker's certificate is not verified; anyone on the path can read and alter the uplink",
      );
    }
    this.#logger.info(
      {
        broker: brokerLabel(this.#settings.url),
        clientId: this.#settings.clientId,
        mqttVersion: this.#settings.mqttVersion,
      },
      "uplink: connecting",
    );
    this.#attempt();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const client = this.#client;
    const connection = this.#connection;
    this.#client = undefined;
    this.#connection = undefined;
    if (connection !== undefined) {
      connection.close();
      this.#notifyDisconnected(connection, "stopping");
    }
    if (client !== undefined) {
      // A broker that goes away meanwhile must not hold the stop for the whole timeouts.
      const closed = new Promise<false>((resolve) => client.once("close", () => resolve(false)));
      if (client.connected) {
        await this.#sayOffline(client, closed);
        await endClient(client, false, closed);
      } else {
        await endClient(client, true, closed);
      }
      client.removeAllListeners();
      client.on("error", () => undefined);
    }
    this.#files = {};
    this.#setState("stopped");
  }

  /** The open connection, if any. */
  current(): Connection | undefined {
    return this.#connection?.open ? this.#connection : undefined;
  }

  /** Called on every connect and disconnect until the returned function is called. */
  onConnection(listener: ConnectionListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  status(): SessionStatus {
    return {
      state: this.#state,
      since: this.#since,
      connections: this.#connections,
      failures: this.#failures,
      lastError: this.#lastError,
    };
  }

  #attempt(): void {
    this.#reconnectTimer = undefined;
    if (this.#stopping) {
      return;
    }
    const client = this.#createClient(this.#settings.url, mqttClientOptions(this.#settings, this.#files));
    this.#client = client;
    this.#setState("connecting");
    let connection: LiveConnection | undefined;
    const why: { error?: string; serverReason?: number | undefined } = {};
    client.on("connect", (connack) => {
      if (client !== this.#client || connection !== undefined) {
        return;
      }
      connection = this.#onConnected(client, connack);
    });
    client.on("error", (error) => {
      why.error = describeError(error);
    });
    client.on("disconnect", (packet) => {
      // MQTT 5 servers say why they close (0x8E session taken over, 0x95 packet too large, ...).
      why.serverReason = packet.reasonCode;
    });
    client.on("close", () => {
      if (client !== this.#client) {
        return;
      }
      this.#onClosed(client, connection, why);
    });
    client.connect();
  }

  #onConnected(client: MqttClient, connack: IConnackPacket): LiveConnection {
    this.#lastError = undefined;
    // The forwarder writes its publishes in bursts (one per turn of the event loop); Nagle would
    // hold each burst until the previous segment is acknowledged, which halved throughput.
    const socket = client.stream as { setNoDelay?: (noDelay: boolean) => unknown } | undefined;
    socket?.setNoDelay?.(true);
    this.#connections++;
    this.#connectedAt = this.#clock.monotonicNow();
    const connection = new LiveConnection(
      this.#connections,
      client,
      protocolVersionOf(this.#settings),
      connack,
    );
    this.#logger.info(
      {
        broker: brokerLabel(this.#settings.url),
        connection: connection.id,
        receiveMaximum: connection.receiveMaximum,
        maximumPacketSize: connection.maximumPacketSize,
      },
      "uplink: connected",
    );
    // The birth goes out before any record on this connection (docs/protocol.md §1).
    client.publish(this.#settings.statusTopic, STATUS_ONLINE, { qos: 1, retain: true }, (error) => {
      const outcome = outcomeOf(error, undefined);
      if (outcome.kind === "refused") {
        this.#logger.warn(
          { reasonCode: outcome.reasonCode },
          "uplink: the broker refused the status message",
        );
      }
    });
    this.#connection = connection;
    this.#setState("connected");
    for (const listener of [...this.#listeners]) {
      try {
        listener.connected(connection);
      } catch (error) {
        this.#logger.error({ err: error }, "uplink: a connection listener failed");
      }
    }
    return connection;
  }

  #onClosed(
    client: MqttClient,
    connection: LiveConnection | undefined,
    why: { readonly error?: string; readonly serverReason?: number | undefined },
  ): void {
    this.#client = undefined;
    this.#failures++;
    const reason =
      why.serverReason !== undefined && why.serverReason !== 0
        ? `the broker disconnected with reason code 0x${why.serverReason.toString(16)}`
        : (why.error ?? "the connection closed");
    this.#lastError = reason;
    if (connection !== undefined) {
      connection.close();
      this.#connection = undefined;
      if (this.#clock.monotonicNow() - this.#connectedAt >= STABLE_CONNECTION_MS) {
        this.#backoff.reset();
      }
      this.#logger.warn({ connection: connection.id, reason }, "uplink: connection lost");
      this.#notifyDisconnected(connection, reason);
    } else {
      this.#logger.warn({ broker: brokerLabel(this.#settings.url), reason }, "uplink: connection failed");
    }
    // Fails the old client's pending callbacks now (they belong to a closed Connection) and drops
    // every listener with it; an error listener stays so a late socket error cannot crash us.
    client.removeAllListeners();
    client.on("error", () => undefined);
    client.end(true);
    if (!this.#stopping) {
      const delay = this.#backoff.next();
      this.#setState("waiting");
      this.#reconnectTimer = setTimeout(() => this.#attempt(), delay);
    }
  }

  #notifyDisconnected(connection: Connection, reason: string): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener.disconnected(connection, reason);
      } catch (error) {
        this.#logger.error({ err: error }, "uplink: a connection listener failed");
      }
    }
  }

  /** A clean stop tells subscribers itself; the broker drops the will on a normal DISCONNECT. */
  async #sayOffline(client: MqttClient, closed: Promise<false>): Promise<void> {
    const acked = new Promise<boolean>((resolve) => {
      client.publish(this.#settings.statusTopic, STATUS_OFFLINE, { qos: 1, retain: true }, (error) =>
        resolve(error === undefined || error === null),
      );
    });
    const published = await withTimeout(Promise.race([acked, closed]), STOP_STEP_TIMEOUT_MS, false);
    if (!published) {
      this.#logger.warn("uplink: the offline status was not acknowledged before stopping");
    }
  }

  #setState(state: SessionState): void {
    if (state !== this.#state) {
      this.#state = state;
      this.#since = this.#clock.monotonicNow();
    }
  }
}

/** Ends a client; a graceful end that outlasts STOP_STEP_TIMEOUT_MS is forced. */
async function endClient(client: MqttClient, force: boolean, closed: Promise<false>): Promise<void> {
  const ended = new Promise<boolean>((resolve) => {
    client.end(force, {}, () => resolve(true));
  });
  if (!(await withTimeout(Promise.race([ended, closed]), STOP_STEP_TIMEOUT_MS, false))) {
    // end(true) is a no-op once a graceful end is under way: close the socket directly.
    client.stream?.destroy();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  return new Promise<T>((resolve) => {
    const timer = setTimeout(() => resolve(fallback), ms);
    void promise.then((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

function describeError(error: Error): string {
  const code: unknown = (error as { code?: unknown }).code;
  if (typeof code === "number") {
    return `${error.message} (reason code 0x${code.toString(16)})`;
  }
  return typeof code === "string" && !error.message.includes(code)
    ? `${code}: ${error.message}`
    : error.message;
}
