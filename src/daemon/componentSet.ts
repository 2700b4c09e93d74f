/**
 * The running components, in start order. Starts them one by one (abortable between and during
 * steps), stops them in reverse order within a time budget, and on reload replaces only those
 * whose config or dependencies changed (issue #2).
 */
import type { Logger } from "../observability/logger.js";
import type { Component, ComponentContext, ComponentSpec } from "./component.js";

interface Running {
  readonly spec: ComponentSpec;
  readonly component: Component;
}

export interface StopReport {
  /** Components whose stop threw or overran its share of the budget. */
  readonly failed: readonly { readonly name: string; readonly reason: string }[];
}

/** Time kept back for each later step when a step is given its stop budget. */
const STOP_RESERVE_PER_STEP_MS = 500;

export class StartAbortedError extends Error {
  constructor(readonly reason: unknown) {
    super(`start-up aborted: ${String(reason instanceof Error ? reason.message : reason)}`);
    this.name = "StartAbortedError";
  }
}

export class ComponentSet {
  readonly #makeContext: (spec: ComponentSpec) => ComponentContext;
  readonly #logger: Logger;
  #running: Running[] = [];

  constructor(makeContext: (spec: ComponentSpec) => ComponentContext, logger: Logger) {
    this.#makeContext = makeContext;
    this.#logger = logger;
  }

  get names(): readonly string[] {
    return this.#running.map((entry) => entry.component.name);
  }

  /** The running component of spec `id`, if any. */
  find(id: string): Component | undefined {
    return this.#running.find((entry) => entry.spec.id === id)?.component;
  }

  get specs(): readonly ComponentSpec[] {
    return this.#running.map((entry) => entry.spec);
  }

  /**
   * Builds and starts `specs` in order after what is already running. On failure or abort the
   * components this call started are stopped again (reverse order) before the error is thrown,
   * so the set is as it was.
   */
  async start(specs: readonly ComponentSpec[], signal: AbortSignal, stopBudgetMs: number): Promise<void> {
    const started: Running[] = [];
    try {
      for (const spec of specs) {
        if (signal.aborted) {
          throw new StartAbortedError(signal.reason);
        }
        const component = spec.create(this.#makeContext(spec));
        this.#logger.debug({ component: component.name }, "starting");
        try {
          await component.start(signal);
        } catch (error) {
          // A half-started component still gets stop() to release what it took.
          await this.#stopOne({ spec, component }, stopBudgetMs).catch(() => undefined);
          throw signal.aborted ? new StartAbortedError(signal.reason) : error;
        }
        // One object in both lists: the rollback below removes entries by identity.
        const entry = { spec, component };
        started.push(entry);
        this.#running.push(entry);
        this.#logger.info({ component: component.name }, "started");
      }
    } catch (error) {
      const rollback = started.reverse();
      this.#running = this.#running.filter((entry) => !rollback.includes(entry));
      await this.#stopAll(rollback, stopBudgetMs);
      throw error;
    }
  }

  /** Stops everything in reverse start order; each step gets what is left of the budget. */
  stopAll(budgetMs: number): Promise<StopReport> {
    const entries = [...this.#running].reverse();
    this.#running = [];
    return this.#stopAll(entries, budgetMs);
  }

  /**
   * Which running components a new plan keeps, and which it replaces: a component is kept when
   * its id, config key and dependencies are unchanged and none of its dependencies is replaced.
   */
  diff(next: readonly ComponentSpec[]): {
    keep: Set<string>;
    replace: ComponentSpec[];
    remove: ComponentSpec[];
  } {
    const current = new Map(this.#running.map((entry) => [entry.spec.id, entry.spec]));
    const keep = new Set<string>();
    for (const spec of next) {
      const old = current.get(spec.id);
      const same =
        old !== undefined &&
        old.configKey === spec.configKey &&
        old.dependsOn.join("\0") === spec.dependsOn.join("\0") &&
        spec.dependsOn.every((dependency) => keep.has(dependency));
      if (same) {
        keep.add(spec.id);
      }
    }
    const nextIds = new Set(next.map((spec) => spec.id));
    return {
      keep,
      replace: next.filter((spec) => !keep.has(spec.id)),
      remove: this.specs.filter((spec) => !nextIds.has(spec.id) || !keep.has(spec.id)),
    };
  }

  /** Stops the components `diff` says go, in reverse order; returns what failed to stop. */
  stopOnly(ids: ReadonlySet<string>, budgetMs: number): Promise<StopReport> {
    const going = this.#running.filter((entry) => ids.has(entry.spec.id)).reverse();
    this.#running = this.#running.filter((entry) => !ids.has(entry.spec.id));
    return this.#stopAll(going, budgetMs);
  }

  /** Brings running order back to plan order after a partial replace. */
  reorder(plan: readonly ComponentSpec[]): void {
    const rank = new Map(plan.map((spec, index) => [spec.id, index]));
    this.#running.sort((a, b) => (rank.get(a.spec.id) ?? 0) - (rank.get(b.spec.id) ?? 0));
  }

  async #stopAll(entries: readonly Running[], budgetMs: number): Promise<StopReport> {
    const deadline = performance.now() + budgetMs;
    const failed: { name: string; reason: string }[] = [];
    for (const [index, entry] of entries.entries()) {
      const left = Math.max(0, deadline - performance.now());
      // Hold back a share for the steps still to come, so that one hung component cannot leave
      // the others (the instance lock, the ledger's last flush) with no time at all.
      const reserve = Math.min(STOP_RESERVE_PER_STEP_MS * (entries.length - index - 1), left / 2);
      try {
        await this.#stopOne(entry, left - reserve);
        this.#logger.info({ component: entry.component.name }, "stopped");
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        failed.push({ name: entry.component.name, reason });
        this.#logger.error({ component: entry.component.name, err: error }, "stop failed");
      }
    }
    return { failed };
  }

  #stopOne(entry: Running, budgetMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`did not stop within ${Math.round(budgetMs)} ms`)),
        Math.max(1, budgetMs),
      );
      entry.component.stop(budgetMs).then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }
}
