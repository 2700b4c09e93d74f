/**
 * The analytics half of the composition root (issue #6): the sample pipeline every source
 * delivers to, and, when the config has an enabled analytics section, the analytics stage that
 * attaches to it. Training reads the ledger's history through ledgerHistory.ts and fits in a
 * worker thread (trainInWorker).
 */
import { anomalyToJson } from "../analytics/alerts/index.js";
import { deviceTagNames } from "../analytics/machine/machineConfig.js";
import { AnalyticsStage } from "../analytics/stage/analyticsStage.js";
import type { StagePorts } from "../analytics/stage/stagePorts.js";
import { trainInWorker } from "../analytics/training/trainInWorker.js";
import type { Config } from "../config/schema/index.js";
import type { Ledger } from "../ledger/ledger.js";
import type { LedgerAppender } from "../ledger/ledgerPorts.js";
import type { StatusCollector } from "../observability/statusCollector.js";
import { SELF_HEALTH_DEVICE } from "../sources/selfHealth/selfHealthSource.js";
import type { Component, ComponentContext, ComponentSpec } from "./component.js";
import { canonicalKey } from "./component.js";
import { type DurableReport, reportingAppender } from "./durableReport.js";
import { ledgerHistory } from "./ledgerHistory.js";
import { LEDGER_ID } from "./outboxSpecs.js";
import { appendBody, appendSample, SamplePipeline } from "./samplePipeline.js";
import { statusCollectorOf, withStatus } from "./statusSpecs.js";

export const PIPELINE_ID = "sample-pipeline";
export const ANALYTICS_ID = "analytics";
/** A retrain that takes longer than this is stopped (a Pi 3 fits a 50k-row autoencoder in minutes). */
const TRAINING_TIMEOUT_MS = 60 * 60_000;

export function analyticsSpecs(config: Config, durable: DurableReport | undefined): ComponentSpec[] {
  const specs: ComponentSpec[] = [
    {
      id: PIPELINE_ID,
      configKey: "{}",
      dependsOn: [LEDGER_ID],
      create: (context) => new SamplePipeline(appenderOf(context, durable), context.logger),
    },
  ];
  const analytics = config.analytics;
  if (analytics?.enabled) {
    specs.push({
      id: ANALYTICS_ID,
      // What the stage reads of the devices: whether each analysed one runs and its tag names.
      // Another device's change, or a poll interval, must not rebuild the stage and its state.
      configKey: canonicalKey({
        analytics,
        devices: config.devices
          .filter((device) => analytics.machines.some((machine) => machine.device === device.name))
          .map((device) => ({ name: device.name, enabled: device.enabled, tags: deviceTagNames(device) })),
        timezone: config.gateway.timezone,
        selfHealth: config.selfHealth.enabled,
      }),
      dependsOn: withStatus(config, [LEDGER_ID, PIPELINE_ID]),
      create: (context) => new AnalyticsComponent(config, context, durable),
    });
  }
  return specs;
}

function appenderOf(context: ComponentContext, durable: DurableReport | undefined): LedgerAppender {
  return reportingAppender(durable, context.dependency<Ledger>(LEDGER_ID));
}

/** The stage's ports onto the ledger (appends, history) and the daemon (events, clock, log). */
export function analyticsPorts(
  ledger: Ledger,
  appender: LedgerAppender,
  context: Pick<ComponentContext, "events" | "clock" | "logger">,
): StagePorts {
  const { logger } = context;
  return {
    append: {
      appendSample: (sample) => appendSample(appender, sample, logger),
      appendAnomaly: (body, clockSynced) =>
        appendBody(
          appender,
          { kind: "anomaly", ts: body.ts, clockSynced, device: body.device, body: anomalyToJson(body) },
          logger,
        ),
    },
    history: ledgerHistory({
      read: (fromSeq, _toSeq, limit) => ledger.read(fromSeq, limit),
      bounds: () => ({ first: ledger.firstSeq(), last: ledger.durableSeq() }),
    }),
    events: context.events,
    clock: context.clock,
    logger,
  };
}

class AnalyticsComponent implements Component {
  readonly name = "analytics";
  readonly #stage: AnalyticsStage;
  readonly #pipeline: SamplePipeline;
  readonly #status: StatusCollector | undefined;

  constructor(config: Config, context: ComponentContext, durable: DurableReport | undefined) {
    const analytics = config.analytics;
    if (analytics === undefined) {
      throw new Error("unreachable: analytics component without an analytics section");
    }
    const ledger = context.dependency<Ledger>(LEDGER_ID);
    const appender = appenderOf(context, durable);
    this.#pipeline = context.dependency<SamplePipeline>(PIPELINE_ID);
    this.#status = statusCollectorOf(config, context);
    this.#stage = new AnalyticsStage(
      {
        analytics,
        devices: config.devices,
        timeZone: config.gateway.timezone,
        train: (inputs, progress, signal) =>
          trainInWorker(inputs, progress, {
            timeoutMs: TRAINING_TIMEOUT_MS,
            ...(signal === undefined ? {} : { signal }),
          }),
        gatewayDevice: config.selfHealth.enabled ? SELF_HEALTH_DEVICE : undefined,
      },
      withAnomalyTee(analyticsPorts(ledger, appender, context), this.#status),
    );
  }

  async start(): Promise<void> {
    await this.#stage.start();
    this.#pipeline.attach(this.#stage);
    this.#status?.attachAnalytics(this.#stage);
  }

  /** Retrains every machine now (SIGUSR2); the outcome is reported as events, as a scheduled one. */
  retrain(): void {
    void this.#stage.retrain("request");
  }

  async stop(): Promise<void> {
    this.#status?.detachAnalytics(this.#stage);
    this.#pipeline.detach(this.#stage);
    await this.#stage.stop();
  }
}

/** With the status endpoint on, its collector sees each anomaly record as it is appended (issue #7 item 3). */
function withAnomalyTee(ports: StagePorts, status: StatusCollector | undefined): StagePorts {
  if (status === undefined) {
    return ports;
  }
  const { append } = ports;
  return {
    ...ports,
    append: {
      ...append,
      appendAnomaly: (body, clockSynced) => {
        status.observeAnomaly(body);
        append.appendAnomaly(body, clockSynced);
      },
    },
  };
}
