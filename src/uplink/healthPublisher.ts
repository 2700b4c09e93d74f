/**
 * The gateway's health on MQTT (issue #7 item 3: "Health is also published on MQTT (retained) at
 * an interval"; docs/protocol.md §1, "Health"): a snapshot every `observability.health.interval`
 * and once right after each connect, QoS 1 and retained on `{prefix}/{site}/{gateway}/health`, so
 * a dashboard that subscribes later gets the latest one at once.
 *
 * - Sealed like a record (DESIGN.md: nothing in clear unless `encryption: none`): the key of the
 *   pseudo-device `_gateway` under the active key id, header seq = the chain head's seq when the
 *   snapshot was taken. The topic is in the associated data (§4), so a health payload never opens
 *   as a record and a record never opens as health.
 * - A snapshot, not history: never written to the ledger, never queued. While offline a tick is
 *   skipped and counted; at most one health message is in flight, and a tick that finds one still
 *   unanswered is skipped and counted too, so a slow broker cannot pile them up.
 */
import type { Clock } from "../clock.js";
import { sealEnvelope } from "../crypto/envelope/index.js";
import type { KeyRing } from "../crypto/keys/index.js";
import type { Component } from "../daemon/component.js";
import { NO_DEVICE } from "../ledger/ledgerEntry.js";
import type { Logger } from "../observability/logger.js";
import type { Connection, ConnectionListener, MqttSession, PublishOutcome } from "./mqttSession.js";
import { describeReasonCode } from "./pubackPolicy.js";
import type { Encryption } from "./sealRecord.js";

/** The last level of the health topic; `{prefix}/{site}/{gateway}/health` (docs/protocol.md §1). */
export const HEALTH_LEVEL = "health";

export function healthTopicOf(settings: {
  readonly prefix: string;
  readonly site: string;
  readonly gateway: string;
}): string {
  return `${settings.prefix}/${settings.site}/${settings.gateway}/${HEALTH_LEVEL}`;
}

/** One snapshot: the document (plain JSON data) and the chain head's seq when it was taken. */
export interface HealthSnapshot {
  readonly seq: number;
  readonly document: unknown;
}

export interface HealthPublisherSettings {
  readonly topic: string;
  readonly intervalMs: number;
  readonly gateway: string;
  readonly encryption: Encryption;
  /** The gateway key ring; required for ascon-aead128. Sealed under its activeKeyId(). */
  readonly keyRing?: KeyRing | undefined;
}

export interface HealthPublisherDependencies {
  readonly session: Pick<MqttSession, "onConnection" | "current">;
  readonly snapshot: () => Promise<HealthSnapshot>;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface HealthPublisherStats {
  /** Handed to the MQTT client. */
  readonly published: number;
  readonly acked: number;
  /** MQTT 5 PUBACKs with a failure reason code. */
  readonly refused: number;
  /** Connections that went before the PUBACK came. */
  readonly lost: number;
  /** Ticks with no connection: nothing is queued (issue #5's rule for everything we publish). */
  readonly skippedOffline: number;
  /** Ticks while the previous health message was still unanswered. */
  readonly skippedBusy: number;
  /** Snapshots or seals that threw (logged). */
  readonly failed: number;
}

type Counts = { -readonly [K in keyof HealthPublisherStats]: number };

/** The payload of one health snapshot for `topic`; the JSON itself with `encryption: none`. */
export function sealHealth(
  settings: Pick<HealthPublisherSettings, "gateway" | "encryption" | "keyRing">,
  topic: string,
  snapshot: HealthSnapshot,
  ts: number,
): string {
  const text = JSON.stringify(snapshot.document);
  if (settings.encryption === "none") {
    return text;
  }
  const ring = settings.keyRing;
  if (ring === undefined) {
    throw new TypeError("sealing health with ascon-aead128 needs the gateway key ring");
  }
  return sealEnvelope(ring, {
    topic,
    header: {
      gateway: settings.gateway,
      device: NO_DEVICE,
      keyId: ring.activeKeyId(),
      seq: BigInt(snapshot.seq),
      ts,
    },
    plaintext: Buffer.from(text, "utf8"),
  });
}

export class HealthPublisher implements Component {
  readonly name = "health-publisher";
  readonly #settings: HealthPublisherSettings;
  readonly #deps: HealthPublisherDependencies;
  readonly #logger: Logger;
  readonly #counts: Counts = {
    published: 0,
    acked: 0,
    refused: 0,
    lost: 0,
    skippedOffline: 0,
    skippedBusy: 0,
    failed: 0,
  };
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #stopped = true;
  /** The snapshot being taken and sealed, if any. */
  #preparing: Promise<void> | undefined;
  /** The connection whose PUBACK for the last health message is awaited, if any. */
  #awaiting: Connection | undefined;

  constructor(settings: HealthPublisherSettings, deps: HealthPublisherDependencies) {
    this.#settings = settings;
    this.#deps = deps;
    this.#logger = deps.logger;
  }

  start(_signal: AbortSignal): Promise<void> {
    if (this.#settings.encryption !== "none" && this.#settings.keyRing === undefined) {
      return Promise.reject(new TypeError("sealing health with ascon-aead128 needs the gateway key ring"));
    }
    this.#stopped = false;
    const listener: ConnectionListener = {
      connected: () => this.publishNow(),
      disconnected: (connection) => {
        if (this.#awaiting === connection) {
          this.#awaiting = undefined;
        }
      },
    };
    this.#unsubscribe = this.#deps.session.onConnection(listener);
    this.#timer = setInterval(() => this.publishNow(), this.#settings.intervalMs);
    if (this.#deps.session.current() !== undefined) {
      this.publishNow();
    }
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    await this.#preparing;
    this.#awaiting = undefined;
  }

  stats(): HealthPublisherStats {
    return { ...this.#counts };
  }

  /** Takes a snapshot and publishes it now, unless offline or one is still in flight (counted). */
  publishNow(): void {
    if (this.#stopped) {
      return;
    }
    if (this.#preparing !== undefined || this.#awaiting !== undefined) {
      this.#counts.skippedBusy++;
      return;
    }
    if (this.#deps.session.current()?.open !== true) {
      this.#counts.skippedOffline++;
      return;
    }
    this.#preparing = this.#prepareAndPublish()
      .catch((error: unknown) => {
        this.#counts.failed++;
        this.#logger.warn({ err: error }, "uplink: the health snapshot could not be published");
      })
      .finally(() => {
        this.#preparing = undefined;
      });
  }

  async #prepareAndPublish(): Promise<void> {
    const snapshot = await this.#deps.snapshot();
    // The connection may have gone while the snapshot was taken: look again, and never queue.
    const connection = this.#deps.session.current();
    if (this.#stopped || connection?.open !== true) {
      this.#counts.skippedOffline++;
      return;
    }
    const { topic } = this.#settings;
    const payload = sealHealth(this.#settings, topic, snapshot, this.#deps.clock.wallNow());
    this.#awaiting = connection;
    const handed = connection.publish(
      topic,
      payload,
      (outcome) => this.#onOutcome(connection, snapshot.seq, outcome),
      { retain: true },
    );
    if (!handed) {
      this.#awaiting = undefined;
      this.#counts.skippedOffline++;
      return;
    }
    this.#counts.published++;
    this.#logger.debug({ topic, seq: snapshot.seq, bytes: payload.length }, "uplink: health published");
  }

  #onOutcome(connection: Connection, seq: number, outcome: PublishOutcome): void {
    if (this.#awaiting === connection) {
      this.#awaiting = undefined;
    }
    switch (outcome.kind) {
      case "acked":
        this.#counts.acked++;
        return;
      case "refused":
        this.#counts.refused++;
        this.#logger.warn(
          { seq, reasonCode: outcome.reasonCode, reason: describeReasonCode(outcome.reasonCode) },
          "uplink: the broker refused the health message",
        );
        return;
      case "lost":
        this.#counts.lost++;
        return;
    }
  }
}
