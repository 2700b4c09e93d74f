/**
 * One broker connection as the forwarder sees it (issue #5): QoS 1 publishes with their outcome,
 * and the limits the CONNACK announced. publish() hands nothing to the client, and says so, once
 * the client is not connected: records live in the ledger, never in mqtt.js's offline queue.
 */
import type { IConnackPacket, MqttClient, Packet } from "mqtt";

export type PublishOutcome =
  /** PUBACK with a success code (0, or 0x10 "no matching subscribers"). */
  | { readonly kind: "acked"; readonly reasonCode: number }
  /** MQTT 5 PUBACK with a failure reason code (>= 0x80): the broker did not take the message. */
  | { readonly kind: "refused"; readonly reasonCode: number }
  /** The connection went away before a PUBACK came. */
  | { readonly kind: "lost"; readonly error: Error };

export interface Connection {
  /** 1 for the first connection of this session, then 2, ... */
  readonly id: number;
  readonly protocolVersion: 4 | 5;
  /** MQTT 5 CONNACK Maximum Packet Size, if the broker announced one. */
  readonly maximumPacketSize: number | undefined;
  /** MQTT 5 CONNACK Receive Maximum: QoS 1 publishes the broker accepts unacknowledged at once. */
  readonly receiveMaximum: number | undefined;
  readonly open: boolean;
  /**
   * QoS 1, not retained unless `options.retain` (the health snapshot, docs/protocol.md §1). Returns
   * false, and hands nothing to the client, once the connection is gone.
   */
  publish(
    topic: string,
    payload: string | Buffer,
    done: (outcome: PublishOutcome) => void,
    options?: { readonly retain?: boolean },
  ): boolean;
}

export interface ConnectionListener {
  connected(connection: Connection): void;
  disconnected(connection: Connection, reason: string): void;
}

export class LiveConnection implements Connection {
  readonly id: number;
  readonly protocolVersion: 4 | 5;
  readonly maximumPacketSize: number | undefined;
  readonly receiveMaximum: number | undefined;
  readonly #client: MqttClient;
  #open = true;

  constructor(id: number, client: MqttClient, protocolVersion: 4 | 5, connack: IConnackPacket) {
    this.id = id;
    this.#client = client;
    this.protocolVersion = protocolVersion;
    this.maximumPacketSize = connack.properties?.maximumPacketSize;
    this.receiveMaximum = connack.properties?.receiveMaximum;
  }

  get open(): boolean {
    return this.#open && this.#client.connected && !this.#client.disconnecting;
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
    this.#client.publish(topic, payload, { qos: 1, retain: options?.retain === true }, (error, packet) =>
      done(outcomeOf(error, packet)),
    );
    return true;
  }

  close(): void {
    this.#open = false;
  }
}

export function outcomeOf(error: Error | undefined, packet: Packet | undefined): PublishOutcome {
  if (error === undefined || error === null) {
    const code = packet !== undefined && "reasonCode" in packet ? packet.reasonCode : undefined;
    return { kind: "acked", reasonCode: typeof code === "number" ? code : 0 };
  }
  const code: unknown = (error as { code?: unknown }).code;
  return typeof code === "number" ? { kind: "refused", reasonCode: code } : { kind: "lost", error };
}
