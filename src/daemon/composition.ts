/**
 * The composition root: reads as the list of what the daemon does with a given config
 * (STYLE.md, after zigbee2mqtt's controller). Each later part adds its specs here.
 */
import type { Config } from "../config/schema/index.js";
import type { SampleSink } from "../records.js";
import { createBus, planBuses } from "../sources/modbus/modbusBuses.js";
import { SelfHealthSource } from "../sources/selfHealth/selfHealthSource.js";
import { SerialLineSource } from "../sources/serialLine/serialLineSource.js";
import { analyticsSpecs, PIPELINE_ID } from "./analyticsSpecs.js";
import { type ComponentContext, type ComponentSpec, canonicalKey } from "./component.js";
import type { DurableReport } from "./durableReport.js";
import { healthPublisherSpecs } from "./healthSpecs.js";
import { summariseHealth } from "./healthStatus.js";
import { InstanceLock } from "./instanceLock.js";
import type { LedgerEventSink } from "./ledgerEventSink.js";
import { LEDGER_ID, outboxSpecs } from "./outboxSpecs.js";
import type { SamplePipeline } from "./samplePipeline.js";
import {
  statusCollectorOf,
  statusCollectorSpecs,
  statusServerSpecs,
  teeSamples,
  withStatus,
} from "./statusSpecs.js";

export interface Wiring {
  /** The daemon's event sink, routed into the ledger while one runs; absent in tests of parts. */
  readonly events?: LedgerEventSink;
  /** The crash test's report of durable appends (durableReport.ts); absent unless asked for. */
  readonly durable?: DurableReport | undefined;
}

export function planComponents(config: Config, wiring: Wiring = {}): ComponentSpec[] {
  const specs: ComponentSpec[] = [
    {
      id: "instance-lock",
      configKey: canonicalKey({ dataDir: config.gateway.dataDir }),
      dependsOn: [],
      create: (context) => new InstanceLock(config.gateway.dataDir, context.logger),
    },
    ...statusCollectorSpecs(config),
    ...outboxSpecs(config, wiring.events, wiring.durable),
    ...analyticsSpecs(config, wiring.durable),
  ];
  if (config.selfHealth.enabled) {
    const { interval } = config.selfHealth;
    specs.push({
      id: "self-health",
      configKey: canonicalKey({ selfHealth: config.selfHealth, dataDir: config.gateway.dataDir }),
      dependsOn: withStatus(config, ["instance-lock", LEDGER_ID, PIPELINE_ID]),
      create: (context) => {
        const record = sampleSink(config, context);
        return new SelfHealthSource(
          { intervalMs: interval, dataDir: config.gateway.dataDir },
          {
            clock: context.clock,
            logger: context.logger,
            // Two missed samples plus slack before the watchdog hears about it.
            heartbeat: context.heartbeat("sampler", 2 * interval + 5_000),
            emit: (sample) => {
              context.setStatus(summariseHealth(sample));
              context.logger.debug({ sample }, "self-health");
              record(sample);
            },
          },
        );
      },
    });
  }
  specs.push(...sourceSpecs(config), ...healthPublisherSpecs(config), ...statusServerSpecs(config));
  return specs;
}

/**
 * The sources' sample sink: the sample pipeline (analyticsSpecs.ts), which scores and appends;
 * with the status endpoint on, the status collector sees each sample first (statusSpecs.ts).
 */
function sampleSink(config: Config, context: ComponentContext): SampleSink {
  return teeSamples(context.dependency<SamplePipeline>(PIPELINE_ID).sink, statusCollectorOf(config, context));
}

/**
 * One component per Modbus link and per serial-line sensor: a reload that changes one device
 * restarts only its link, and the others keep polling.
 */
function sourceSpecs(config: Config): ComponentSpec[] {
  const buses = planBuses(config.devices).map(
    (plan): ComponentSpec => ({
      id: `bus:${plan.key}`,
      configKey: canonicalKey(plan.devices),
      dependsOn: withStatus(config, ["instance-lock", LEDGER_ID, PIPELINE_ID]),
      create: (context) =>
        createBus(plan, {
          clock: context.clock,
          logger: context.logger,
          emit: sampleSink(config, context),
          observer: statusCollectorOf(config, context),
          // The loop beats after every read and every sleep; a sleep is capped at 60 s.
          heartbeat: context.heartbeat("poll-loop", 90_000 + Math.max(...plan.devices.map((d) => d.timeout))),
        }),
    }),
  );
  const serialLines = config.devices.flatMap((device): ComponentSpec[] =>
    device.protocol === "serial-line" && device.enabled
      ? [
          {
            id: `serial-line:${device.name}`,
            configKey: canonicalKey(device),
            dependsOn: withStatus(config, ["instance-lock", LEDGER_ID, PIPELINE_ID]),
            create: (context) =>
              new SerialLineSource(device, {
                clock: context.clock,
                logger: context.logger,
                emit: sampleSink(config, context),
              }),
          },
        ]
      : [],
  );
  return [...buses, ...serialLines];
}
