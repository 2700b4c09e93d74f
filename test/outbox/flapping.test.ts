/**
 * Issue #5, must-show "Flapping", against the real daemon: "the broker stopped and started at
 * seeded random 1–5 s intervals for 2 minutes under load: zero missing seq, no
 * MaxListenersExceededWarning, no handle growth."
 *
 * The sensor sends 1,500 lines/s throughout; mosquitto (persistence on, SIGTERM stops) goes down
 * and up, each state lasting a random 1–5 s from a seeded PRNG (seed printed; set
 * OUTBOX_FLAP_SEED to replay one). Handles are compared between the first reconnect and the end,
 * both with the broker up and the daemon connected: the open fds of the daemon that are not
 * regular files (sockets, pipes, ttys, eventfds; LevelDB's table files come and go with
 * compaction, bounded by its max_open_files) and its active libuv resources (report-resources.mjs).
 * Tolerance: 3. A leak per connection would grow by about one per reconnect, i.e. by dozens over
 * the run; a timer or request in flight at the moment of a reading is not growth, and each
 * reading takes the smallest of three counts 300 ms apart to let those pass.
 */
import { describe, expect, it } from "vitest";
import { hasMsg } from "../helpers/daemon.js";
import { useResources } from "../helpers/lifecycle.js";
import { prng } from "../helpers/seededRandom.js";
import { waitUntil } from "../helpers/waitUntil.js";
import {
  entriesAfter,
  figure,
  metricsLines,
  type Rig,
  SENSOR_DATA,
  startRig,
  stopAndReadStats,
} from "./support/outboxRig.js";
import { fdCounts, type ResourceReport, resourceReport, total } from "./support/processProbe.js";

const RATE = 1_500;
const FLAPPING_MS = 120_000;
const HANDLE_TOLERANCE = 3;
const SEED = Number(process.env.OUTBOX_FLAP_SEED ?? 20261202);

const current = useResources();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Handles {
  readonly otherFds: number;
  readonly files: number;
  readonly resources: number;
  readonly fdKinds: Readonly<Record<string, number>>;
  readonly resourceKinds: ResourceReport["resources"];
}

/** The smallest of three readings 300 ms apart (see the header on transient handles). */
async function handles(rig: Rig): Promise<Handles> {
  const readings: Handles[] = [];
  for (let i = 0; i < 3; i++) {
    const fds = fdCounts(rig.daemon.pid);
    const report = await resourceReport(rig.daemon);
    readings.push({
      otherFds: fds.other,
      files: fds.files,
      resources: total(report.resources),
      fdKinds: fds.byKind,
      resourceKinds: report.resources,
    });
    await sleep(300);
  }
  const least = (key: "otherFds" | "resources") =>
    readings.reduce((best, r) => (r[key] < best[key] ? r : best));
  return {
    ...least("otherFds"),
    resources: least("resources").resources,
    resourceKinds: least("resources").resourceKinds,
  };
}

const connectedCount = (rig: Rig) => rig.daemon.filter(hasMsg("uplink: connected")).length;

describe("Flapping (issue #5)", () => {
  it("loses no seq and grows no handles while the broker stops and starts every 1-5 s for 2 minutes", {
    timeout: 360_000,
  }, async () => {
    const rig = await startRig(current());
    const { broker, daemon, feeder, tally } = rig;
    const random = prng(SEED);
    const interval = () => 1_000 + Math.floor(random() * 4_000);
    feeder.start(RATE);

    const schedule: number[] = [];
    let baseline: Handles | undefined;
    const until = performance.now() + FLAPPING_MS;
    while (performance.now() < until) {
      const up = interval();
      schedule.push(up);
      await sleep(up);
      await broker.stop("SIGTERM");
      const down = interval();
      schedule.push(down);
      await sleep(down);
      const connectionsBefore = connectedCount(rig);
      await broker.start();
      if (baseline === undefined) {
        // After the first reconnect: the daemon is connected again and forwarding.
        await waitUntil(() => connectedCount(rig) > connectionsBefore, "the first reconnect", {
          timeoutMs: 15_000,
        });
        baseline = await handles(rig);
      }
    }
    await feeder.stop();
    // The broker is up: wait until everything written has arrived and the link is quiet.
    await waitUntil(() => tally.onTopic(SENSOR_DATA) >= feeder.sent, "every sample at the subscriber", {
      timeoutMs: 120_000,
      intervalMs: 250,
    });
    await sleep(1_000);
    const end = await handles(rig);

    const stats = await stopAndReadStats(rig);
    const head = Number(stats.lastSeq);
    const acked = Number(stats.ackedSeq);
    const finalMetrics = metricsLines(daemon).at(-1);
    const reconnects = figure(finalMetrics, "uplink", "reconnects");
    const unpublished = entriesAfter(rig, acked, head);
    const summary = tally.summary();
    const output = `${daemon.stderr}\n${daemon.lines.map((line) => JSON.stringify(line)).join("\n")}`;
    console.log(
      JSON.stringify({
        flapping: {
          seed: SEED,
          scheduleMs: schedule,
          brokerRestarts: Math.floor(schedule.length / 2),
          linesFed: feeder.sent,
          head,
          ackedAtStop: acked,
          unpublishedAtStop: unpublished.map((e) => ({ seq: e.seq, kind: e.kind })),
          reconnects,
          shed: figure(finalMetrics, "ledger", "shed"),
          duplicatesRisked: figure(finalMetrics, "uplink", "duplicatesRisked"),
          subscriber: summary,
          handlesAfterFirstReconnect: baseline,
          handlesAtEnd: end,
        },
      }),
    );

    if (baseline === undefined) {
      throw new Error("the broker never restarted");
    }
    expect(tally.errors).toEqual([]);
    expect(tally.onTopic(SENSOR_DATA)).toBe(feeder.sent);
    expect(figure(finalMetrics, "ledger", "shed")).toBe(0);
    expect(tally.missingExamples(acked)).toEqual([]);
    expect(unpublished.filter((e) => e.kind === "sample")).toEqual([]);
    expect(summary.outOfOrder, tally.outOfOrderExamples.join("\n")).toBe(0);
    expect(summary.gatewayResends).toBeLessThanOrEqual(rig.inflight * reconnects);
    expect(output).not.toContain("MaxListenersExceededWarning");
    expect(reconnects).toBeGreaterThanOrEqual(Math.floor(schedule.length / 2) - 1);
    expect(end.otherFds).toBeLessThanOrEqual(baseline.otherFds + HANDLE_TOLERANCE);
    expect(end.resources).toBeLessThanOrEqual(baseline.resources + HANDLE_TOLERANCE);
  });
});
