/** Building an MqttSession against a test broker, and waiting on its connections. */
import { systemClock } from "../../../src/clock.js";
import type { SessionSettings } from "../../../src/uplink/mqttOptions.js";
import { type Connection, MqttSession } from "../../../src/uplink/mqttSession.js";
import { type MemoryLogger, memoryLogger } from "../../helpers/memoryLogger.js";
import { waitUntil } from "../../helpers/waitUntil.js";

export const GATEWAY = "gw-test";
export const SITE = "lab";
export const STATUS_TOPIC = `edgewarden/${SITE}/${GATEWAY}/status`;

export function sessionSettings(port: number, overrides: Partial<SessionSettings> = {}): SessionSettings {
  return {
    url: `mqtt://127.0.0.1:${port}`,
    mqttVersion: "5",
    clientId: `edgewarden-${GATEWAY}`,
    keepaliveMs: 30_000,
    connectTimeoutMs: 5_000,
    reconnect: { initialDelayMs: 100, maxDelayMs: 400 },
    statusTopic: STATUS_TOPIC,
    ...overrides,
  };
}

/** A session with an in-memory log; kill() stops it (for Resources). */
export class TestSession {
  readonly session: MqttSession;
  readonly log: MemoryLogger;
  #started = false;

  constructor(settings: SessionSettings) {
    this.log = memoryLogger();
    this.session = new MqttSession(settings, { clock: systemClock, logger: this.log.logger });
  }

  async start(): Promise<void> {
    this.#started = true;
    await this.session.start(new AbortController().signal);
  }

  async connected(timeoutMs = 10_000): Promise<Connection> {
    await waitUntil(() => this.session.current() !== undefined, "the session to connect", { timeoutMs });
    const connection = this.session.current();
    if (connection === undefined) {
      throw new Error("lost the connection at once");
    }
    return connection;
  }

  messages(): string[] {
    return this.log.lines.map((line) => String(line.msg));
  }

  async kill(): Promise<void> {
    if (this.#started) {
      this.#started = false;
      await this.session.stop();
    }
  }
}
