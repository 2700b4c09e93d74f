/**
 * The composition root: reads as the list of what the daemon does with a given config
 * (STYLE.md, after zigbee2mqtt's controller). Each later part adds its specs here.
 */
import type { Config } from "../config/schema/index.js";
import type { Ledger } from "../ledger/ledger.js";
import type { LedgerAppender } from "../ledger/ledgerPorts.js";
import type { Sample, SampleSink } from "../records.js";
import { createBus, planBuses } from "../sources/modbus/modbusBuses.js";
import { sampleToJson } from "../sources/sampleJson.js";
import { SelfHealthSource } from "../sources/selfHealth/selfHealthSource.js";
import { SerialLineSource } from "../sources/serialLine/serialLineSource.js";
import { type ComponentContext, type ComponentSpec, canonicalKey } from "./component.js";
import { type DurableReport, reportingAppender } from "./durableReport.js";
import { summariseHealth } from "./healthStatus.js";
import { InstanceLock } from "./instanceLock.js";
import type { LedgerEventSink } from "./ledgerEventSink.js";
import { LEDGER_ID, outboxSpecs } from "./outboxSpecs.js";

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
    ...outboxSpecs(config, wiring.events, wiring.durable),
  ];
  if (config.selfHealth.enabled) {
    const { interval } = config.selfHealth;
    specs.push({
      id: "self-health",
      configKey: canonicalKey({ selfHealth: config.selfHealth, dataDir: config.gateway.dataDir }),
      dependsOn: ["instance-lock", LEDGER_ID],
      create: (context) => {
        const record = sampleSink(context, wiring.durable);
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
  specs.push(...sourceSpecs(config, wiring.durable));
  return specs;
}

/**
 * Samples go into the ledger (DESIGN.md data flow; analytics will plug in between, issue #6).
 * Sources do not wait for durability: the ledger's bounded queue absorbs bursts and a record it
 * sheds is counted and recorded as a gap, so the rejection here only needs a debug line.
 */
function sampleSink(context: ComponentContext, durable: DurableReport | undefined): SampleSink {
  const ledger = reportingAppender(durable, context.dependency<Ledger>(LEDGER_ID));
  return (sample) => appendSample(ledger, sample, context);
}

function appendSample(ledger: LedgerAppender, sample: Sample, context: ComponentContext): void {
  let body: string;
  try {
    body = sampleToJson(sample);
  } catch (error) {
    // A source bug (a non-finite value left good): said loudly, the source keeps polling.
    context.logger.error({ err: error, device: sample.device }, "sample cannot be recorded");
    return;
  }
  ledger
    .append({ ts: sample.ts, clockSynced: sample.clockSynced, kind: "sample", device: sample.device, body })
    .catch((error: unknown) => {
      // Shed (counted, recorded as a gap) or closing: expected. Refused fields: a bug, said loudly
      // (the logger's repeat filter keeps a stream of them to one line a window).
      const level = error instanceof RangeError ? "error" : "debug";
      context.logger[level]({ err: error, device: sample.device }, "sample not recorded");
    });
}

/**
 * One component per Modbus link and per serial-line sensor: a reload that changes one device
 * restarts only its link, and the others keep polling.
 */
function sourceSpecs(config: Config, durable: DurableReport | undefined): ComponentSpec[] {
  const buses = planBuses(config.devices).map(
    (plan): ComponentSpec => ({
      id: `bus:${plan.key}`,
      configKey: canonicalKey(plan.devices),
      dependsOn: ["instance-lock", LEDGER_ID],
      create: (context) =>
        createBus(plan, {
          clock: context.clock,
          logger: context.logger,
          emit: sampleSink(context, durable),
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
            dependsOn: ["instance-lock", LEDGER_ID],
            create: (context) =>
              new SerialLineSource(device, {
                clock: context.clock,
                logger: context.logger,
                emit: sampleSink(context, durable),
              }),
          },
        ]
      : [],
  );
  return [...buses, ...serialLines];
}
