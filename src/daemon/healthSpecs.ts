/**
 * The health half of the composition root (issue #7 item 3, "Health is also published on MQTT
 * (retained) at an interval"): `health-publisher`, present while the uplink is enabled and
 * observability.health.enabled. It reads the status collector (which then runs even with the
 * loopback endpoint off, statusSpecs.ts), the ledger's chain head and the forwarder's figures, and
 * publishes on the uplink session; it depends on all of them, so a reload that rebuilds one (a
 * rotated key file, a new broker) rebuilds it too.
 */
import type { Config } from "../config/schema/index.js";
import type { Ledger } from "../ledger/ledger.js";
import { healthDocument } from "../observability/healthReport.js";
import type { StatusCollector } from "../observability/statusCollector.js";
import type { Forwarder } from "../uplink/forwarder.js";
import { HealthPublisher, healthTopicOf } from "../uplink/healthPublisher.js";
import type { MqttSession } from "../uplink/mqttSession.js";
import { packageVersion } from "../version.js";
import { type ComponentSpec, canonicalKey } from "./component.js";
import type { GatewayKeys } from "./gatewayKeys.js";
import { FORWARDER_ID, KEYS_ID, LEDGER_ID, SESSION_ID, sealsRecords } from "./outboxSpecs.js";
import { publishesHealth, STATUS_COLLECTOR_ID } from "./statusSpecs.js";

export const HEALTH_PUBLISHER_ID = "health-publisher";

/** After the sources (it reports on them), before the status server (which the tests want last). */
export function healthPublisherSpecs(config: Config): ComponentSpec[] {
  const uplink = config.uplink;
  if (uplink === undefined || !publishesHealth(config)) {
    return [];
  }
  const seals = sealsRecords(config);
  const { health } = config.observability;
  const { encryption } = config.crypto;
  const gateway = { id: config.gateway.id, site: config.gateway.site };
  const deviceNames = config.devices.filter((device) => device.enabled).map((device) => device.name);
  const topic = healthTopicOf({ prefix: uplink.topics.prefix, site: gateway.site, gateway: gateway.id });
  return [
    {
      id: HEALTH_PUBLISHER_ID,
      configKey: canonicalKey({ health, topic, encryption, gateway, deviceNames }),
      dependsOn: [STATUS_COLLECTOR_ID, LEDGER_ID, SESSION_ID, FORWARDER_ID, ...(seals ? [KEYS_ID] : [])],
      create: (context) => {
        const collector = context.dependency<StatusCollector>(STATUS_COLLECTOR_ID);
        const ledger = context.dependency<Ledger>(LEDGER_ID);
        const forwarder = context.dependency<Forwarder>(FORWARDER_ID);
        const keyRing = seals ? context.dependency<GatewayKeys>(KEYS_ID).ring : undefined;
        const version = packageVersion();
        return new HealthPublisher(
          { topic, intervalMs: health.interval, gateway: gateway.id, encryption, keyRing },
          {
            session: context.dependency<MqttSession>(SESSION_ID),
            snapshot: async () => {
              const document = await healthDocument({
                version,
                gateway,
                deviceNames,
                collector,
                ledger,
                forwarder,
                wallNow: () => context.clock.wallNow(),
              });
              // The header's seq names the chain head the document describes (docs/protocol.md §1).
              return { seq: document.ledger.headSeq, document };
            },
            clock: context.clock,
            logger: context.logger,
          },
        );
      },
    },
  ];
}
