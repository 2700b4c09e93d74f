/**
 * Where the sources' samples go (DESIGN.md data flow: sources -> analytics -> ledger). A component
 * of its own with a fixed config key, so that a reload that changes the analytics section rebuilds
 * the analytics stage and not every poll loop: the stage attaches itself here when it starts and
 * detaches when it stops. While no stage is attached (analytics off, or being rebuilt) samples go
 * straight to the ledger unscored: they are logged and forwarded all the same.
 */
import type { LedgerAppender } from "../ledger/ledgerPorts.js";
import type { Logger } from "../observability/logger.js";
import type { Sample } from "../records.js";
import { sampleToJson } from "../sources/sampleJson.js";
import type { Component } from "./component.js";

export interface SampleStage {
  accept(sample: Sample): void;
}

export class SamplePipeline implements Component {
  readonly name = "sample-pipeline";
  #stage: SampleStage | undefined;

  constructor(
    private readonly ledger: LedgerAppender,
    private readonly logger: Logger,
  ) {}

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#stage = undefined;
    return Promise.resolve();
  }

  attach(stage: SampleStage): void {
    this.#stage = stage;
  }

  detach(stage: SampleStage): void {
    if (this.#stage === stage) {
      this.#stage = undefined;
    }
  }

  readonly sink = (sample: Sample): void => {
    const stage = this.#stage;
    if (stage === undefined) {
      appendSample(this.ledger, sample, this.logger);
    } else {
      stage.accept(sample);
    }
  };
}

/**
 * Appends one sample; returns its body's length (0 when it cannot be serialised). Sources do not wait for durability: the ledger's bounded queue absorbs
 * bursts and a record it sheds is counted and recorded as a gap, so the rejection here only needs
 * a debug line.
 */
export function appendSample(ledger: LedgerAppender, sample: Sample, logger: Logger): number {
  let body: string;
  try {
    body = sampleToJson(sample);
  } catch (error) {
    // A source bug (a non-finite value left good): said loudly, the source keeps polling.
    logger.error({ err: error, device: sample.device }, "sample cannot be recorded");
    return 0;
  }
  appendBody(
    ledger,
    { kind: "sample", ts: sample.ts, clockSynced: sample.clockSynced, device: sample.device, body },
    logger,
  );
  return body.length;
}

export function appendBody(
  ledger: LedgerAppender,
  fields: { kind: "sample" | "anomaly"; ts: number; clockSynced: boolean; device: string; body: string },
  logger: Logger,
): void {
  ledger.append(fields).catch((error: unknown) => {
    // Shed (counted, recorded as a gap) or closing: expected. Refused fields: a bug, said loudly
    // (the logger's repeat filter keeps a stream of them to one line a window).
    const level = error instanceof RangeError ? "error" : "debug";
    logger[level]({ err: error, device: fields.device, kind: fields.kind }, "record not recorded");
  });
}
