/**
 * sd_notify(3) without a native addon (issue #2). Node cannot open AF_UNIX datagram sockets, so a
 * small long-lived helper does the sendmsg(): perl with its core Socket module, which Debian and
 * Raspberry Pi OS always have (perl-base is Essential). Being long-lived matters: a one-shot
 * `systemd-notify` may exit before systemd reads its datagram, and systemd then cannot tell which
 * unit it came from and drops it ("Cannot find unit for notify message"), so WATCHDOG=1 pings
 * would be lost at random. The helper lives in our cgroup; the unit sets NotifyAccess=all.
 * Without perl we fall back to `systemd-notify` per message, and without both we log once and
 * carry on: a missing ping makes systemd restart us, which is loud, not silent.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import type { Logger } from "../observability/logger.js";

export interface Notifier {
  /** True when NOTIFY_SOCKET is set, i.e. systemd (or a test) listens. */
  readonly enabled: boolean;
  /** Watchdog interval systemd asked for (WATCHDOG_USEC), if any and meant for this process. */
  readonly watchdogMs: number | undefined;
  /** Sends one message of KEY=VALUE lines; never throws. */
  notify(fields: Readonly<Record<string, string | number>>): void;
  close(): Promise<void>;
}

/**
 * Messages go to the helper hex-encoded, one per line: a STATUS text may hold any byte, and hex
 * needs no escaping rules on either side. The helper ignores SIGTERM/SIGINT/SIGHUP so that a
 * KillMode=control-group stop or a Ctrl-C to the process group does not take it away while we
 * still want to send STOPPING=1; it exits when our end of its stdin closes.
 */
const PERL_HELPER = String.raw`
use strict; use warnings; use Socket;
$SIG{TERM} = $SIG{INT} = $SIG{HUP} = 'IGNORE';
my $path = $ENV{NOTIFY_SOCKET} // die "NOTIFY_SOCKET unset\n";
$path =~ s/^@/\0/;
socket(my $sock, AF_UNIX, SOCK_DGRAM, 0) or die "socket: $!\n";
my $addr = pack_sockaddr_un($path);
while (my $line = <STDIN>) {
  chomp $line;
  next if $line eq '';
  send($sock, pack('H*', $line), 0, $addr) or print STDERR "send: $!\n";
}
`;

export function formatNotifyMessage(fields: Readonly<Record<string, string | number>>): string {
  return Object.entries(fields)
    .map(([key, value]) => `${key}=${String(value).replace(/\n/g, " ")}`)
    .join("\n");
}

export function createNotifier(env: Readonly<Record<string, string | undefined>>, logger: Logger): Notifier {
  const socket = env.NOTIFY_SOCKET;
  const watchdogMs = watchdogInterval(env);
  if (socket === undefined || socket === "") {
    return { enabled: false, watchdogMs, notify: () => {}, close: () => Promise.resolve() };
  }
  return new HelperNotifier(socket, watchdogMs, logger);
}

/** WATCHDOG_USEC applies to us only if WATCHDOG_PID is unset or is our pid (sd_watchdog_enabled(3)). */
function watchdogInterval(env: Readonly<Record<string, string | undefined>>): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) {
    return undefined;
  }
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== process.pid) {
    return undefined;
  }
  return usec / 1000;
}

class HelperNotifier implements Notifier {
  readonly enabled = true;
  readonly watchdogMs: number | undefined;
  readonly #socket: string;
  readonly #logger: Logger;
  #helper: ChildProcess | undefined;
  #mode: "perl" | "systemd-notify" | "none" | undefined;
  #restarts = 0;

  constructor(socket: string, watchdogMs: number | undefined, logger: Logger) {
    this.#socket = socket;
    this.watchdogMs = watchdogMs;
    this.#logger = logger;
  }

  notify(fields: Readonly<Record<string, string | number>>): void {
    if (this.#closing) {
      return; // after close(): a late STATUS must not start a new helper
    }
    const message = formatNotifyMessage(fields);
    try {
      this.#send(message);
    } catch (error) {
      this.#logger.warn(
        { err: error, component: "systemd-notify" },
        "could not send a notification to systemd",
      );
    }
  }

  #send(message: string): void {
    const mode = this.#mode ?? this.#chooseMode();
    this.#mode = mode;
    switch (mode) {
      case "perl": {
        const helper = this.#ensureHelper();
        helper?.stdin?.write(`${Buffer.from(message).toString("hex")}\n`);
        return;
      }
      case "systemd-notify": {
        const child = spawn("systemd-notify", [`--pid=${process.pid}`, ...message.split("\n")], {
          stdio: "ignore",
          env: { ...process.env, NOTIFY_SOCKET: this.#socket },
        });
        child.on("error", (error) => this.#logger.warn({ err: error }, "systemd-notify failed"));
        return;
      }
      case "none":
        return;
    }
  }

  #chooseMode(): "perl" | "systemd-notify" | "none" {
    if (spawnSync("perl", ["-MSocket", "-e", "1"], { stdio: "ignore" }).status === 0) {
      return "perl";
    }
    if (spawnSync("systemd-notify", ["--help"], { stdio: "ignore" }).status === 0) {
      this.#logger.warn(
        "perl with Socket not found; using systemd-notify, whose messages systemd may drop under load",
      );
      return "systemd-notify";
    }
    this.#logger.error(
      "NOTIFY_SOCKET is set but neither perl nor systemd-notify is available; systemd will not see READY=1",
    );
    return "none";
  }

  #ensureHelper(): ChildProcess | undefined {
    if (this.#helper !== undefined && this.#helper.exitCode === null && this.#helper.signalCode === null) {
      return this.#helper;
    }
    if (this.#restarts >= 5) {
      return undefined; // logged when it happened; a dead helper must not fork-loop
    }
    const helper = spawn("perl", ["-e", PERL_HELPER], {
      stdio: ["pipe", "ignore", "pipe"],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NOTIFY_SOCKET: this.#socket },
    });
    helper.stdin.on("error", () => {}); // EPIPE after the helper died: reported by 'exit'
    helper.stderr.setEncoding("utf8");
    helper.stderr.on("data", (text: string) =>
      this.#logger.warn({ helper: text.trim() }, "systemd notify helper"),
    );
    helper.on("error", (error) => this.#logger.warn({ err: error }, "systemd notify helper failed to start"));
    helper.on("exit", (code, signal) => {
      if (this.#helper === helper && !this.#closing) {
        this.#restarts++;
        this.#logger.warn({ code, signal, restarts: this.#restarts }, "systemd notify helper exited");
      }
    });
    // Never let the helper keep the event loop, and hence the daemon, alive.
    helper.unref();
    (helper.stdin as unknown as { unref?: () => void }).unref?.();
    (helper.stderr as unknown as { unref?: () => void }).unref?.();
    this.#helper = helper;
    return helper;
  }

  #closing = false;

  /** Flushes what was written and lets the helper exit on end of input. */
  close(): Promise<void> {
    this.#closing = true;
    const helper = this.#helper;
    if (helper === undefined || helper.exitCode !== null || helper.signalCode !== null) {
      return Promise.resolve();
    }
    // Hold the event loop while the helper drains: it was unref'd so as not to keep us alive.
    helper.ref();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        helper.kill("SIGKILL");
        resolve();
      }, 2000);
      timer.unref();
      helper.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      helper.stdin?.end();
    });
  }
}
