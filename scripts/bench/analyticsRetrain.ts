/**
 * Poll-cycle jitter while a retrain runs (issue #6 must-show: "retraining swaps models without
 * pausing polling (poll-cycle jitter measured during a retrain)"). Prints one JSON document.
 *
 * The rig is the daemon's own path: a pymodbus 3.0 TCP server, one device with one 100 ms poll
 * group of 8 tags read by the real bus (createBus), every sample delivered to a real AnalyticsStage
 * wired as the daemon wires it (analyticsPorts onto a real Ledger in a temp dir, train =
 * trainInWorker). The machine has an isolation forest and an autoencoder on the 8 tags; the
 * ledger is pre-filled with seeded history of the device, so the retrain reads it in batches on
 * the main thread, fits in the worker, then saves and swaps the models in.
 *
 * Per phase (baseline, the retrain's reading / fit / swap, after): poll intervals, lateness against
 * the 100 ms schedule, missed polls, link timeouts, accept() time, event-loop delay, main-thread
 * GC; the reading phase's ledger reads are timed, to say where its stalls come from. The learning
 * period is long so the stage starts no retrain of its own. Exits 1 when a configured detector
 * did not train (the figures would then not cover a real fit).
 *
 *   npm run bench:retrain     (builds, then runs; EW_RETRAIN_EPOCHS, _BASELINE_MS, _AFTER_MS tune it)
 */
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { seededRandom } from "../../src/analytics/random.js";
import { AnalyticsStage } from "../../src/analytics/stage/analyticsStage.js";
import type { TrainFn } from "../../src/analytics/stage/retrainer.js";
import type { TrainingProgress } from "../../src/analytics/training/trainers.js";
import { trainInWorker } from "../../src/analytics/training/trainInWorker.js";
import { systemClock } from "../../src/clock.js";
import { configSchema, type ModbusDeviceConfig } from "../../src/config/schema/index.js";
import { analyticsPorts } from "../../src/daemon/analyticsSpecs.js";
import { Ledger } from "../../src/ledger/ledger.js";
import type { LedgerEntry } from "../../src/ledger/ledgerEntry.js";
import { createLogger } from "../../src/observability/logger.js";
import type { Sample } from "../../src/records.js";
import { createBus } from "../../src/sources/modbus/modbusBuses.js";
import { sampleToJson } from "../../src/sources/sampleJson.js";
import { startPymodbusServer } from "./support/pymodbusServer.js";

const DEVICE = "press";
const TAGS = Array.from({ length: 8 }, (_, i) => `t${i}`);
/** What the pymodbus server serves (static: jitter is about timing, not values). */
const LIVE = TAGS.map((_, i) => 1_000 + 100 * i);
const INTERVAL_MS = 100;
const HISTORY_SAMPLES = 30_000;
const HISTORY_SPACING_MS = 2_000;
/** 60 epochs: the worker's fit takes 10-30 s on this 2-core VM (wasm backend). */
const EPOCHS = Number(process.env.EW_RETRAIN_EPOCHS ?? 60);
const WARMUP_MS = 3_000;
const BASELINE_MS = Number(process.env.EW_RETRAIN_BASELINE_MS ?? 20_000);
const AFTER_MS = Number(process.env.EW_RETRAIN_AFTER_MS ?? 20_000);
const PREFILL_CHUNK = 1_000;

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

function spread(values: readonly number[], digits = 2) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50: round(at(0.5), digits), p99: round(at(0.99), digits), max: round(at(1), digits) };
}

function config(dataDir: string, port: number) {
  return configSchema.parse({
    gateway: { id: "bench", site: "bench", dataDir },
    devices: [
      {
        name: DEVICE,
        protocol: "modbus-tcp",
        host: "127.0.0.1",
        port,
        unitId: 1,
        timeout: "45ms",
        retries: 1,
        pollGroups: [
          {
            name: "fast",
            interval: `${INTERVAL_MS}ms`,
            tags: TAGS.map((name, i) => ({ name, table: "holding", address: i, type: "uint16" })),
          },
        ],
      },
    ],
    analytics: {
      modelDir: join(dataDir, "models"),
      // Long, so start() and the tick never retrain on their own: the retrain measured is ours.
      learningPeriod: "1d",
      training: { history: "1d", minSamples: 100 },
      machines: [
        {
          device: DEVICE,
          detectors: { isolationForest: { features: TAGS }, autoencoder: { features: TAGS, epochs: EPOCHS } },
        },
      ],
    },
  });
}

/** Seeded history around the served values: an hourly cycle shared by the tags, and noise. */
function historySample(ts: number, random: () => number): Sample {
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const load = Math.sin((2 * Math.PI * ts) / 3_600_000) + 0.3 * normal();
  const values = Object.fromEntries(
    TAGS.map((tag, i) => {
      const value = Math.round((LIVE[i] ?? 0) + 40 * load * (1 + i / 8) + 10 * normal());
      return [tag, { value, quality: "good" as const }];
    }),
  );
  return { kind: "sample", device: DEVICE, group: "fast", ts, clockSynced: true, values };
}

/** Appends the history straight to the ledger, a chunk at a time (its queue is bounded). */
async function prefill(ledger: Ledger, now: number): Promise<number> {
  const random = seededRandom(61);
  const start = now - HISTORY_SAMPLES * HISTORY_SPACING_MS;
  const t = performance.now();
  for (let i = 0; i < HISTORY_SAMPLES; i += PREFILL_CHUNK) {
    const pending: Promise<LedgerEntry>[] = [];
    for (let j = i; j < Math.min(HISTORY_SAMPLES, i + PREFILL_CHUNK); j++) {
      const sample = historySample(start + j * HISTORY_SPACING_MS, random);
      const body = sampleToJson(sample);
      pending.push(ledger.append({ kind: "sample", ts: sample.ts, clockSynced: true, device: DEVICE, body }));
    }
    await Promise.all(pending);
  }
  return performance.now() - t;
}

interface Counters {
  readonly missedPolls: number;
  readonly linkTimeouts: number;
}

interface Phase {
  readonly name: string;
  readonly startedAt: number;
  endedAt: number;
  readonly intervals: number[];
  readonly lateness: number[];
  readonly acceptMs: number[];
  /** Each cycle's own time (first read sent to last reply): the peer and the link, timeouts included. */
  readonly cycleMs: number[];
  /** Missed polls and link timeouts: when the phase started, then during it. */
  readonly countersAtStart: Counters;
  counters: Counters;
  loop: { p99: number; max: number };
}

/**
 * The figures of each phase. A cycle's interval and lateness belong to the phase its sample
 * arrived in; the event-loop histogram is read and reset at each boundary; GC pauses are placed
 * by their start time.
 */
class PhaseRecorder {
  readonly phases: Phase[] = [];
  readonly worst: { phase: string; atS: number; intervalMs: number }[] = [];
  readonly #gc: { start: number; ms: number }[] = [];
  readonly #gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      this.#gc.push({ start: entry.startTime, ms: entry.duration });
    }
  });
  readonly #loop = monitorEventLoopDelay({ resolution: 5 });
  readonly #origin = performance.now();
  #current: Phase | undefined;
  #lastEmit: number | undefined;
  #nextDue: number | undefined;

  constructor(private readonly counters: () => Counters) {
    this.#loop.enable();
    this.#gcObserver.observe({ entryTypes: ["gc"] });
  }

  enter(name: string | undefined): void {
    const now = performance.now();
    const current = this.#current;
    if (current !== undefined) {
      current.endedAt = now;
      const { missedPolls, linkTimeouts } = this.counters();
      const start = current.countersAtStart;
      current.counters = {
        missedPolls: missedPolls - start.missedPolls,
        linkTimeouts: linkTimeouts - start.linkTimeouts,
      };
      current.loop = { p99: this.#loop.percentile(99) / 1e6, max: this.#loop.max / 1e6 };
    }
    this.#loop.reset();
    this.#current = undefined;
    if (name !== undefined) {
      const countersAtStart = this.counters();
      this.#current = {
        name,
        startedAt: now,
        endedAt: now,
        intervals: [],
        lateness: [],
        acceptMs: [],
        cycleMs: [],
        countersAtStart,
        counters: { missedPolls: 0, linkTimeouts: 0 },
        loop: { p99: 0, max: 0 },
      };
      this.phases.push(this.#current);
    }
  }

  /**
   * A cycle's sample arrived at `at`, the cycle having taken `cycleMs`. The scheduler keeps a
   * fixed rate from the first poll and skips the polls missed while behind (busScheduler.ts):
   * replayed from the cycle's start, that says which slot of the schedule the cycle served.
   */
  emitted(at: number, cycleMs: number, acceptMs: number): void {
    const started = at - cycleMs;
    const due = this.#nextDue ?? started;
    this.#nextDue = due + (Math.max(0, Math.floor((started - due) / INTERVAL_MS)) + 1) * INTERVAL_MS;
    const previous = this.#lastEmit;
    this.#lastEmit = at;
    const phase = this.#current;
    if (phase === undefined || previous === undefined) {
      return; // warm-up
    }
    phase.intervals.push(at - previous);
    phase.lateness.push(at - due);
    phase.acceptMs.push(acceptMs);
    phase.cycleMs.push(cycleMs);
    const atS = round((at - this.#origin) / 1000, 1);
    this.worst.push({ phase: phase.name, atS, intervalMs: round(at - previous) });
    this.worst.sort((a, b) => b.intervalMs - a.intervalMs).splice(6);
  }

  close(): Record<string, unknown> {
    this.enter(undefined);
    this.#loop.disable();
    for (const entry of this.#gcObserver.takeRecords()) {
      this.#gc.push({ start: entry.startTime, ms: entry.duration });
    }
    this.#gcObserver.disconnect();
    return Object.fromEntries(
      this.phases.map((phase) => {
        const gc = this.#gc
          .filter((g) => g.start >= phase.startedAt && g.start < phase.endedAt)
          .map((g) => g.ms);
        return [
          phase.name,
          {
            seconds: round((phase.endedAt - phase.startedAt) / 1000, 1),
            cycles: phase.intervals.length,
            ...phase.counters,
            intervalMs: spread(phase.intervals),
            latenessMs: spread(phase.lateness),
            cycleMs: spread(phase.cycleMs),
            acceptMs: spread(phase.acceptMs, 3),
            eventLoopDelayMs: { p99: round(phase.loop.p99), max: round(phase.loop.max) },
            mainThreadGc: { pauses: gc.length, maxMs: round(Math.max(0, ...gc)), totalMs: round(sum(gc)) },
          },
        ];
      }),
    );
  }
}

/**
 * Times the retrain's ledger reads (analyticsPorts calls ledger.read per batch): to resolve
 * (LevelDB, then the entries parsed on the main thread), and from a batch's arrival to the next
 * read (the main thread parsing each sample's body and feeding MachineHistory, never yielding).
 */
function timeReads(ledger: Ledger) {
  const calls: { limit: number; called: number; resolved: number }[] = [];
  const read = ledger.read.bind(ledger);
  ledger.read = async (fromSeq, maxRecords) => {
    const call = { limit: maxRecords, called: performance.now(), resolved: 0 };
    calls.push(call);
    const entries = await read(fromSeq, maxRecords);
    call.resolved = performance.now();
    return entries;
  };
  return (fitStart: number) => {
    const batches = calls.filter((c) => c.limit > 1);
    const between = batches.slice(1).map((c, i) => c.called - (batches[i]?.resolved ?? c.called));
    const lastResolved = batches.at(-1)?.resolved ?? fitStart;
    return {
      bisectReads: calls.length - batches.length,
      batchReads: batches.length,
      readResolveMs: spread(batches.map((c) => c.resolved - c.called)),
      betweenReadsMs: spread(between),
      // The last batch's samples, then MachineHistory.inputs() building the rows, then train().
      lastBatchToFitMs: round(fitStart - lastResolved),
    };
  };
}

async function main(): Promise<void> {
  const loadAtStart = loadavg()[0] ?? 0;
  const dir = await mkdtemp(join(tmpdir(), "ew-bench-retrain-"));
  const { port, child } = await startPymodbusServer({ units: { "1": { holding: { "0": LIVE } } } });
  const logged: string[] = [];
  const write = (line: string) => void logged.push(line.slice(0, 300));
  const logger = createLogger({ level: "warn", repeatWindowMs: 60_000, destination: { write } });
  const events: { type: string; message: string }[] = [];
  try {
    const parsed = config(dir, port);
    const { analytics, storage } = parsed;
    const device = parsed.devices[0] as ModbusDeviceConfig | undefined;
    if (analytics === undefined || device === undefined) {
      throw new Error("bench config without analytics or device");
    }
    const ledger = new Ledger(
      {
        dir: join(dir, "ledger"),
        commitIntervalMs: storage.commitInterval,
        commitMaxRecords: storage.commitMaxRecords,
        degradedBufferRecords: storage.degradedBufferRecords,
        retention: { maxBytes: storage.retention.maxBytes, maxAgeMs: storage.retention.maxAge },
      },
      { clock: systemClock, logger },
    );
    await ledger.start(new AbortController().signal);
    const prefillMs = await prefill(ledger, Date.now());
    const reads = timeReads(ledger);

    let bus: ReturnType<typeof createBus> | undefined;
    const phases = new PhaseRecorder(() => ({
      missedPolls: bus?.stats().overruns ?? 0,
      linkTimeouts: bus?.link.stats().timeouts ?? 0,
    }));
    // The retrain's phase boundaries, seen from the train function the stage calls.
    const marks = { fitStart: Number.NaN, fitEnd: Number.NaN };
    const fitByKind = new Map<string, { first: number; last: number }>();
    const train: TrainFn = async (inputs, progress) => {
      marks.fitStart = performance.now();
      phases.enter("retrain.fit");
      try {
        const seen: TrainingProgress = (kind, fraction, status) => {
          const now = performance.now();
          fitByKind.set(kind, { first: fitByKind.get(kind)?.first ?? now, last: now });
          progress(kind, fraction, status);
        };
        return await trainInWorker(inputs, seen, { timeoutMs: 10 * 60_000 });
      } finally {
        marks.fitEnd = performance.now();
        phases.enter("retrain.swap");
      }
    };
    const emitEvent = (event: { type: string; message: string }) =>
      void events.push({ type: event.type, message: event.message });
    const ports = analyticsPorts(ledger, ledger, { events: { emit: emitEvent }, clock: systemClock, logger });
    const stage = new AnalyticsStage(
      { analytics, devices: parsed.devices, timeZone: parsed.gateway.timezone, train },
      ports,
    );
    await stage.start();

    const emit = (sample: Sample) => {
      const at = performance.now();
      stage.accept(sample);
      phases.emitted(at, bus?.devices[0]?.stats().lastCycleMs ?? 0, performance.now() - at);
    };
    bus = createBus(
      { key: "bench", label: "bench", devices: [device] },
      { clock: systemClock, logger, emit },
    );
    await bus.start(new AbortController().signal);
    await sleep(WARMUP_MS);
    phases.enter("baseline");
    await sleep(BASELINE_MS);
    phases.enter("retrain.reading");
    const retrainStart = performance.now();
    const outcomes = await stage.retrain("request");
    const retrainEnd = performance.now();
    phases.enter("after");
    await sleep(AFTER_MS);
    const phaseFigures = phases.close();
    await bus.stop();
    const stageStats = stage.stats();
    const live = stage.machine(DEVICE)?.detectors.map((d) => d.kind) ?? [];
    await stage.stop();
    await ledger.stop();

    const results = outcomes.flatMap((outcome) => outcome.results);
    const untrained = results.flatMap((r) => (r.ok ? [] : [`${r.kind}: ${r.reason}`]));
    const result = {
      bench: "analytics-retrain",
      machine: {
        nproc: availableParallelism(),
        cpu: cpus()[0]?.model,
        node: process.version,
        // This VM is shared: the load before and after says how much of it the run had.
        loadAverage1m: { atStart: round(loadAtStart), atEnd: round(loadavg()[0] ?? 0) },
      },
      rig: {
        server: "pymodbus 3.0 TCP (Debian)",
        pollGroup: { tags: TAGS.length, intervalMs: INTERVAL_MS },
        detectors: ["isolation-forest", `autoencoder (${EPOCHS} epochs, backend ${analytics.backend})`],
        history: {
          samples: HISTORY_SAMPLES,
          spacingS: HISTORY_SPACING_MS / 1000,
          prefillMs: round(prefillMs),
        },
      },
      retrain: {
        totalMs: round(retrainEnd - retrainStart),
        readingMs: round(marks.fitStart - retrainStart),
        fitMs: round(marks.fitEnd - marks.fitStart),
        swapMs: round(retrainEnd - marks.fitEnd),
        fitByKindMs: Object.fromEntries([...fitByKind].map(([kind, t]) => [kind, round(t.last - t.first)])),
        samplesRead: sum(outcomes.map((outcome) => outcome.samples)),
        trained: results.flatMap((r) => (r.ok ? [{ kind: r.kind, rows: r.stored.card.training.rows }] : [])),
        untrained,
        liveDetectorsAfter: live,
        reading: reads(marks.fitStart),
      },
      phases: phaseFigures,
      worstIntervals: phases.worst,
      stage: stageStats,
      events,
      logLines: { count: logged.length, first: logged.slice(0, 3) },
      rssMiB: round(process.memoryUsage().rss / 2 ** 20, 1),
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (untrained.length > 0 || results.length === 0) {
      process.stderr.write(
        "analyticsRetrain: a configured detector did not train; the fit phase is not measured\n",
      );
      process.exitCode = 1;
    }
  } finally {
    child.kill("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
