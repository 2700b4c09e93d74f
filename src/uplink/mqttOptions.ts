/**
 * The mqtt.js client options of one connection attempt (issue #5), from the session's settings and
 * the files read at start. Pure: no I/O, so a test can check exactly what the client is told.
 *
 * Choices, and why:
 * - reconnectPeriod 0: mqtt.js only knows a fixed reconnect period; the session drives reconnects
 *   itself, with doubling delays and jitter (reconnectBackoff.ts), and builds a fresh client for
 *   every attempt (mqttSession.ts says why).
 * - clean true: the ledger is our session. A persistent MQTT session would only make the broker
 *   expect us to resend its in-flight packet ids, which we do anyway from the acked cursor under
 *   new ids; the client id stays fixed so broker ACLs match and a new connection takes over a
 *   half-open old one.
 * - queueQoSZero false, resubscribe false: nothing may wait inside the client while it is
 *   offline (mqttjs#607, #2015); we publish only QoS 1 and subscribe to nothing.
 * - reschedulePings false: the ping goes every keepalive even under load; a half-open link is
 *   still noticed within about 1.5 × keepalive (FAULTS 8.1), since no PINGRESP then comes.
 * - will: retained QoS 1 "offline" on the status topic (docs/protocol.md §1).
 */
import type { IClientOptions } from "mqtt";
import type { UplinkFiles } from "./uplinkFiles.js";

export const STATUS_ONLINE = "online";
export const STATUS_OFFLINE = "offline";

export interface SessionSettings {
  /** mqtt://, mqtts://, ws:// or wss:// URL, without credentials (the schema refuses them). */
  readonly url: string;
  readonly mqttVersion: "5" | "3.1.1";
  readonly clientId: string;
  readonly username?: string | undefined;
  /** Read once at start (uplinkFiles.ts); the first line is the password. */
  readonly passwordFile?: string | undefined;
  readonly keepaliveMs: number;
  readonly connectTimeoutMs: number;
  readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number };
  readonly tls?:
    | {
        readonly caFile?: string | undefined;
        readonly certFile?: string | undefined;
        readonly keyFile?: string | undefined;
        readonly serverName?: string | undefined;
        readonly rejectUnauthorized: boolean;
      }
    | undefined;
  readonly statusTopic: string;
}

export function protocolVersionOf(settings: Pick<SessionSettings, "mqttVersion">): 4 | 5 {
  return settings.mqttVersion === "5" ? 5 : 4;
}

export function mqttClientOptions(settings: SessionSettings, files: UplinkFiles): IClientOptions {
  const options: IClientOptions = {
    protocolVersion: protocolVersionOf(settings),
    clientId: settings.clientId,
    clean: true,
    // MQTT counts keepalive in whole seconds; round up so that a dead link is never noticed early.
    keepalive: Math.ceil(settings.keepaliveMs / 1000),
    connectTimeout: settings.connectTimeoutMs,
    reconnectPeriod: 0,
    manualConnect: true,
    queueQoSZero: false,
    resubscribe: false,
    // Per packet, mqtt.js reschedules its ping timer and formats debug lines that nobody reads:
    // both showed in the uplink bench's profile. A ping every keepalive costs nothing.
    reschedulePings: false,
    log: () => undefined,
    will: {
      topic: settings.statusTopic,
      payload: Buffer.from(STATUS_OFFLINE),
      qos: 1,
      retain: true,
    },
  };
  if (settings.username !== undefined) {
    options.username = settings.username;
  }
  if (files.password !== undefined) {
    options.password = files.password;
  }
  if (files.ca !== undefined) {
    options.ca = files.ca;
  }
  if (files.cert !== undefined) {
    options.cert = files.cert;
  }
  if (files.key !== undefined) {
    options.key = files.key;
  }
  if (settings.tls !== undefined) {
    options.rejectUnauthorized = settings.tls.rejectUnauthorized;
    if (settings.tls.serverName !== undefined) {
      options.servername = settings.tls.serverName;
    }
  }
  return options;
}

/** The URL for logs: scheme, host and port only (the schema already refuses credentials in it). */
export function brokerLabel(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return "(unparsable url)";
  }
}
