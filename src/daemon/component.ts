/**
 * The component contract (STYLE.md, after zigbee2mqtt's Extension): constructors take their
 * config and collaborators and do no I/O; start() does the I/O and honours its abort signal;
 * stop() releases everything start() acquired and may be called after a failed or aborted start.
 */
import type { Clock } from "../clock.js";
import type { Logger } from "../observability/logger.js";
import type { EventSink } from "../records.js";
import type { Heartbeat } from "./liveness.js";

export interface Component {
  readonly name: string;
  /** Resolve once running. Reject with the signal's reason if the signal aborts first. */
  start(signal: AbortSignal): Promise<void>;
  /**
   * `budgetMs`: this step's share of gateway.stopTimeout (componentSet.ts), for a component that
   * may spend time on purpose, like the forwarder's drain (issue #7); absent outside a daemon stop.
   */
  stop(budgetMs?: number): Promise<void>;
}

/** What the composition root hands a component factory. */
export interface ComponentContext {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly events: EventSink;
  /** Register a liveness heartbeat: the watchdog pings systemd only while every heartbeat is fresh. */
  heartbeat(name: string, maxSilenceMs: number): Heartbeat;
  /** A short status fragment for systemd's STATUS= line, e.g. "cpu 12% mem 41%". */
  setStatus(fragment: string): void;
  /**
   * The running component of spec `id`, which must be listed in this spec's dependsOn (so a
   * reload that replaces it replaces this one too, and this one never holds a stopped instance).
   * Throws otherwise: a wiring mistake, found at the first start.
   */
  dependency<T extends Component>(id: string): T;
}

/**
 * A component to build. Specs are compared across reloads: a component whose `configKey` and
 * dependencies are unchanged keeps running; otherwise it is rebuilt (issue #2, SIGHUP).
 */
export interface ComponentSpec {
  /** Stable identity across reloads, e.g. "instance-lock", "self-health". */
  readonly id: string;
  /** Canonical JSON of the config the component was built from. */
  readonly configKey: string;
  /** Ids of components this one uses; rebuilding one of them rebuilds this one. */
  readonly dependsOn: readonly string[];
  create(context: ComponentContext): Component;
}

/** JSON with sorted keys, so that equal configs give equal keys. */
export function canonicalKey(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : typeof inner === "bigint"
        ? inner.toString()
        : inner,
  );
}

/** Rejects with the signal's reason when it aborts; for awaiting slow start-up steps. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** A delay that ends early, rejecting, when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) {
    return Promise.reject(signal.reason);
  }
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
