/**
 * A fake systemd NOTIFY_SOCKET: a real unix datagram socket bound by a small python helper
 * (Node cannot create AF_UNIX datagram sockets), printing each datagram as a JSON line.
 */
import { LineChild, type WaitOptions } from "./lineChild.js";
import { fixturePath } from "./paths.js";
import type { Resources } from "./resources.js";

export const PYTHON = "/usr/bin/python3";

export class NotifyListener {
  /** What to put in NOTIFY_SOCKET: a path, or "@name" for the abstract namespace. */
  readonly address: string;
  readonly #child: LineChild;

  private constructor(address: string, child: LineChild) {
    this.address = address;
    this.#child = child;
  }

  /** Binds `address` and resolves once the socket is bound. */
  static async start(resources: Resources, address: string): Promise<NotifyListener> {
    const child = resources.track(
      new LineChild("notify-listener", PYTHON, [fixturePath("notify-listener.py"), address], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      }),
    );
    await child.waitFor((line) => line.listening === address, "the notify socket to be bound", {
      timeoutMs: 10_000,
    });
    return new NotifyListener(address, child);
  }

  /** Every datagram received so far, in order. */
  get datagrams(): string[] {
    return this.#child.lines.flatMap((line) => (typeof line.datagram === "string" ? [line.datagram] : []));
  }

  /** Index (into `datagrams`) of the first datagram at or after `from` that matches. */
  indexOf(predicate: (datagram: string) => boolean, from = 0): number {
    return this.datagrams.findIndex((datagram, index) => index >= from && predicate(datagram));
  }

  count(predicate: (datagram: string) => boolean, from = 0): number {
    return this.datagrams.slice(from).filter(predicate).length;
  }

  /** Resolves with the datagram index of the first match at or after options.from. */
  async waitFor(
    predicate: (datagram: string) => boolean,
    description: string,
    options: WaitOptions = {},
  ): Promise<number> {
    const from = options.from ?? 0;
    await this.#child.waitFor(
      () => this.indexOf(predicate, from) >= 0,
      `datagram: ${description}`,
      options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs },
    );
    return this.indexOf(predicate, from);
  }

  async waitForCount(
    predicate: (datagram: string) => boolean,
    count: number,
    description: string,
    options: WaitOptions = {},
  ): Promise<void> {
    const from = options.from ?? 0;
    await this.#child.waitFor(
      () => this.count(predicate, from) >= count,
      `${count} datagram(s): ${description}`,
      options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs },
    );
  }

  describe(): string {
    return this.#child.describe();
  }
}

/** Datagram predicates. */
export const isReady = (datagram: string): boolean => datagram.split("\n").includes("READY=1");
export const isWatchdog = (datagram: string): boolean => datagram === "WATCHDOG=1";
export const isStopping = (datagram: string): boolean => datagram.split("\n").includes("STOPPING=1");
export const isReloading = (datagram: string): boolean => datagram.split("\n").includes("RELOADING=1");
