/**
 * The daemon's lifecycle (issue #2): abortable start-up, READY/STATUS/WATCHDOG/STOPPING for
 * systemd, bounded reverse-order stop whose failures set the exit code, and SIGHUP reloads that
 * keep the running config when the new one is bad.
 */
import type { Clock } from "../clock.js";
import type { Config } from "../config/schema/index.js";
import type { DaemonLogger } from "../observability/logger.js";
import type { EventSink } from "../records.js";
import { ANALYTICS_ID } from "./analyticsSpecs.js";
import type { Component, ComponentContext, ComponentSpec } from "./component.js";
import { ComponentSet, StartAbortedError } from "./componentSet.js";
import { LivenessMonitor } from "./liveness.js";
import type { Notifier } from "./systemdNotify.js";

export type ReloadOutcome =
  | { readonly ok: true; readonly config: Config; readonly sha256: string }
  | { readonly ok: false; readonly errors: readonly string[] };

export interface DaemonOptions {
  readonly config: Config;
  readonly configSha256: string;
  /** Reads and fully validates the config file again (schema, run-time support, files). */
  readonly reloadConfig: () => Promise<ReloadOutcome>;
  /** The composition root: which components this config needs, in start order. */
  readonly plan: (config: Config) => ComponentSpec[];
  readonly logger: DaemonLogger;
  readonly notifier: Notifier;
  readonly clock: Clock;
  readonly events: EventSink;
}

/** Exit codes of `run` (DESIGN.md, CLI surface). */
export const EXIT_OK = 0;
export const EXIT_FATAL = 1;

type State = "idle" | "starting" | "running" | "stopping" | "stopped";

export class Daemon {
  readonly #options: DaemonOptions;
  readonly #liveness: LivenessMonitor;
  readonly #components: ComponentSet;
  readonly #statusFragments = new Map<string, string>();
  #config: Config;
  #configSha256: string;
  #state: State = "idle";
  #startController = new AbortController();
  #stopRequested: (() => void) | undefined;
  #stopSignals = 0;
  #reloading: Promise<void> | undefined;
  #reloadAgain = false;
  #watchdogTimer: NodeJS.Timeout | undefined;
  #lastStatus = "";

  constructor(options: DaemonOptions) {
    this.#options = options;
    this.#config = options.config;
    this.#configSha256 = options.configSha256;
    this.#liveness = new LivenessMonitor(options.clock);
    this.#components = new ComponentSet((spec) => this.#context(spec), options.logger);
  }

  get state(): State {
    return this.#state;
  }

  get components(): readonly string[] {
    return this.#components.names;
  }

  /** Runs until stopped; resolves with the process exit code. */
  async run(): Promise<number> {
    const { logger, notifier } = this.#options;
    const stopped = new Promise<void>((resolve) => {
      this.#stopRequested = resolve;
    });
    this.#state = "starting";
    this.#startWatchdog();
    const startTimeout = AbortSignal.timeout(this.#config.gateway.startTimeout);
    const signal = AbortSignal.any([this.#startController.signal, startTimeout]);
    try {
      await this.#components.start(
        this.#options.plan(this.#config),
        signal,
        this.#config.gateway.stopTimeout,
      );
    } catch (error) {
      const aborted = error instanceof StartAbortedError && !startTimeout.aborted;
      if (aborted) {
        logger.info("start-up aborted by a stop request; everything started so far was stopped");
        return this.#finish(EXIT_OK);
      }
      const reason = startTimeout.aborted
        ? `start-up took longer than gateway.startTimeout (${this.#config.gateway.startTimeout} ms)`
        : undefined;
      logger.fatal({ err: error }, reason ?? "start-up failed");
      return this.#finish(EXIT_FATAL);
    }
    this.#state = "running";
    if (this.#stopSignals > 0) {
      // A component finished starting without noticing the abort: never announce READY.
      return this.#stop();
    }
    notifier.notify({ READY: 1, STATUS: this.#statusLine() });
    logger.info(
      { components: this.#components.names, configSha256: this.#configSha256 },
      "edgewarden running",
    );
    await stopped;
    return this.#stop();
  }

  /** SIGTERM / SIGINT. During start-up it aborts the start; a third request exits at once. */
  requestStop(reason: string): void {
    this.#stopSignals++;
    const { logger } = this.#options;
    if (this.#stopSignals === 3) {
      logger.error({ reason }, "third stop request: exiting without finishing the stop");
      process.exit(EXIT_FATAL);
    }
    if (this.#stopSignals > 1) {
      logger.warn({ reason }, "stop already in progress; a third request exits at once");
      return;
    }
    logger.info({ reason }, "stop requested");
    if (this.#state === "starting") {
      this.#startController.abort(new Error(`stop requested (${reason})`));
    }
    this.#stopRequested?.();
  }

  /**
   * SIGUSR2: retrain the analytics models now (issue #6 item 5), as the schedule would: off the
   * poll path, joined with a retrain already running. `train` cannot while the daemon holds the
   * ledger, so this is how a technician asks a running gateway to learn from new history.
   */
  requestRetrain(): void {
    const component = this.#state === "running" ? this.#components.find(ANALYTICS_ID) : undefined;
    if (component === undefined || !isRetrainable(component)) {
      this.#options.logger.warn({ state: this.#state }, "retrain ignored: no analytics running");
      return;
    }
    this.#options.logger.info("retrain requested (SIGUSR2)");
    component.retrain();
  }

  /** SIGHUP. Reloads are serialised; requests during a reload cause one more reload after it. */
  requestReload(): void {
    if (this.#state !== "running") {
      this.#options.logger.warn({ state: this.#state }, "reload ignored: the daemon is not running");
      return;
    }
    if (this.#reloading !== undefined) {
      this.#reloadAgain = true;
      return;
    }
    this.#reloading = this.#reloadLoop().finally(() => {
      this.#reloading = undefined;
    });
  }

  async #reloadLoop(): Promise<void> {
    do {
      this.#reloadAgain = false;
      await this.#reload();
    } while (this.#reloadAgain && this.#state === "running");
  }

  async #reload(): Promise<void> {
    const { logger, notifier, events } = this.#options;
    notifier.notify({
      RELOADING: 1,
      MONOTONIC_USEC: (process.hrtime.bigint() / 1000n).toString(),
      STATUS: "reloading configuration",
    });
    try {
      const outcome = await this.#options.reloadConfig();
      if (!outcome.ok) {
        for (const line of outcome.errors) {
          logger.error({ configError: line }, line);
        }
        events.emit({
          type: "config.reload_rejected",
          severity: "warning",
          message: `reload rejected: ${outcome.errors.length} error(s); the running configuration stays`,
          details: { errors: outcome.errors.slice(0, 50), runningSha256: this.#configSha256 },
        });
        return;
      }
      const changed = await this.#apply(outcome.config);
      const previous = this.#configSha256;
      this.#config = outcome.config;
      this.#configSha256 = outcome.sha256;
      events.emit({
        type: "config.reloaded",
        severity: "info",
        message:
          changed.length === 0
            ? "configuration reloaded; nothing changed"
            : `configuration reloaded; restarted ${changed.join(", ")}`,
        details: { previousSha256: previous, sha256: outcome.sha256, restarted: changed },
      });
    } catch (error) {
      logger.error({ err: error }, "reload failed; the previous configuration was restored");
      events.emit({
        type: "config.reload_failed",
        severity: "error",
        message: `reload failed: ${error instanceof Error ? error.message : String(error)}`,
        details: { runningSha256: this.#configSha256 },
      });
    } finally {
      if (this.#state === "running") {
        notifier.notify({ READY: 1, STATUS: this.#statusLine() });
      }
    }
  }

  /** Replaces the components the new config changes; on failure puts the old ones back. */
  async #apply(next: Config): Promise<string[]> {
    const budget = this.#config.gateway.stopTimeout;
    const oldPlan = this.#components.specs;
    const plan = this.#options.plan(next);
    const { replace, remove } = this.#components.diff(plan);
    const removedIds = new Set(remove.map((spec) => spec.id));
    const report = await this.#components.stopOnly(removedIds, budget);
    if (report.failed.length > 0) {
      this.#options.logger.warn(
        { failed: report.failed },
        "some components did not stop cleanly during reload",
      );
    }
    const controller = new AbortController();
    this.#reloadAbort = controller;
    // Bounded like a first start: a new data directory held by another instance must not leave
    // the daemon waiting forever with its old components already stopped.
    const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(next.gateway.startTimeout)]);
    try {
      await this.#components.start(replace, signal, budget);
      this.#components.reorder(plan);
      return replace.map((spec) => spec.id);
    } catch (error) {
      const restore = oldPlan.filter((spec) => removedIds.has(spec.id));
      await this.#components.start(restore, new AbortController().signal, budget);
      this.#components.reorder(oldPlan);
      throw error;
    } finally {
      this.#reloadAbort = undefined;
    }
  }

  #reloadAbort: AbortController | undefined;

  async #stop(): Promise<number> {
    const { logger, notifier } = this.#options;
    this.#state = "stopping";
    this.#reloadAbort?.abort(new Error("stopping"));
    await this.#reloading?.catch(() => undefined);
    const budget = this.#config.gateway.stopTimeout;
    // Ask systemd to wait for our own bounded stop even if its TimeoutStopSec is shorter.
    notifier.notify({ STOPPING: 1, STATUS: "stopping", EXTEND_TIMEOUT_USEC: (budget + 5000) * 1000 });
    const report = await this.#components.stopAll(budget);
    if (report.failed.length > 0) {
      logger.error({ failed: report.failed }, "stopped with errors");
      return this.#finish(EXIT_FATAL);
    }
    logger.info("stopped cleanly");
    return this.#finish(EXIT_OK);
  }

  async #finish(code: number): Promise<number> {
    this.#state = "stopped";
    if (this.#watchdogTimer !== undefined) {
      clearInterval(this.#watchdogTimer);
    }
    this.#options.notifier.notify({
      STOPPING: 1,
      STATUS: code === EXIT_OK ? "stopped" : "stopped with errors",
    });
    this.#options.logger.closeRepeats();
    await this.#options.notifier.close();
    return code;
  }

  /** Pings at half the interval systemd asked for, and only while every heartbeat is fresh. */
  #startWatchdog(): void {
    const interval = this.#options.notifier.watchdogMs;
    if (interval === undefined) {
      return;
    }
    const tick = () => {
      const report = this.#liveness.check();
      if (report.ok) {
        this.#options.notifier.notify({ WATCHDOG: 1 });
        return;
      }
      this.#options.logger.error(
        { stale: report.stale },
        "watchdog: a component shows no progress; withholding the ping",
      );
    };
    this.#watchdogTimer = setInterval(tick, Math.max(100, interval / 2));
    this.#watchdogTimer.unref();
    tick();
  }

  #context(spec: ComponentSpec): ComponentContext {
    const { logger, clock, events } = this.#options;
    return {
      logger: logger.child({ component: spec.id }),
      clock,
      events,
      heartbeat: (name, maxSilenceMs) => this.#liveness.register(`${spec.id}/${name}`, maxSilenceMs),
      dependency: <T extends Component>(id: string): T => {
        const found = spec.dependsOn.includes(id) ? this.#components.find(id) : undefined;
        if (found === undefined) {
          throw new Error(
            `component ${spec.id} asked for ${id}, which is ${spec.dependsOn.includes(id) ? "not running" : "not among its dependencies"}`,
          );
        }
        return found as T;
      },
      setStatus: (fragment) => {
        this.#statusFragments.set(spec.id, fragment);
        const previous = this.#lastStatus;
        const line = this.#statusLine();
        if (this.#state === "running" && line !== previous) {
          this.#options.notifier.notify({ STATUS: line });
        }
      },
    };
  }

  #statusLine(): string {
    const parts = [...this.#statusFragments.values()].filter((part) => part !== "");
    this.#lastStatus = [this.#state, ...parts].join("; ");
    return this.#lastStatus;
  }
}

function isRetrainable(component: object): component is { retrain(): void } {
  return "retrain" in component && typeof component.retrain === "function";
}
