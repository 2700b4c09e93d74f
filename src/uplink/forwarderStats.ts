/**
 * The forwarder's figures for metrics and health (issue #5, item 7: backlog, publish rate, PUBACK
 * latency, ...). Memory is fixed: latency goes into log-spaced histogram buckets (about 5%
 * resolution from 10 µs to 10 min) over a rolling window of two halves, and the rate into one
 * counter per second for the last RATE_WINDOW_S seconds. Never an array that grows per record.
 */

/** Log-spaced buckets: bucket i holds values in [MIN * GROWTH^i, MIN * GROWTH^(i+1)). */
const MIN_MS = 0.01;
const GROWTH = 1.1;
const BUCKETS = Math.ceil(Math.log(600_000 / MIN_MS) / Math.log(GROWTH)) + 1;

export class LatencyHistogram {
  readonly #counts = new Uint32Array(BUCKETS);
  #total = 0;

  record(ms: number): void {
    const index =
      ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log(ms / MIN_MS) / Math.log(GROWTH)));
    this.#counts[index] = (this.#counts[index] ?? 0) + 1;
    this.#total++;
  }

  get count(): number {
    return this.#total;
  }

  clear(): void {
    this.#counts.fill(0);
    this.#total = 0;
  }

  /** The q-quantile (0..1) of this and `other` together, as its bucket's geometric middle; undefined when empty. */
  quantile(q: number, other?: LatencyHistogram): number | undefined {
    const otherCounts = other === undefined ? undefined : other.#counts;
    const total = this.#total + (other === undefined ? 0 : other.#total);
    if (total === 0) {
      return undefined;
    }
    const rank = Math.max(1, Math.ceil(q * total));
    let seen = 0;
    for (let index = 0; index < BUCKETS; index++) {
      seen += (this.#counts[index] ?? 0) + (otherCounts?.[index] ?? 0);
      if (seen >= rank) {
        return index === 0 ? MIN_MS : MIN_MS * GROWTH ** (index + 0.5);
      }
    }
    return MIN_MS * GROWTH ** BUCKETS;
  }
}

/** Percentiles over the last one to two windows: two histograms, the older dropped at each turn. */
export class RollingLatency {
  readonly #windowMs: number;
  #current = new LatencyHistogram();
  #previous = new LatencyHistogram();
  #turnedAt: number;

  constructor(windowMs: number, now: number) {
    this.#windowMs = windowMs;
    this.#turnedAt = now;
  }

  record(ms: number, now: number): void {
    this.#turn(now);
    this.#current.record(ms);
  }

  quantile(q: number, now: number): number | undefined {
    this.#turn(now);
    return this.#current.quantile(q, this.#previous);
  }

  #turn(now: number): void {
    const elapsed = now - this.#turnedAt;
    if (elapsed < this.#windowMs) {
      return;
    }
    const recycled = this.#previous;
    recycled.clear();
    if (elapsed < 2 * this.#windowMs) {
      this.#previous = this.#current;
      this.#current = recycled;
    } else {
      this.#current.clear();
    }
    this.#turnedAt = now;
  }
}

export const RATE_WINDOW_S = 10;

/** Events per second over the last RATE_WINDOW_S whole seconds. */
export class RateMeter {
  readonly #counts = new Float64Array(RATE_WINDOW_S + 1);
  #second = Number.NEGATIVE_INFINITY;

  add(count: number, nowMs: number): void {
    this.#advance(nowMs);
    const slot = this.#second % this.#counts.length;
    this.#counts[slot] = (this.#counts[slot] ?? 0) + count;
  }

  perSecond(nowMs: number): number {
    this.#advance(nowMs);
    let sum = 0;
    for (let back = 1; back <= RATE_WINDOW_S; back++) {
      sum += this.#counts[(this.#second - back + this.#counts.length * 2) % this.#counts.length] ?? 0;
    }
    return sum / RATE_WINDOW_S;
  }

  #advance(nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    if (second <= this.#second) {
      return;
    }
    const steps = Math.min(second - this.#second, this.#counts.length);
    for (let step = 1; step <= steps; step++) {
      this.#counts[(second - steps + step) % this.#counts.length] = 0;
    }
    this.#second = second;
  }
}

/** A snapshot for metrics and `edgewarden status`. */
export interface ForwarderStats {
  /** Durable records not yet PUBACKed: durableSeq - ackedSeq. */
  readonly backlog: number;
  readonly durableSeq: number;
  readonly ackedSeq: number;
  /** Messages and records handed to the MQTT client (re-sends included). */
  readonly publishedMessages: number;
  readonly publishedRecords: number;
  /** Records whose PUBACK came. */
  readonly ackedRecords: number;
  /** Records published per second over the last RATE_WINDOW_S seconds. */
  readonly publishRate: number;
  /** Publish to PUBACK, ms, over the last one to two minutes; undefined before the first PUBACK. */
  readonly pubackLatencyP50Ms: number | undefined;
  readonly pubackLatencyP99Ms: number | undefined;
  /** Messages published and not yet PUBACKed. */
  readonly inflight: number;
  /** The window in force: uplink.inflight, or the broker's Receive Maximum if lower. */
  readonly window: number;
  readonly deadLettered: number;
  /** Connections after the first. */
  readonly reconnects: number;
  /** Records published again after a reconnect: the subscriber may see them twice. */
  readonly duplicatesRisked: number;
  /** MQTT 5 PUBACKs with a failure reason code. */
  readonly refusedPublishes: number;
  readonly connected: boolean;
}

/** Latency percentiles cover the last one to two minutes. */
export const LATENCY_WINDOW_MS = 60_000;

/** The forwarder's running counts; snapshot() adds what only the forwarder knows. */
export class ForwarderCounters {
  publishedMessages = 0;
  publishedRecords = 0;
  ackedRecords = 0;
  duplicatesRisked = 0;
  refusedPublishes = 0;
  /** The highest seq handed over in this process, over all connections. */
  #highestSent = 0;
  readonly #clock: { monotonicNow(): number };
  readonly #rate = new RateMeter();
  readonly #latency: RollingLatency;

  constructor(clock: { monotonicNow(): number }) {
    this.#clock = clock;
    this.#latency = new RollingLatency(LATENCY_WINDOW_MS, clock.monotonicNow());
  }

  /** A message with seqs first..last goes out for the first time on this connection. */
  sent(first: number, last: number): void {
    if (first <= this.#highestSent) {
      // Sent before, on a connection that went before its PUBACK came: the receiver may see it twice.
      this.duplicatesRisked += Math.min(last, this.#highestSent) - first + 1;
    }
    this.#highestSent = Math.max(this.#highestSent, last);
  }

  published(records: number, now: number): void {
    this.publishedMessages++;
    this.publishedRecords += records;
    this.#rate.add(records, now);
  }

  acked(records: number, latencyMs: number, now: number): void {
    this.ackedRecords += records;
    this.#latency.record(latencyMs, now);
  }

  snapshot(
    live: Pick<
      ForwarderStats,
      "durableSeq" | "ackedSeq" | "inflight" | "window" | "deadLettered" | "reconnects" | "connected"
    >,
  ): ForwarderStats {
    const now = this.#clock.monotonicNow();
    return {
      ...live,
      backlog: Math.max(0, live.durableSeq - live.ackedSeq),
      publishedMessages: this.publishedMessages,
      publishedRecords: this.publishedRecords,
      ackedRecords: this.ackedRecords,
      publishRate: this.#rate.perSecond(now),
      pubackLatencyP50Ms: this.#latency.quantile(0.5, now),
      pubackLatencyP99Ms: this.#latency.quantile(0.99, now),
      duplicatesRisked: this.duplicatesRisked,
      refusedPublishes: this.refusedPublishes,
    };
  }
}
