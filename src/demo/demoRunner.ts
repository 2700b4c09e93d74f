/**
 * `edgewarden demo` (issue #7 item 4): with nothing beyond `npm install`, starts an embedded MQTT
 * broker, the plant simulator, a receiver and the daemon, shows them working, injects a fault
 * after about 20 s so that an anomaly appears, and stops everything in reverse order on Ctrl-C,
 * SIGTERM or the end of --duration.
 *
 * Order: temp dir and key -> broker -> simulator (in-process, control interface on loopback) ->
 * config with the free ports -> models trained on a simulated day (demoModels.ts) -> receiver
 * (subscribed before the daemon publishes its first record) -> daemon (child process) -> live
 * view. Each started part is pushed on a stack that is unwound in reverse, each step caught, so a
 * failure half-way through stops what did start and removes the temp dir.
 *
 * Exit: 0 after a requested stop (signal or --duration); 1 when a part failed or the daemon died,
 * with the tail of the daemon's log.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { systemClock } from "../clock.js";
import { freeTcpPort } from "../freePort.js";
import type { StatusDocument } from "../observability/statusReport.js";
import type { ReceiverOutcome } from "../receiver/index.js";
import { loadPlantFile } from "../simulator/loadPlant.js";
import { Simulator } from "../simulator/simulator.js";
import { type DaemonExit, DaemonProcess } from "./daemonProcess.js";
import { trainDemoModels } from "./demoModels.js";
import { DemoReceiver } from "./demoReceiver.js";
import { DEMO_PLANT, DemoWorkspace } from "./demoWorkspace.js";
import { EmbeddedBroker } from "./embeddedBroker.js";
import { type LiveView, PlainView, ScreenView, statusLine } from "./liveView.js";

/** The injected fault: a step the drive's power profile types for certain (power far above its top band). */
export const DEMO_FAULT = { machine: "mill-drive", fault: "overload", durationS: 30 } as const;
/** Seconds after the daemon is up; long enough to see normal readings first. */
export const FAULT_AT_S = 20;

/** How long the daemon may take to serve GET /status after it was spawned. */
const READY_TIMEOUT_MS = 60_000;
/** The view's status poll. */
const STATUS_POLL_MS = 500;
/** After the daemon stops: the receiver has its last records once nothing arrived for this long. */
const DRAIN_QUIET_MS = 300;
const DRAIN_MAX_MS = 3_000;

export interface DemoOptions {
  /** Stop after this many seconds of running; undefined runs until a signal. */
  readonly durationS?: number | undefined;
  /** Keep the temp dir (config, key, ledger, daemon log) instead of removing it. */
  readonly keep: boolean;
  /** The simulator's noise seed; undefined: the plant file's. */
  readonly seed?: number | undefined;
  readonly out: NodeJS.WriteStream;
  readonly err: NodeJS.WriteStream;
  /** dist/cli.js, which the daemon child runs. */
  readonly cliPath: string;
  /** Aborted on SIGINT/SIGTERM: stop cleanly. */
  readonly stop: AbortSignal;
}

class DemoFailure extends Error {
  override readonly name = "DemoFailure";
}

interface Stoppable {
  readonly name: string;
  stop(): Promise<unknown>;
}

export function runDemo(options: DemoOptions): Promise<number> {
  return new DemoRun(options).run();
}

/** One run of the demo: the parts it started (a stack), what the view shows, and the fault's timing. */
class DemoRun {
  readonly #options: DemoOptions;
  readonly #view: LiveView;
  readonly #workspace = new DemoWorkspace();
  readonly #started: Stoppable[] = [];
  #receiver: DemoReceiver | undefined;
  #daemon: DaemonProcess | undefined;
  #lastStatus: StatusDocument | undefined;
  /** performance.now() at the injection, and how long its anomaly took to reach the receiver. */
  #injectedAt: number | undefined;
  #seenAfterS: number | undefined;

  constructor(options: DemoOptions) {
    this.#options = options;
    const { out } = options;
    this.#view = out.isTTY ? new ScreenView(out) : new PlainView((text) => out.write(text));
  }

  async run(): Promise<number> {
    const { stop, out, err } = this.#options;
    let failure: string | undefined;
    try {
      const live = await this.#start();
      await this.#runLive(live);
    } catch (error) {
      // Stopped while starting: the abort is the reason, not a failure.
      if (!stop.aborted || error instanceof DemoFailure) {
        failure = error instanceof Error ? error.message : String(error);
      }
    } finally {
      const stopFailure = await unwind(this.#started, this.#receiver);
      failure ??= stopFailure;
    }
    this.#view.finish(summaryLines(this.#view, this.#receiver, this.#lastStatus, this.#seenAfterS));
    if (failure !== undefined) {
      err.write(`edgewarden demo: ${failure}\n`);
      const tail = await this.#daemon?.logTail();
      if (tail !== undefined && tail !== "") {
        err.write(`last lines of the daemon's log (--keep keeps all of it):\n${tail}\n`);
      }
    }
    const kept = await this.#workspace.remove(this.#options.keep).catch(() => undefined);
    if (kept !== undefined) {
      out.write(`demo: kept ${kept} (demo.yaml, gateway.key, daemon.log, data/)\n`);
    }
    return failure === undefined ? 0 : 1;
  }

  /** Starts every part in order; returns what the live phase needs. */
  async #start(): Promise<{ statusUrl: string; controlPort: number }> {
    const { stop } = this.#options;
    const view = this.#view;
    const dir = await this.#workspace.create();
    view.note(`workspace ${dir} (a fresh gateway key, mode 0600)`);

    const plant = await loadPlantFile(DEMO_PLANT);
    if (!plant.ok) {
      throw new DemoFailure(`${DEMO_PLANT} is not a valid plant file`);
    }
    const seed = this.#options.seed;
    const spec = seed === undefined ? plant.plant : { ...plant.plant, seed };

    const broker = new EmbeddedBroker();
    const brokerUrl = await broker.start();
    this.#started.push({ name: "broker", stop: () => broker.stop() });
    view.note(`embedded MQTT broker (aedes, MQTT 3.1.1) on ${brokerUrl}`);

    // A free port found first: modbus-serial's ServerTCP takes port 0 for its default, 502.
    const simulator = new Simulator(spec, {
      modbusHost: "127.0.0.1",
      modbusPort: await freeTcpPort(),
      controlPort: 0,
      clock: systemClock,
    });
    const ports = await simulator.start();
    this.#started.push({ name: "simulator", stop: () => simulator.stop() });
    view.note(`plant simulator (seed ${spec.seed}): Modbus TCP on 127.0.0.1:${ports.modbus}`);

    const statusPort = await freeTcpPort();
    const { config, configPath } = await this.#workspace.writeConfig({
      brokerUrl,
      modbusPort: ports.modbus,
      statusPort,
    });
    stop.throwIfAborted();

    view.note("training the drive's power profile on a simulated day ...");
    for (const model of await trainDemoModels(config, spec, Date.now())) {
      view.note(`${model.device} ${model.kind}: ${model.summary}`);
      if (!model.ok) {
        throw new DemoFailure(`the ${model.kind} of ${model.device} could not be trained: ${model.summary}`);
      }
    }
    stop.throwIfAborted();

    if (config.uplink === undefined) {
      throw new DemoFailure("the demo config has no uplink section");
    }
    const receiver = new DemoReceiver({
      url: brokerUrl,
      topics: config.uplink.topics,
      gateway: config.gateway.id,
      key: this.#workspace.key,
      onOutcome: (outcome) => this.#outcome(outcome),
    });
    this.#receiver = receiver;
    await receiver.start();
    this.#started.push({ name: "receiver", stop: () => receiver.stop() });

    const daemon = new DaemonProcess(this.#options.cliPath, configPath, this.#workspace.daemonLogPath);
    this.#daemon = daemon;
    const pid = await daemon.start();
    this.#started.push({ name: "daemon", stop: () => daemon.stop(config.gateway.stopTimeout + 5_000) });
    view.note(`daemon started: node ${this.#options.cliPath} run -c ${configPath} (pid ${pid})`);

    const statusUrl = `http://127.0.0.1:${statusPort}/status`;
    this.#lastStatus = await waitForStatus(statusUrl, daemon, stop);
    stop.throwIfAborted();
    view.begin({
      gateway: config.gateway.id,
      site: config.gateway.site,
      brokerUrl,
      modbusPort: ports.modbus,
      daemonPid: pid,
      workspace: dir,
    });
    return { statusUrl, controlPort: ports.control ?? 0 };
  }

  /** Until a stop signal, --duration or the daemon's death: status polls, and the fault at FAULT_AT_S. */
  async #runLive({ statusUrl, controlPort }: { statusUrl: string; controlPort: number }): Promise<void> {
    const { stop, durationS } = this.#options;
    const daemon = this.#daemon as DaemonProcess;
    const t0 = performance.now();
    const endAt = durationS === undefined ? Number.POSITIVE_INFINITY : t0 + durationS * 1_000;
    const faultAt = t0 + FAULT_AT_S * 1_000;
    const faultName = `${DEMO_FAULT.fault} on ${DEMO_FAULT.machine}`;
    while (!stop.aborted && daemon.exit === undefined && performance.now() < endAt) {
      const now = performance.now();
      if (this.#injectedAt === undefined && now >= faultAt) {
        await injectFault(controlPort);
        this.#injectedAt = performance.now();
        this.#view.note(
          `fault injected through the simulator's control interface: ${faultName} for ${DEMO_FAULT.durationS} s`,
        );
      }
      const seen =
        this.#seenAfterS === undefined ? "" : `; its anomaly arrived after ${this.#seenAfterS.toFixed(1)} s`;
      this.#view.fault(
        this.#injectedAt === undefined
          ? `${faultName} in ${Math.ceil((faultAt - now) / 1_000)} s`
          : `${faultName} injected ${Math.round((now - this.#injectedAt) / 1_000)} s ago for ${DEMO_FAULT.durationS} s${seen}`,
      );
      const doc = await fetchStatus(statusUrl);
      if (doc !== undefined) {
        this.#lastStatus = doc;
        this.#view.status(doc);
      }
      await pause(Math.min(STATUS_POLL_MS, endAt - performance.now()), stop, daemon);
    }
    if (daemon.exit !== undefined && !stop.aborted) {
      throw new DemoFailure(`the daemon exited unexpectedly (${exitText(daemon.exit)})`);
    }
    this.#view.note(stop.aborted ? "stopping (signal)" : `stopping (--duration ${durationS} s)`);
  }

  #outcome(outcome: ReceiverOutcome): void {
    this.#view.outcome(outcome);
    if (
      this.#injectedAt !== undefined &&
      this.#seenAfterS === undefined &&
      outcome.type === "accepted" &&
      outcome.body.kind === "anomaly" &&
      outcome.body.anomaly.type === DEMO_FAULT.fault
    ) {
      this.#seenAfterS = (performance.now() - this.#injectedAt) / 1_000;
    }
  }
}

/** Stops what started, in reverse; the receiver drains after the daemon stopped. Returns a failure, if any. */
async function unwind(started: Stoppable[], receiver: DemoReceiver | undefined): Promise<string | undefined> {
  let failure: string | undefined;
  for (const part of started.reverse()) {
    try {
      if (part.name === "receiver" && receiver !== undefined) {
        await drain(receiver);
      }
      const result = await part.stop();
      if (part.name === "daemon" && isExit(result) && result.code !== 0) {
        failure ??= `the daemon did not stop cleanly (${exitText(result)})`;
      }
    } catch (error) {
      failure ??= `stopping the ${part.name} failed: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  return failure;
}

/** Waits until the receiver has had nothing new for DRAIN_QUIET_MS (at most DRAIN_MAX_MS). */
async function drain(receiver: DemoReceiver): Promise<void> {
  const deadline = performance.now() + DRAIN_MAX_MS;
  let seen = -1;
  while (receiver.counters.messages !== seen && performance.now() < deadline) {
    seen = receiver.counters.messages;
    await sleep(DRAIN_QUIET_MS);
  }
}

function isExit(value: unknown): value is DaemonExit {
  return typeof value === "object" && value !== null && "code" in value && "signal" in value;
}

function exitText(exit: DaemonExit): string {
  return exit.signal === null ? `exit code ${exit.code}` : `killed by ${exit.signal}`;
}

/** GET /status until it answers; undefined when the stop signal came first; throws when the daemon died. */
async function waitForStatus(
  url: string,
  child: DaemonProcess,
  stop: AbortSignal,
): Promise<StatusDocument | undefined> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (!stop.aborted) {
    if (child.exit !== undefined) {
      throw new DemoFailure(`the daemon exited while starting (${exitText(child.exit)})`);
    }
    const doc = await fetchStatus(url);
    if (doc !== undefined) {
      return doc;
    }
    if (performance.now() > deadline) {
      throw new DemoFailure(`the daemon did not serve ${url} within ${READY_TIMEOUT_MS / 1_000} s`);
    }
    await pause(200, stop, child);
  }
  return undefined;
}

async function fetchStatus(url: string): Promise<StatusDocument | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? ((await response.json()) as StatusDocument) : undefined;
  } catch {
    return undefined;
  }
}

/** Sleeps ms, waking early on the stop signal or the daemon's exit. */
async function pause(ms: number, stop: AbortSignal, child: DaemonProcess): Promise<void> {
  if (ms <= 0) {
    return;
  }
  await Promise.race([sleep(ms, undefined, { signal: stop }).catch(() => undefined), child.exited]);
}

async function injectFault(controlPort: number): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${controlPort}/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(DEMO_FAULT),
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) {
    throw new DemoFailure(
      `the simulator refused the fault: HTTP ${response.status} ${await response.text()}`,
    );
  }
}

function summaryLines(
  view: LiveView,
  receiver: DemoReceiver | undefined,
  status: StatusDocument | undefined,
  seenAfterS: number | undefined,
): string[] {
  const { counts } = view.tally;
  const verified = receiver?.counters.checkpointVerified ?? 0;
  return [
    `receiver: ${counts.records} records opened and verified (${counts.readings} readings, ${counts.anomalyRecords} anomaly records, ${counts.events} events, ${counts.checkpoints} checkpoints, ${verified} checkpoint MACs verified); ${counts.rejected} rejected, ${counts.gaps} gaps, ${counts.tamper} tampered, ${counts.duplicates} duplicates; ${counts.health} health snapshots, ${receiver?.counters.status ?? 0} status messages`,
    `anomalies raised: ${view.tally.raisedText()}`,
    seenAfterS === undefined
      ? `injected fault: ${DEMO_FAULT.fault} on ${DEMO_FAULT.machine}: no ${DEMO_FAULT.fault} anomaly received`
      : `injected fault: ${DEMO_FAULT.fault} on ${DEMO_FAULT.machine}: its anomaly arrived ${seenAfterS.toFixed(1)} s after the injection`,
    `gateway: ${status === undefined ? "no status" : statusLine(status)}`,
  ];
}
