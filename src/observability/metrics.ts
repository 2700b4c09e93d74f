/**
 * The daemon's Prometheus metrics (issue #7 item 3), on a registry of its own (never prom-client's
 * global one, so two daemons in one test process or a rebuilt component never collide).
 *
 * Event metrics (poll duration, request errors, anomalies) are updated where the event happens
 * (statusCollector.ts). State metrics (ledger backlog and chain head, publish rate, PUBACK
 * latency, analytics learning) are read at scrape time from the components that already keep
 * them (Ledger.stats(), Forwarder.stats(), the analytics stage), so they cost nothing between
 * scrapes.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Ledger } from "../ledger/ledger.js";
import type { Forwarder } from "../uplink/forwarder.js";

/** Poll cycle durations, seconds: a 1 Hz group on a healthy bus takes 10-200 ms; a timeout ~1 s. */
const POLL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What the scrape-time metrics read; each may be absent (no uplink, analytics off). */
export interface MetricSources {
  readonly ledger?: Pick<Ledger, "stats" | "health"> | undefined;
  readonly forwarder?: Pick<Forwarder, "stats"> | undefined;
  readonly learning?: (() => boolean | undefined) | undefined;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly pollDuration: Histogram<"device">;
  readonly requestErrors: Counter<"device" | "reason">;
  readonly anomalies: Counter<"type" | "severity">;
  #sources: MetricSources = {};
  /** Names of the scrape-time metrics registered by attach(). */
  #attached: string[] = [];

  constructor(version: string) {
    const registers = [this.registry];
    this.pollDuration = new Histogram({
      name: "edgewarden_poll_duration_seconds",
      help: "Duration of one poll cycle of one poll group, by device.",
      labelNames: ["device"],
      buckets: POLL_BUCKETS,
      registers,
    });
    this.requestErrors = new Counter({
      name: "edgewarden_request_errors_total",
      help: "Device reads that failed, by device and reason (timeout, crc, exception_XX, invalid, disconnected).",
      labelNames: ["device", "reason"],
      registers,
    });
    this.anomalies = new Counter({
      name: "edgewarden_anomalies_total",
      help: "Anomalies raised or escalated, by type and severity.",
      labelNames: ["type", "severity"],
      registers,
    });
    new Gauge({
      name: "edgewarden_build_info",
      help: "The running version (value 1).",
      labelNames: ["version"],
      registers,
    }).set({ version }, 1);
    new Gauge({
      name: "edgewarden_uptime_seconds",
      help: "Seconds since the daemon started.",
      registers,
      collect() {
        this.set(process.uptime());
      },
    });
  }

  /**
   * Points the scrape-time metrics at the running components (the status server at start). Only
   * the metrics of present sources are registered: with no uplink or no analytics their gauges
   * are absent, not a misleading 0.
   */
  attach(sources: MetricSources): void {
    this.detach();
    this.#sources = sources;
    const registers = [this.registry];
    const before = new Set(this.registry.getMetricsAsArray().map((metric) => metric.name));
    if (sources.ledger !== undefined) {
      this.#ledgerGauges(registers);
    }
    if (sources.forwarder !== undefined) {
      this.#uplinkGauges(registers);
    }
    if (sources.learning !== undefined) {
      this.#learningGauge(registers);
    }
    this.#attached = this.registry
      .getMetricsAsArray()
      .map((metric) => metric.name)
      .filter((name) => !before.has(name));
  }

  detach(): void {
    for (const name of this.#attached) {
      this.registry.removeSingleMetric(name);
    }
    this.#attached = [];
    this.#sources = {};
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  #ledgerGauges(registers: Registry[]): void {
    const sources = () => this.#sources;
    const gauge = (name: string, help: string, pick: (stats: LedgerFigures) => number) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          const figures = await ledgerFigures(sources().ledger);
          if (figures !== undefined) {
            this.set(pick(figures));
          }
        },
      });
    gauge(
      "edgewarden_ledger_backlog_records",
      "Durable records not yet acknowledged upstream.",
      (s) => s.backlog,
    );
    gauge("edgewarden_ledger_bytes", "Approximate bytes of the stored ledger entries.", (s) => s.bytes);
    gauge("edgewarden_ledger_head_seq", "Seq of the chain head (the last durable record).", (s) => s.headSeq);
    gauge("edgewarden_ledger_acked_seq", "Highest seq acknowledged upstream.", (s) => s.ackedSeq);
    gauge(
      "edgewarden_ledger_shed_records",
      "Records shed from the full append queue since start.",
      (s) => s.shed,
    );
  }

  #learningGauge(registers: Registry[]): void {
    const sources = () => this.#sources;
    new Gauge({
      name: "edgewarden_analytics_learning",
      help: "1 while the analytics stage is learning its baselines (no anomalies raised yet), 0 when scoring.",
      registers,
      collect() {
        this.set(sources().learning?.() === true ? 1 : 0);
      },
    });
  }

  #uplinkGauges(registers: Registry[]): void {
    const sources = () => this.#sources;
    new Gauge({
      name: "edgewarden_uplink_publish_rate",
      help: "Records published per second over the forwarder's rate window.",
      registers,
      collect() {
        const stats = sources().forwarder?.stats();
        if (stats !== undefined) {
          this.set(stats.publishRate);
        }
      },
    });
    new Gauge({
      name: "edgewarden_uplink_puback_latency_seconds",
      help: "Publish to PUBACK latency over the last one to two minutes, by quantile.",
      labelNames: ["quantile"],
      registers,
      collect() {
        this.reset();
        const stats = sources().forwarder?.stats();
        if (stats?.pubackLatencyP50Ms !== undefined) {
          this.set({ quantile: "0.5" }, stats.pubackLatencyP50Ms / 1_000);
        }
        if (stats?.pubackLatencyP99Ms !== undefined) {
          this.set({ quantile: "0.99" }, stats.pubackLatencyP99Ms / 1_000);
        }
      },
    });
    new Gauge({
      name: "edgewarden_uplink_connected",
      help: "1 while the MQTT session is connected.",
      registers,
      collect() {
        const stats = sources().forwarder?.stats();
        if (stats !== undefined) {
          this.set(stats.connected ? 1 : 0);
        }
      },
    });
  }
}

interface LedgerFigures {
  readonly backlog: number;
  readonly bytes: number;
  readonly headSeq: number;
  readonly ackedSeq: number;
  readonly shed: number;
}

/**
 * One Ledger.stats() per scrape would be five (one per gauge); the promise is shared for the
 * duration of one scrape. Undefined when it cannot answer (degraded, closing): the gauges then
 * keep their last figures (the ledger's health is what the technician must look at then).
 */
const inFlight = new WeakMap<object, Promise<LedgerFigures | undefined>>();

function ledgerFigures(ledger: MetricSources["ledger"]): Promise<LedgerFigures | undefined> {
  if (ledger === undefined) {
    return Promise.resolve(undefined);
  }
  const pending = inFlight.get(ledger);
  if (pending !== undefined) {
    return pending;
  }
  const next = readFigures(ledger).finally(() => inFlight.delete(ledger));
  inFlight.set(ledger, next);
  return next;
}

async function readFigures(ledger: Pick<Ledger, "stats" | "health">): Promise<LedgerFigures | undefined> {
  if (ledger.health().state !== "ok") {
    return undefined;
  }
  try {
    const stats = await ledger.stats();
    return {
      backlog: stats.backlogRecords,
      bytes: stats.approxBytes,
      headSeq: stats.lastSeq,
      ackedSeq: stats.ackedSeq,
      shed: stats.shed,
    };
  } catch {
    return undefined;
  }
}
