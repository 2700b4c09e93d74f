/**
 * The composition root: reads as the list of what the daemon does with a given config
 * (STYLE.md, after zigbee2mqtt's controller). Each later part adds its specs here.
 */
import type { Config } from "../config/schema/index.js";
import type { SampleSink } from "../records.js";
import { createBus, planBuses } from "../sources/modbus/modbusBuses.js";
import { sampleToJson } from "../sources/sampleJson.js";
import { SelfHealthSource } from "../sources/selfHealth/selfHealthSource.js";
import { SerialLineSource } from "../sources/serialLine/serialLineSource.js";
import { type ComponentContext, type ComponentSpec, canonicalKey } from "./component.js";
import { summariseHealth } from "./healthStatus.js";
import { InstanceLock } from "./instanceLock.js";

export function planComponents(config: Config): ComponentSpec[] {
  const specs: ComponentSpec[] = [
    {
      id: "instance-lock",
      configKey: canonicalKey({ dataDir: config.gateway.dataDir }),
      dependsOn: [],
      create: (context) => new InstanceLock(config.gateway.dataDir, context.logger),
    },
  ];
  if (config.selfHealth.enabled) {
    const { interval } = config.selfHealth;
    specs.push({
      id: "self-health",
      configKey: canonicalKey({ selfHealth: config.selfHealth, dataDir: config.gateway.dataDir }),
      dependsOn: ["instance-lock"],
      create: (context) =>
        new SelfHealthSource(
          { intervalMs: interval, dataDir: config.gateway.dataDir },
          {
            clock: context.clock,
            logger: context.logger,
            // Two missed samples plus slack before the watchdog hears about it.
            heartbeat: context.heartbeat("sampler", 2 * interval + 5_000),
            emit: (sample) => {
              // Until the ledger lands (issue #5) health samples feed the STATUS line and the debug log.
              context.setStatus(summariseHealth(sample));
              context.logger.debug({ sample }, "self-health");
            },
          },
        ),
    });
  }
  specs.push(...sourceSpecs(config));
  return specs;
}

/** Until the ledger lands (issue #5), samples go to the debug log. */
function sampleSink(context: ComponentContext): SampleSink {
  return (sample) => context.logger.debug({ sample: sampleToJson(sample) }, "sample");
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
      dependsOn: ["instance-lock"],
      create: (context) =>
        createBus(plan, {
          clock: context.clock,
          logger: context.logger,
          emit: sampleSink(context),
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
            dependsOn: ["instance-lock"],
            create: (context) =>
              new SerialLineSource(device, {
                clock: context.clock,
                logger: context.logger,
                emit: sampleSink(context),
              }),
          },
        ]
      : [],
  );
  return [...buses, ...serialLines];
}
