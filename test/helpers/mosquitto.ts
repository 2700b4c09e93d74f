/**
 * A real mosquitto 2.x broker for a test (issue #5): `mosquitto -c CONF` in a temp dir, on a free
 * port of 127.0.0.1, without persistence. stop() ends it by pid (SIGTERM, or SIGKILL for a crash)
 * and waits for the exit; start() again brings it back on the SAME port (a broker restart). The
 * system's mosquitto on 1883 is never touched. kill() is what Resources calls at the end of a test.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { join } from "node:path";
import { freeTcpPort } from "../../src/freePort.js";

export const MOSQUITTO = "/usr/sbin/mosquitto";

export interface MosquittoOptions {
  /** Directory for the config file (a test's temp dir). */
  readonly dir: string;
  /** Default: a free port. */
  readonly port?: number;
  /** Global lines, e.g. "max_packet_size 2000", "password_file /path", "acl_file /path". */
  readonly global?: readonly string[];
  /** Lines of the listener block, e.g. TLS: "cafile ...", "certfile ...", "require_certificate true". */
  readonly listener?: readonly string[];
  /** Default true; false when a password_file is given. */
  readonly allowAnonymous?: boolean;
  readonly readyTimeoutMs?: number;
}

/** A port nothing listens on right now, on loopback. */
export const freePort = (): Promise<number> => freeTcpPort();

export class Mosquitto {
  readonly port: number;
  readonly configPath: string;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #log = "";
  readonly #readyTimeoutMs: number;

  private constructor(port: number, configPath: string, readyTimeoutMs: number) {
    this.port = port;
    this.configPath = configPath;
    this.#readyTimeoutMs = readyTimeoutMs;
  }

  static async start(options: MosquittoOptions): Promise<Mosquitto> {
    const port = options.port ?? (await freePort());
    const configPath = join(options.dir, `mosquitto-${port}.conf`);
    const lines = [
      "persistence false",
      // Run as root, mosquitto would switch to user "mosquitto", who cannot read a test's 0700 temp dir.
      `user ${userInfo().username}`,
      "log_dest stderr",
      "log_type error",
      "log_type warning",
      "log_type notice",
      "log_type information",
      "per_listener_settings false",
      `allow_anonymous ${options.allowAnonymous ?? true}`,
      // MQTT 5 Receive Maximum is this value; mosquitto's default of 20 would cap our window.
      "max_inflight_messages 1000",
      ...(options.global ?? []),
      `listener ${port} 127.0.0.1`,
      ...(options.listener ?? []),
      "",
    ];
    await writeFile(configPath, lines.join("\n"));
    const broker = new Mosquitto(port, configPath, options.readyTimeoutMs ?? 10_000);
    await broker.start();
    return broker;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Everything mosquitto logged, over all its runs. */
  log(): string {
    return this.#log;
  }

  /** (Re)starts on the same port; resolves once it listens. */
  async start(): Promise<void> {
    if (this.#child !== undefined) {
      throw new Error("mosquitto is already running");
    }
    const child = spawn(MOSQUITTO, ["-c", this.configPath], { stdio: ["ignore", "ignore", "pipe"] });
    this.#child = child;
    this.#exited = new Promise<void>((resolve) => {
      child.once("exit", () => {
        if (this.#child === child) {
          this.#child = undefined;
        }
        resolve();
      });
    });
    const stderr = child.stderr;
    if (stderr === null) {
      throw new Error("mosquitto: no stderr pipe");
    }
    stderr.setEncoding("utf8");
    const from = this.#log.length;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error("not running in time")), this.#readyTimeoutMs);
      const onData = (chunk: string): void => {
        this.#log += chunk;
        if (/mosquitto version \S+ running/.test(this.#log.slice(from))) {
          finish();
        }
      };
      const onExit = (): void => finish(new Error("exited before listening"));
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        child.off("exit", onExit);
        if (error === undefined) {
          resolve();
        } else {
          child.kill("SIGKILL");
          reject(new Error(`mosquitto on port ${this.port}: ${error.message}\n${this.#log.slice(from)}`));
        }
      };
      stderr.on("data", onData);
      child.once("exit", onExit);
    });
  }

  /**
   * SIGTERM: a clean broker stop; SIGKILL: a crash. Resolves once the process has exited.
   * mosquitto 2.0 loses a SIGTERM that arrives just after it logged "running" (its main loop then
   * sets its run flag again), so the signal is repeated until it exits, then SIGKILL after 5 s.
   */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.#child;
    if (child === undefined) {
      return;
    }
    let sent = 0;
    const send = () => {
      sent++;
      child.kill(sent > 10 ? "SIGKILL" : signal);
    };
    send();
    const repeat = setInterval(send, 500);
    await this.#exited;
    clearInterval(repeat);
  }

  /** Reloads the config's password and ACL files (mosquitto's SIGHUP). */
  reload(): void {
    this.#child?.kill("SIGHUP");
  }

  async kill(): Promise<void> {
    await this.stop("SIGKILL");
  }
}
