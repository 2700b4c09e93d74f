/**
 * The composition root: reads as the list of what the daemon does with a given config
 * (STYLE.md, after zigbee2mqtt's controller). Each later part adds its specs here.
 */
import type { Config } from "../config/schema/index.js";
import { SelfHealthSource } from "../sources/selfHealth/selfHealthSource.js";
import { type ComponentSpec, canonicalKey } from "./component.js";
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
  return specs;
}
