/**
 * What the status endpoint knows that no component keeps (issue #7 item 3): each device's last
 * value and quality per tag, the last anomalies, and per-poll figures (cycle duration, failed
 * reads by reason). The sources and the analytics stage tell it as they go; the endpoint reads it
 * on request. A component of its own with a fixed config key, so that it outlives a reload of the
 * HTTP server and keeps its history.
 *
 * Cost on the hot path (the brief of issue #7: a few hundred ns a sample at most): a sample is
 * one Map lookup plus one Map.set per tag it carries (the publish filter already keeps that to
 * the tags that changed); a poll cycle or a failed read is one prom-client observe/inc. Every
 * store is bounded: devices, tags per device, anomalies.
 */
import type { AnomalyBody } from "../analytics/alerts/anomalyBody.js";
import type { Component } from "../daemon/component.js";
import type { Sample, TagReading } from "../records.js";
import type { PollObserver } from "../sources/modbus/busScheduler.js";
import type { LinkReadResult } from "../sources/modbus/link/modbusLink.js";
import type { GatewayMetrics } from "./metrics.js";

/** Devices and tags remembered; a config has far fewer, so these only stop a runaway source. */
export const MAX_DEVICES = 1_000;
export const MAX_TAGS_PER_DEVICE = 500;
/** Anomalies kept for /status (issue #7 item 3: "last 20 anomalies"). */
export const MAX_ANOMALIES = 20;

export interface DeviceState {
  /** Wall ms of the device's last sample. */
  lastTs: number;
  readonly tags: Map<string, TagReading>;
}

export interface AnalyticsView {
  readonly learning: boolean;
}

export class StatusCollector implements Component, PollObserver {
  readonly name = "status-collector";
  readonly metrics: GatewayMetrics;
  readonly #devices = new Map<string, DeviceState>();
  /** A ring: #anomalies[#next] is the oldest once full. */
  readonly #anomalies: AnomalyBody[] = [];
  #next = 0;
  #dropped = 0;
  #analytics: AnalyticsView | undefined;

  constructor(metrics: GatewayMetrics) {
    this.metrics = metrics;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  /** The sources' tee (composition.ts): remembers each tag's latest reading. */
  observeSample(sample: Sample): void {
    let device = this.#devices.get(sample.device);
    if (device === undefined) {
      if (this.#devices.size >= MAX_DEVICES) {
        this.#dropped++;
        return;
      }
      device = { lastTs: sample.ts, tags: new Map() };
      this.#devices.set(sample.device, device);
    }
    device.lastTs = sample.ts;
    const tags = device.tags;
    for (const name in sample.values) {
      const reading = sample.values[name];
      if (reading !== undefined && (tags.size < MAX_TAGS_PER_DEVICE || tags.has(name))) {
        tags.set(name, reading);
      }
    }
  }

  /** The analytics stage's tee (analyticsSpecs.ts): counts and remembers each anomaly record. */
  observeAnomaly(body: AnomalyBody): void {
    if (body.state !== "ended") {
      this.metrics.anomalies.inc({ type: body.type, severity: body.severity });
    }
    if (this.#anomalies.length < MAX_ANOMALIES) {
      this.#anomalies.push(body);
    } else {
      this.#anomalies[this.#next] = body;
      this.#next = (this.#next + 1) % MAX_ANOMALIES;
    }
  }

  /** PollObserver: one link read's outcome; failures are counted by a bounded reason. */
  read(device: string, result: LinkReadResult): void {
    if (result.kind === "ok") {
      return;
    }
    this.metrics.requestErrors.inc({ device, reason: errorReason(result) });
  }

  /** PollObserver: a finished poll cycle of one group. */
  cycle(device: string, durationMs: number): void {
    this.metrics.pollDuration.observe({ device }, durationMs / 1_000);
  }

  /** The analytics stage while it runs (attached at its start, detached at its stop). */
  attachAnalytics(view: AnalyticsView): void {
    this.#analytics = view;
  }

  detachAnalytics(view: AnalyticsView): void {
    if (this.#analytics === view) {
      this.#analytics = undefined;
    }
  }

  get analytics(): AnalyticsView | undefined {
    return this.#analytics;
  }

  devices(): ReadonlyMap<string, DeviceState> {
    return this.#devices;
  }

  /** Samples of devices beyond MAX_DEVICES, ignored. */
  get droppedSamples(): number {
    return this.#dropped;
  }

  /** Oldest first. */
  anomalies(): AnomalyBody[] {
    return [...this.#anomalies.slice(this.#next), ...this.#anomalies.slice(0, this.#next)];
  }
}

/** A label value from a small fixed set, so a flaky device cannot grow the metric without bound. */
function errorReason(result: LinkReadResult): string {
  switch (result.kind) {
    case "ok":
      return "ok";
    case "timeout":
      return result.crcErrors > 0 ? "crc" : "timeout";
    case "exception":
      return `exception_${result.code.toString(16).padStart(2, "0")}`;
    case "invalid":
      return "invalid";
    case "disconnected":
      return "disconnected";
  }
}
