/**
 * The store-and-forward half of the composition root (issue #5): the ledger, the events routed
 * into it, the gateway keys, keyed checkpoints, the MQTT session and the forwarder, and their
 * metrics. Every source depends on the ledger (LEDGER_ID): a record is appended once and
 * everything downstream reads the log (DESIGN.md "One write path").
 */
import { join } from "node:path";
import type { Config } from "../config/schema/index.js";
import { Checkpointer } from "../ledger/checkpointer.js";
import { Ledger } from "../ledger/ledger.js";
import type { LedgerAppender } from "../ledger/ledgerPorts.js";
import { Forwarder } from "../uplink/forwarder.js";
import { MqttSession } from "../uplink/mqttSession.js";
import { TopicRenderer } from "../uplink/topics.js";
import { forwarderSettingsOf, sessionSettingsOf, topicSettingsOf } from "../uplink/uplinkSettings.js";
import { type Component, type ComponentSpec, canonicalKey } from "./component.js";
import { type DurableReport, reportingAppender } from "./durableReport.js";
import { fileStamp, GatewayKeys } from "./gatewayKeys.js";
import type { LedgerEventSink } from "./ledgerEventSink.js";
import { PipelineMetrics } from "./pipelineMetrics.js";

export const LEDGER_ID = "ledger";
export const KEYS_ID = "gateway-keys";
export const SESSION_ID = "uplink-session";
export const FORWARDER_ID = "uplink-forwarder";

/** How long start() waits for a stopping instance's LevelDB lock (FAULTS 8.2). */
const LEDGER_LOCK_WAIT_MS = 10_000;

export function ledgerDir(config: Config): string {
  return config.storage.dir ?? join(config.gateway.dataDir, "ledger");
}

/** Whether this config seals records, and so needs the gateway key file. */
export function sealsRecords(config: Config): boolean {
  return config.uplink?.enabled === true && config.crypto.encryption !== "none";
}

export function outboxSpecs(
  config: Config,
  events: LedgerEventSink | undefined,
  durable?: DurableReport,
): ComponentSpec[] {
  const { storage } = config;
  const specs: ComponentSpec[] = [
    {
      id: LEDGER_ID,
      configKey: canonicalKey({ dir: ledgerDir(config), storage }),
      dependsOn: ["instance-lock"],
      create: (context) =>
        new Ledger(
          {
            dir: ledgerDir(config),
            commitIntervalMs: storage.commitInterval,
            commitMaxRecords: storage.commitMaxRecords,
            degradedBufferRecords: storage.degradedBufferRecords,
            retention: { maxBytes: storage.retention.maxBytes, maxAgeMs: storage.retention.maxAge },
            lockWaitMs: LEDGER_LOCK_WAIT_MS,
          },
          { clock: context.clock, logger: context.logger, events: context.events },
        ),
    },
  ];
  if (events !== undefined) {
    specs.push({
      id: "ledger-events",
      configKey: "{}",
      dependsOn: [LEDGER_ID],
      create: (context) =>
        new EventRouting(events, reportingAppender(durable, context.dependency<Ledger>(LEDGER_ID))),
    });
  }
  if (sealsRecords(config)) {
    specs.push(
      {
        id: KEYS_ID,
        // The file's identity is part of the key: `keys rotate` replaces the file (temp + rename),
        // so a reload after it (SIGHUP, `systemctl reload`) loads the new active key id.
        configKey: canonicalKey({ keyFile: config.crypto.keyFile, file: fileStamp(config.crypto.keyFile) }),
        dependsOn: [],
        create: () => new GatewayKeys(config.crypto.keyFile),
      },
      // Checkpoints exist to be compared with what upstream received, so they run when records
      // are sealed and published; they use the same key file (docs/protocol.md, checkpoints).
      {
        id: "checkpointer",
        configKey: canonicalKey(storage.checkpoints),
        dependsOn: [LEDGER_ID, KEYS_ID],
        create: (context) =>
          new Checkpointer(
            { everyRecords: storage.checkpoints.everyRecords, intervalMs: storage.checkpoints.interval },
            {
              ledger: context.dependency<Ledger>(LEDGER_ID),
              keys: context.dependency<GatewayKeys>(KEYS_ID).ring,
              clock: context.clock,
              logger: context.logger,
            },
          ),
      },
    );
  }
  specs.push(...uplinkSpecs(config, durable));
  const forwarding = specs.some((spec) => spec.id === FORWARDER_ID);
  specs.push({
    id: "pipeline-metrics",
    configKey: "{}",
    dependsOn: forwarding ? [LEDGER_ID, FORWARDER_ID] : [LEDGER_ID],
    create: (context) =>
      new PipelineMetrics({
        ledger: context.dependency<Ledger>(LEDGER_ID),
        forwarder: forwarding ? context.dependency<Forwarder>(FORWARDER_ID) : undefined,
        logger: context.logger,
        setStatus: context.setStatus,
      }),
  });
  return specs;
}

function uplinkSpecs(config: Config, durable: DurableReport | undefined): ComponentSpec[] {
  const uplink = config.uplink;
  if (uplink === undefined || !uplink.enabled) {
    return [];
  }
  const seals = sealsRecords(config);
  return [
    {
      id: SESSION_ID,
      configKey: canonicalKey({ uplink, gateway: config.gateway }),
      dependsOn: [],
      create: (context) => new MqttSession(sessionSettingsOf(config, uplink), context),
    },
    {
      id: FORWARDER_ID,
      configKey: canonicalKey({ uplink, crypto: config.crypto, gateway: config.gateway }),
      dependsOn: seals ? [LEDGER_ID, SESSION_ID, KEYS_ID] : [LEDGER_ID, SESSION_ID],
      create: (context) => {
        const ledger = context.dependency<Ledger>(LEDGER_ID);
        const keyRing = seals ? context.dependency<GatewayKeys>(KEYS_ID).ring : undefined;
        const topics = new TopicRenderer(topicSettingsOf(config, uplink));
        return new Forwarder(forwarderSettingsOf(config, uplink, topics, keyRing), {
          reader: ledger,
          appender: reportingAppender(durable, ledger),
          session: context.dependency<MqttSession>(SESSION_ID),
          clock: context.clock,
          logger: context.logger,
        });
      },
    },
  ];
}

/** Points the daemon's events at the running ledger while it runs. */
class EventRouting implements Component {
  readonly name = "ledger-events";
  readonly #events: LedgerEventSink;
  readonly #ledger: LedgerAppender;

  constructor(events: LedgerEventSink, ledger: LedgerAppender) {
    this.#events = events;
    this.#ledger = ledger;
  }

  start(): Promise<void> {
    this.#events.attach(this.#ledger);
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#events.detach(this.#ledger);
    return Promise.resolve();
  }
}
