/**
 * The status half of the composition root (issue #7 item 3): `status-collector`, which the sources
 * and the analytics stage tell of samples, poll cycles and anomalies (fixed config key: it keeps its
 * history across reloads), present when observability.status.enabled or when health is published
 * on MQTT (healthSpecs.ts reads it too); and `status-server`, the loopback HTTP endpoint that reads
 * it together with the ledger and the forwarder, present only when observability.status.enabled.
 * With neither, the collector does not exist and the sources deliver straight to the pipeline.
 */
import type { Config } from "../config/schema/index.js";
import type { Ledger } from "../ledger/ledger.js";
import { GatewayMetrics } from "../observability/metrics.js";
import { StatusCollector } from "../observability/statusCollector.js";
import { StatusServer } from "../observability/statusServer.js";
import type { SampleSink } from "../records.js";
import type { Forwarder } from "../uplink/forwarder.js";
import { packageVersion } from "../version.js";
import { type ComponentContext, type ComponentSpec, canonicalKey } from "./component.js";
import { FORWARDER_ID, LEDGER_ID } from "./outboxSpecs.js";

export const STATUS_COLLECTOR_ID = "status-collector";
const STATUS_SERVER_ID = "status-server";

export function statusEnabled(config: Config): boolean {
  return config.observability.status.enabled;
}

/** Whether the health snapshot goes out on MQTT (healthSpecs.ts; docs/protocol.md §1). */
export function publishesHealth(config: Config): boolean {
  return config.uplink?.enabled === true && config.observability.health.enabled;
}

/** Whether the collector runs: for the endpoint, or for the health snapshot. */
export function collectsStatus(config: Config): boolean {
  return statusEnabled(config) || publishesHealth(config);
}

/** A component that reports to the collector depends on it when the collector runs. */
export function withStatus(config: Config, dependsOn: readonly string[]): string[] {
  return collectsStatus(config) ? [...dependsOn, STATUS_COLLECTOR_ID] : [...dependsOn];
}

/** The collector of a spec built with withStatus(), or undefined when it does not run. */
export function statusCollectorOf(config: Config, context: ComponentContext): StatusCollector | undefined {
  return collectsStatus(config) ? context.dependency<StatusCollector>(STATUS_COLLECTOR_ID) : undefined;
}

/** `sink` with the collector told of each sample first (one Map.set per tag carried). */
export function teeSamples(sink: SampleSink, collector: StatusCollector | undefined): SampleSink {
  if (collector === undefined) {
    return sink;
  }
  return (sample) => {
    collector.observeSample(sample);
    sink(sample);
  };
}

/** The collector: first, so the sources and the analytics stage can depend on it. */
export function statusCollectorSpecs(config: Config): ComponentSpec[] {
  if (!collectsStatus(config)) {
    return [];
  }
  return [
    {
      id: STATUS_COLLECTOR_ID,
      configKey: "{}",
      dependsOn: [],
      create: () => new StatusCollector(new GatewayMetrics(packageVersion())),
    },
  ];
}

/** The HTTP server: last, so it starts when everything it reports on runs and stops first. */
export function statusServerSpecs(config: Config): ComponentSpec[] {
  if (!statusEnabled(config)) {
    return [];
  }
  const { status } = config.observability;
  const forwarding = config.uplink?.enabled === true;
  const analyzing = config.analytics?.enabled === true;
  const deviceNames = config.devices.filter((device) => device.enabled).map((device) => device.name);
  const gateway = { id: config.gateway.id, site: config.gateway.site };
  return [
    {
      id: STATUS_SERVER_ID,
      configKey: canonicalKey({ status, deviceNames, gateway, analyzing }),
      dependsOn: forwarding
        ? [STATUS_COLLECTOR_ID, LEDGER_ID, FORWARDER_ID]
        : [STATUS_COLLECTOR_ID, LEDGER_ID],
      create: (context) => {
        const collector = context.dependency<StatusCollector>(STATUS_COLLECTOR_ID);
        return new StatusServer(
          { host: status.host, port: status.port },
          {
            metrics: collector.metrics,
            status: {
              version: packageVersion(),
              gateway,
              deviceNames,
              collector,
              wallNow: () => context.clock.wallNow(),
            },
            sources: {
              ledger: context.dependency<Ledger>(LEDGER_ID),
              forwarder: forwarding ? context.dependency<Forwarder>(FORWARDER_ID) : undefined,
              learning: analyzing ? () => collector.analytics?.learning : undefined,
            },
            logger: context.logger,
          },
        );
      },
    },
  ];
}
